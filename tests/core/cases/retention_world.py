"""A full case for the retention tests, built through the use cases: a confidential report
with a file, messages both ways (one with a file from the reporter), an internal note,
evidence with a file, an approved and a pending identity request, a decision, a corrective
action with a follow-up, two key epochs (a member excluded), closed. Plus helpers that dump
the database generically (every table of the metadata)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from core.cases import actions as case_actions
from core.cases import workflow
from core.cases.casework import post_reviewer_message, store_reviewer_file
from core.cases.content import Identity, ReportContent
from core.cases.evidence import add_evidence
from core.cases.identity_requests import request_identity
from core.cases.recategorise import set_category
from core.cases.team_changes import exclude_member, grant_case
from core.db import transaction
from core.intake.reporter import login_submitter, post_submitter_message, store_submitter_file
from core.models import (
    ActionStatus,
    Attachment,
    Base,
    EvidenceKind,
    Finding,
    IdentityRequest,
    IdentityRequestSeal,
    KeyKind,
    MessageKind,
    Reviewer,
    RootCause,
    ScopeDecision,
)
from tests.core.factories import (
    ReviewerHandle,
    add_reviewer,
    approve_identity,
    chunks,
    seed_categories,
    submit,
)

#: Tables whose bytes are kept by design: the log's hashes and the reporters' queued events
#: (no content), staff accounts and sessions (no case content), and the hashes of sent report
#: forms (naming no case).
NOT_CASE_BYTES = {"audit_events", "audit_pending_events", "audit_head", "reviewers",
                  "reviewer_sessions", "submitter_sessions", "throttle_buckets",
                  "submission_tokens"}


@dataclass
class FullCase:
    case_id: int
    reference: str
    receipt_code: str
    lead: ReviewerHandle
    intake: ReviewerHandle
    custodian: ReviewerHandle
    blob_ids: set[str] = field(default_factory=set)


def build_full_case(session_factory, services, *, category: str = "it_fault",
                    close: bool = True) -> FullCase:
    alice = add_reviewer(session_factory, services, f"alice-{category}")
    bob = add_reviewer(session_factory, services, f"bob-{category}")
    dave = add_reviewer(session_factory, services, f"dave-{category}")
    carol = add_reviewer(session_factory, services, f"carol-{category}", custodian=True)
    seed_categories(session_factory, {category: [alice.id]}, services=services)
    result = submit(session_factory, services, category=category,
                    report=ReportContent(summary="CANARY-SUMMARY badge reader",
                                         description="CANARY-DESCRIPTION door propped"),
                    identity=Identity(name="CANARY-NAME Li Si", contact="lisi@example.org"),
                    files=[("CANARY-report-file.txt", b"CANARY report file " * 100)])
    case_id = result.case_id
    with transaction(session_factory) as s:
        for handle in (bob, dave):
            grant_case(s, services, alice.unlocked, case_id, s.get(Reviewer, handle.id))
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=bob.id)
    with transaction(session_factory) as s:  # kept as an example for the suggestions
        set_category(s, services, alice.unlocked, case_id, category)
    with transaction(session_factory) as s:  # a new key epoch
        exclude_member(s, services, bob.unlocked.actor, case_id, s.get(Reviewer, dave.id))
    with transaction(session_factory) as s:
        post_reviewer_message(s, services, bob.unlocked, case_id, MessageKind.INTERNAL_NOTE,
                              "CANARY-NOTE check the logs")
        stored = store_reviewer_file(services, bob.unlocked, s, case_id, KeyKind.CASE,
                                     "CANARY-reply-file.txt", "text/plain",
                                     chunks(b"CANARY reply file " * 50))
        post_reviewer_message(s, services, bob.unlocked, case_id,
                              MessageKind.CLARIFICATION_REQUEST, "CANARY-QUESTION when?",
                              [stored])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        stored = store_submitter_file(services, access, "CANARY-answer-file.txt",
                                      "text/plain", chunks(b"CANARY answer " * 50), session=s)
        post_submitter_message(s, services, access, "CANARY-ANSWER on Monday", [stored])
    with transaction(session_factory) as s:
        stored = store_reviewer_file(services, bob.unlocked, s, case_id, KeyKind.TEAM,
                                     "CANARY-evidence.txt", "text/plain",
                                     chunks(b"CANARY evidence " * 50))
        add_evidence(s, services, bob.unlocked, case_id, EvidenceKind.FILE,
                     text="CANARY-EVIDENCE the log", files=[stored])
    approve_identity(session_factory, services, bob, carol, case_id,
                     reason="CANARY-REASON interview")
    with transaction(session_factory) as s:  # left pending
        request_identity(s, services, alice.unlocked, case_id, "CANARY-REASON-2 pending")
    with transaction(session_factory) as s:
        workflow.record_decision(s, services, bob.unlocked, case_id, workflow.DecisionInput(
            finding=Finding.SUBSTANTIATED, root_cause=RootCause.PROCESS_GAP,
            reasons="CANARY-REASONS the log and the interview agree"))
    with transaction(session_factory) as s:
        workflow.give_feedback(s, services, bob.unlocked, case_id, "CANARY-OUTCOME fixed",
                               "CANARY-GROUNDS logs", grounds_heading="Grounds")
    today = services.clock.today()
    with transaction(session_factory) as s:
        action = case_actions.add_action(
            s, services, bob.unlocked, case_id, title="CANARY-ACTION new badge readers",
            notes="CANARY-ACTION-NOTES", owner_id=bob.id, due_on=today + timedelta(days=30))
        action_id = action.id
    with transaction(session_factory) as s:
        case_actions.update_action(s, services, bob.unlocked, case_id, action_id,
                                   status=ActionStatus.DONE, note="CANARY-UPDATE installed")
    if close:
        with transaction(session_factory) as s:
            workflow.close_case(s, services, bob.unlocked, case_id)
    with session_factory() as s:
        blob_ids = set(s.execute(select(Attachment.blob_id)
                                 .where(Attachment.case_id == case_id)).scalars())
    assert len(blob_ids) == 4
    return FullCase(case_id, result.reference, result.receipt_code, bob, alice, carol,
                    blob_ids)


def dump(session) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: compare two to see that nothing changed."""
    return {table.name: sorted((tuple(row) for row in session.execute(select(table))),
                               key=repr)
            for table in Base.metadata.sorted_tables}


