"""The case file export's use case (core.cases.case_file): what it gathers, whom it refuses,
the identity rule, tampered records, and its one audit event. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from core.audit.log import AuditAction
from core.cases.case_file import export_case_file
from core.cases.files import blob_plaintext
from core.cases.team_changes import exclude_member, grant_case
from core.db import transaction
from core.errors import AccessDenied
from core.models import (
    ActionStatus,
    Attachment,
    AuditEvent,
    EvidenceKind,
    Finding,
    MessageKind,
    Reviewer,
    Satisfaction,
)
from tests.core.cases.case_file_fixtures import IDENTITY, TEXTS, full_case
from tests.core.factories import add_reviewer, approve_identity, audit_size, seed_categories


def _events_since(session_factory, size: int) -> list[AuditEvent]:
    with session_factory() as s:
        rows = list(s.execute(select(AuditEvent).where(AuditEvent.position >= size)
                              .order_by(AuditEvent.position)).scalars())
        s.expunge_all()
    return rows


@pytest.fixture
def team(session_factory, services):
    alice = add_reviewer(session_factory, services, "alice")
    bob = add_reviewer(session_factory, services, "bob")
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    return alice, bob, keeper


def test_a_member_gets_the_whole_case_file_in_one_audited_event(session_factory, services,
                                                                team):
    alice, _bob, _keeper = team
    case = full_case(session_factory, services, alice)
    size = audit_size(session_factory)
    with transaction(session_factory) as s:
        exported = export_case_file(s, services, alice.unlocked, case.case_id)

    assert exported.facts.reference == case.reference
    assert exported.facts.satisfaction is Satisfaction.SATISFIED
    assert exported.facts.lead == "alice" and exported.exported_by == "alice"
    assert exported.view.report.summary == TEXTS["summary"]
    assert exported.view.report.description == TEXTS["description"]
    bodies = {m.kind: m.body for m in exported.view.messages}
    assert bodies[MessageKind.INTERNAL_NOTE] == TEXTS["note"]
    assert any(TEXTS["reporter_message"] == m.body for m in exported.view.messages)
    assert TEXTS["outcome"] in bodies[MessageKind.FEEDBACK]
    evidence = exported.casework.evidence
    assert [e.kind for e in evidence] == [EvidenceKind.FILE, EvidenceKind.NOTE]
    assert evidence[1].corrects_position == evidence[0].position
    assert evidence[1].content.text("text") == TEXTS["correction"]
    assert [d.content.text("reasons") for d in exported.casework.decisions] == [
        TEXTS["decision_v1"], TEXTS["decision_v2"]]
    assert exported.casework.decision.finding is Finding.PARTLY_SUBSTANTIATED
    (action,) = exported.casework.actions
    assert action.content.text("title") == TEXTS["action"]
    assert [(u.status, u.content.text("note")) for u in action.updates] == [
        (ActionStatus.DONE, TEXTS["update"])]
    assert exported.identity is None and not exported.identity_withheld  # anonymous

    # The files in the case file's order, numbered, each decrypting to what was uploaded.
    assert [(f.number, f.meta.name) for f in exported.files] == [
        (n, name) for n, (name, _data) in enumerate(case.files, start=1)]
    for exported_file, (_name, data) in zip(exported.files, case.files, strict=True):
        assert b"".join(blob_plaintext(services.blobs, exported_file.blob_id,
                                       exported_file.stream_version,
                                       exported_file.file_key)) == data
        assert repr(exported_file.file_key) not in repr(exported_file)  # the key stays out

    events = _events_since(session_factory, size)
    assert [(e.action, e.reviewer_id, e.case_id) for e in events] == [
        (str(AuditAction.CASE_FILE_EXPORTED), alice.id, case.case_id)]
    assert json.loads(events[0].detail) == {"files": 4, "messages": 5, "identity": False}


def test_non_members_and_excluded_members_are_refused(session_factory, services, team):
    alice, bob, _keeper = team
    case = full_case(session_factory, services, alice)
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, case.case_id, s.get(Reviewer, bob.id))
    with transaction(session_factory) as s:
        exclude_member(s, services, alice.unlocked.actor, case.case_id, s.get(Reviewer, bob.id))
    carol = add_reviewer(session_factory, services, "carol")
    size = audit_size(session_factory)
    for who in (bob, carol):
        with pytest.raises(AccessDenied), transaction(session_factory) as s:
            export_case_file(s, services, who.unlocked, case.case_id)
    assert _events_since(session_factory, size) == []


def test_the_identity_goes_only_with_an_approved_request(session_factory, services, team):
    alice, _bob, keeper = team
    case = full_case(session_factory, services, alice, confidential=True)
    # The custodian on the team holds the identity key by role, not by a request: withheld.
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, case.case_id, s.get(Reviewer, keeper.id))
    for who in (alice, keeper):
        with transaction(session_factory) as s:
            withheld = export_case_file(s, services, who.unlocked, case.case_id)
        assert withheld.identity is None and withheld.identity_withheld

    approve_identity(session_factory, services, alice, keeper, case.case_id)
    size = audit_size(session_factory)
    with transaction(session_factory) as s:
        included = export_case_file(s, services, alice.unlocked, case.case_id)
    assert included.identity == IDENTITY and not included.identity_withheld
    events = _events_since(session_factory, size)
    assert [e.action for e in events] == [str(AuditAction.CASE_FILE_EXPORTED),
                                          str(AuditAction.IDENTITY_REVEALED)]
    assert json.loads(events[0].detail)["identity"] is True
    assert "Wang" not in events[0].detail + events[1].detail


def test_a_tampered_file_is_left_out_and_logged(session_factory, services, team):
    alice, _bob, _keeper = team
    case = full_case(session_factory, services, alice)
    with session_factory() as s:
        first = s.execute(select(Attachment.id).order_by(Attachment.position)
                          .where(Attachment.case_id == case.case_id)).scalars().first()
    with transaction(session_factory) as s:  # a database writer swaps in another key
        s.execute(update(Attachment).where(Attachment.id == first)
                  .values(wrapped_file_key=b"\x00" * 72))
    size = audit_size(session_factory)
    with transaction(session_factory) as s:
        exported = export_case_file(s, services, alice.unlocked, case.case_id)
    assert first not in [f.attachment_id for f in exported.files]
    assert [f.number for f in exported.files] == [1, 2, 3]
    events = _events_since(session_factory, size)
    assert [e.action for e in events] == [str(AuditAction.CASE_FILE_EXPORTED),
                                          str(AuditAction.RECORD_TAMPERED)]
    assert json.loads(events[0].detail)["files"] == 3
    assert json.loads(events[1].detail) == {"record": f"file:{first}"}
