"""core.cases.workflow, .actions and .evidence: each use case moves the case as the process
says, writes its audit events, keeps the inbox counters exact, and a refused step writes
nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.cases import workflow
from core.cases.actions import add_action, due_actions, update_action
from core.cases.casework import StageRefused, grant_case, send_message
from core.cases.casework_reading import read_casework
from core.cases.evidence import add_evidence
from core.cases.inbox_counts import computed_counts, stored_counts
from core.cases.transitions import IllegalTransition
from core.db import transaction
from core.errors import AccessDenied, InvalidInput
from core.models import (
    ActionStatus,
    AuditEvent,
    Case,
    CaseMember,
    CasePriority,
    CaseStatus,
    CorrectiveAction,
    Decision,
    EvidenceEntry,
    EvidenceKind,
    Finding,
    MemberRole,
    Message,
    MessageKind,
    Reviewer,
    RootCause,
    ScopeDecision,
)
from tests.core.factories import add_reviewer, audit_actions, seed_categories, submit

NOTE = "EVIDENCE-NOTE-CANARY printer logs"


@pytest.fixture
def team(session_factory, services):
    alice = add_reviewer(session_factory, services, "alice")
    bob = add_reviewer(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id]})
    case_id = submit(session_factory, services).case_id
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, case_id, s.get(Reviewer, bob.id))
    return alice, bob, case_id


def _case(session_factory, case_id: int) -> Case:
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        s.expunge(case)
        return case


def _counters_exact(session_factory) -> None:
    with session_factory() as s:
        assert stored_counts(s) == computed_counts(s)


def _accepted(session_factory, services, team) -> None:
    alice, bob, case_id = team
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=bob.id, priority=CasePriority.URGENT)


DECISION = workflow.DecisionInput(finding=Finding.PARTLY_SUBSTANTIATED,
                                  root_cause=RootCause.PROCESS_GAP, reasons="Because.")


def test_acknowledge_once(session_factory, services, team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s:
        workflow.acknowledge(s, services, alice.unlocked, case_id, "Received.")
    assert _case(session_factory, case_id).status is CaseStatus.ACKNOWLEDGED
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        workflow.acknowledge(s, services, alice.unlocked, case_id, "Again.")
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1


def test_acceptance_names_the_lead_and_the_priority(session_factory, services, team) -> None:
    alice, bob, case_id = team
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED)
    assert _case(session_factory, case_id).status is CaseStatus.RECEIVED
    _accepted(session_factory, services, team)
    case = _case(session_factory, case_id)
    assert (case.status, case.scope_decision, case.priority) == (
        CaseStatus.UNDER_INVESTIGATION, ScopeDecision.ACCEPTED, CasePriority.URGENT)
    assert case.acknowledged_on is not None  # accepting acknowledges
    with session_factory() as s:
        assert s.get(CaseMember, (case_id, bob.id)).role is MemberRole.LEAD
        assert s.get(CaseMember, (case_id, alice.id)).priority is CasePriority.URGENT
    _counters_exact(session_factory)
    actions = audit_actions(session_factory)
    assert actions.index("case:scope") < actions.index("case:lead") < actions.index(
        "case:priority")


def test_referral_needs_a_message_and_reaches_the_reporter(session_factory, services,
                                                           team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.REFERRED)
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.REFERRED,
                              message="Please ask HR.")
    case = _case(session_factory, case_id)
    assert (case.status, case.scope_decision) == (CaseStatus.REFERRED, ScopeDecision.REFERRED)
    with session_factory() as s:
        kinds = s.execute(select(Message.kind)).scalars().all()
    assert kinds == [MessageKind.INFORMATION]
    # A referred case cannot be accepted without being reopened first.
    with transaction(session_factory) as s, pytest.raises(IllegalTransition):
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=alice.id)


def test_the_lead_hands_over_and_members_get_roles(session_factory, services, team) -> None:
    alice, bob, case_id = team
    _accepted(session_factory, services, team)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.hand_over_lead(s, services, alice.unlocked, case_id, alice.id)
    with transaction(session_factory) as s:
        workflow.set_member_role(s, services, bob.unlocked, case_id, alice.id,
                                 MemberRole.TECHNICAL)
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.set_member_role(s, services, alice.unlocked, case_id, bob.id, MemberRole.HR)
    with transaction(session_factory) as s:
        workflow.hand_over_lead(s, services, bob.unlocked, case_id, alice.id)
    with session_factory() as s:
        roles = {m.reviewer_id: m.role for m in s.execute(select(CaseMember)).scalars()}
    assert roles == {alice.id: MemberRole.LEAD, bob.id: MemberRole.INVESTIGATOR}
    _counters_exact(session_factory)


def test_the_decision_is_versioned_and_only_the_lead_decides(session_factory, services,
                                                             team) -> None:
    alice, bob, case_id = team
    with transaction(session_factory) as s, pytest.raises(IllegalTransition):
        workflow.record_decision(s, services, alice.unlocked, case_id, DECISION)
    _accepted(session_factory, services, team)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.record_decision(s, services, alice.unlocked, case_id, DECISION)
    with transaction(session_factory) as s:
        workflow.record_decision(s, services, bob.unlocked, case_id, DECISION)
        workflow.record_decision(s, services, bob.unlocked, case_id, workflow.DecisionInput(
            finding=Finding.SUBSTANTIATED, root_cause=None, reasons="New facts."))
    with session_factory() as s:
        versions = s.execute(select(Decision.version, Decision.finding)
                             .order_by(Decision.version)).all()
        assert versions == [(1, Finding.PARTLY_SUBSTANTIATED), (2, Finding.SUBSTANTIATED)]
        record = read_casework(s, services, bob.unlocked, case_id)
        assert record.decision is not None and record.decision.version == 2
        assert record.decisions[0].content.text("reasons") == "Because."
    assert _case(session_factory, case_id).status is CaseStatus.DECIDED


def _decided(session_factory, services, team) -> None:
    _accepted(session_factory, services, team)
    _alice, bob, case_id = team
    with transaction(session_factory) as s:
        workflow.record_decision(s, services, bob.unlocked, case_id, DECISION)


def test_outcome_follow_up_close_and_reopen(session_factory, services, team) -> None:
    alice, bob, case_id = team
    _decided(session_factory, services, team)
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.give_feedback(s, services, bob.unlocked, case_id, "Fixed.", " ",
                               grounds_heading="Grounds:")
    with transaction(session_factory) as s:
        action = add_action(s, services, bob.unlocked, case_id, title="Patch", notes="",
                            owner_id=alice.id,
                            due_on=services.clock.today() + timedelta(days=5))
        action_id = action.id
        workflow.give_feedback(s, services, bob.unlocked, case_id, "Fixed.", "Logs.",
                               grounds_heading="Grounds:")
        workflow.start_follow_up(s, services, bob.unlocked, case_id)
    assert _case(session_factory, case_id).status is CaseStatus.FOLLOW_UP
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.close_case(s, services, bob.unlocked, case_id)  # an action is open
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.close_case(s, services, alice.unlocked, case_id, "Not the lead.")
    with transaction(session_factory) as s:
        workflow.close_case(s, services, bob.unlocked, case_id, "Patched elsewhere.")
    case = _case(session_factory, case_id)
    assert case.status is CaseStatus.CLOSED and case.closed_on == services.clock.today()
    with transaction(session_factory) as s:
        assert workflow.reopen_case(s, services, bob.unlocked, case_id,
                                    "It broke again.") is CaseStatus.UNDER_INVESTIGATION
    case = _case(session_factory, case_id)
    assert case.status is CaseStatus.UNDER_INVESTIGATION and case.closed_on is None
    with session_factory() as s:
        assert s.get(CorrectiveAction, action_id).status is ActionStatus.OPEN
        detail = json.loads(s.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "case:status").order_by(AuditEvent.position.desc())
            .offset(1).limit(1)).scalar_one())
        assert detail == {"from": "follow_up", "to": "closed", "open_actions": 1}
    _counters_exact(session_factory)


def test_a_review_is_answered_or_the_case_reopened(session_factory, services, team) -> None:
    _alice, bob, case_id = team
    _decided(session_factory, services, team)
    with transaction(session_factory) as s:
        workflow.give_feedback(s, services, bob.unlocked, case_id, "Done.", "Logs.",
                               grounds_heading="Grounds:")
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        workflow.answer_review(s, services, bob.unlocked, case_id, "No review was asked.")
    with transaction(session_factory) as s:
        s.execute(update(Case).where(Case.id == case_id).values(review_requested=True))
    with transaction(session_factory) as s:
        workflow.answer_review(s, services, bob.unlocked, case_id, "We checked again.")
    assert not _case(session_factory, case_id).review_requested
    with session_factory() as s:
        assert not s.get(CaseMember, (case_id, bob.id)).review_requested


def test_actions_keep_their_due_date_on_the_case(session_factory, services, team) -> None:
    alice, bob, case_id = team
    today = services.clock.today()
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        add_action(s, services, bob.unlocked, case_id, title="Too early", notes="",
                   owner_id=alice.id, due_on=today)
    _decided(session_factory, services, team)
    outsider = add_reviewer(session_factory, services, "olga")
    for owner, due, field in ((outsider.id, today, "owner"),
                              (alice.id, today - timedelta(days=1), "due_on")):
        with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
            add_action(s, services, bob.unlocked, case_id, title="X", notes="",
                       owner_id=owner, due_on=due)
        assert refused.value.field == field
    with transaction(session_factory) as s:
        late = add_action(s, services, bob.unlocked, case_id, title="A", notes="",
                          owner_id=alice.id, due_on=today + timedelta(days=3)).id
        soon = add_action(s, services, bob.unlocked, case_id, title="B", notes="",
                          owner_id=bob.id, due_on=today + timedelta(days=1)).id
    assert _case(session_factory, case_id).actions_due == today + timedelta(days=1)
    with session_factory() as s:
        assert [a.owner_id for a in due_actions(s, today)] == [bob.id, alice.id]
        assert [a.owner_id for a in due_actions(s, today, owner_id=alice.id)] == [alice.id]
        assert due_actions(s, today + timedelta(days=2))[0].overdue
    with transaction(session_factory) as s:
        update_action(s, services, bob.unlocked, case_id, soon, status=ActionStatus.DONE,
                      note="Done.")
    assert _case(session_factory, case_id).actions_due == today + timedelta(days=3)
    with transaction(session_factory) as s:
        update_action(s, services, alice.unlocked, case_id, late, status=ActionStatus.DONE,
                      note="Done too.")
    assert _case(session_factory, case_id).actions_due is None
    with session_factory() as s:
        record = read_casework(s, services, alice.unlocked, case_id)
    assert [u.content.text("note") for u in record.actions[0].updates] == ["Done too."]


def test_evidence_is_encrypted_hashed_and_corrected_by_a_new_entry(session_factory,
                                                                   services, team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        add_evidence(s, services, alice.unlocked, case_id, EvidenceKind.INTERVIEW,
                     text="Who?")
    with transaction(session_factory) as s:
        first = add_evidence(s, services, alice.unlocked, case_id, EvidenceKind.NOTE,
                             text=NOTE)
        add_evidence(s, services, alice.unlocked, case_id, EvidenceKind.INTERVIEW,
                     interviewee="Desk", text="Saw it.", corrects_id=first.id)
    with session_factory() as s:
        rows = s.execute(select(EvidenceEntry).order_by(EvidenceEntry.position)).scalars().all()
        assert all(NOTE.encode() not in row.ciphertext for row in rows)
        hashes = [json.loads(d)["sha256"] for d in s.execute(
            select(AuditEvent.detail).where(AuditEvent.action == "case:evidence:add")
            .order_by(AuditEvent.position)).scalars()]
        assert hashes == [hashlib.sha256(row.ciphertext).hexdigest() for row in rows]
        record = read_casework(s, services, alice.unlocked, case_id)
    assert [e.content.text("text") for e in record.evidence] == [NOTE, "Saw it."]
    assert record.evidence[1].corrects_position == 1
    assert record.evidence[1].content.text("interviewee") == "Desk"


def test_a_moved_ciphertext_is_reported_as_tampered(session_factory, services, team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s:
        add_evidence(s, services, alice.unlocked, case_id, EvidenceKind.NOTE, text="One.")
        add_evidence(s, services, alice.unlocked, case_id, EvidenceKind.NOTE, text="Two.")
    with transaction(session_factory) as s:  # someone with database access swaps them
        first, second = s.execute(select(EvidenceEntry).order_by(
            EvidenceEntry.position)).scalars().all()
        first.ciphertext, second.ciphertext = second.ciphertext, first.ciphertext
    with transaction(session_factory) as s:
        record = read_casework(s, services, alice.unlocked, case_id)
    assert [e.content.tampered for e in record.evidence] == [True, True]
    assert audit_actions(session_factory).count("case:record:tampered") == 2


def test_an_illegal_step_writes_nothing(session_factory, services, team) -> None:
    alice, _bob, case_id = team
    before = audit_actions(session_factory)
    with transaction(session_factory) as s, pytest.raises(IllegalTransition):
        workflow.record_decision(s, services, alice.unlocked, case_id, DECISION)
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        send_message(s, services, alice.unlocked, case_id, MessageKind.FEEDBACK, "Too soon.")
    with transaction(session_factory) as s, pytest.raises(IllegalTransition):
        workflow.close_case(s, services, alice.unlocked, case_id)
    assert audit_actions(session_factory) == before
    assert _case(session_factory, case_id).status is CaseStatus.RECEIVED