def case_rows(session, case_id: int) -> dict[str, list[tuple]]:
    """Every row that belongs to the case, per table (the case itself, the rows with its
    case_id, the seals of its identity requests), sorted."""
    requests = select(IdentityRequest.id).where(IdentityRequest.case_id == case_id)
    rows: dict[str, list[tuple]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name == "cases":
            where = table.columns["id"] == case_id
        elif "case_id" in table.columns:
            where = table.columns["case_id"] == case_id
        elif table.name == IdentityRequestSeal.__tablename__:
            where = table.columns["request_id"].in_(requests)
        else:
            continue
        rows[table.name] = sorted((tuple(r) for r in session.execute(
            select(table).where(where))), key=repr)
    return rows


def binary_columns():
    """(table, column) for every column holding bytes."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.type.python_type is bytes:
                yield table, column


def case_bytes(session, case_id: int) -> set[bytes]:
    """Every non-empty bytes value the case's rows hold, in every table but NOT_CASE_BYTES."""
    found: set[bytes] = set()
    requests = select(IdentityRequest.id).where(IdentityRequest.case_id == case_id)
    for table, column in binary_columns():
        if table.name in NOT_CASE_BYTES:
            continue
        if "case_id" in table.columns:
            where = table.columns["case_id"] == case_id
        elif table.name == "cases":
            where = table.columns["id"] == case_id
        elif table.name == IdentityRequestSeal.__tablename__:
            where = table.columns["request_id"].in_(requests)
        else:
            continue
        found |= {v for v in session.execute(select(column).where(where)).scalars() if v}
    return found


def all_bytes(session) -> set[bytes]:
    """Every bytes value stored anywhere in the database."""
    found: set[bytes] = set()
    for _table, column in binary_columns():
        found |= {v for v in session.execute(select(column)).scalars() if v}
    return found


def due_day(services, closed_on: date) -> date:
    return closed_on + timedelta(days=services.config.retention_days)
