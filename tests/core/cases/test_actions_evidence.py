"""core.cases.actions and core.cases.evidence (read back through core.cases.casework_reading):
corrective actions only after the decision, owned by the team, dated sensibly, and the case's
earliest open due date kept exact; evidence entries encrypted, hashed in the audit log,
corrected by new entries, and a moved ciphertext caught."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from core.cases import workflow
from core.cases.actions import (
    DUE_SOON_DAYS,
    MAX_HORIZON_DAYS,
    add_action,
    due_actions,
    update_action,
)
from core.cases.casework import StageRefused, grant_case
from core.cases.casework_reading import read_casework
from core.cases.evidence import add_evidence
from core.cases.inbox_counts import computed_counts, stored_counts
from core.clock import Clock
from core.db import transaction
from core.errors import InvalidInput, NotFound
from core.models import (
    ActionStatus,
    AuditEvent,
    Case,
    CaseMember,
    CaseStatus,
    CorrectiveAction,
    EvidenceEntry,
    EvidenceKind,
    Finding,
    Reviewer,
    ScopeDecision,
)
from core.staff.accounts import deactivate_reviewer
from tests.core.factories import add_reviewer, audit_actions, audit_size, seed_categories, submit

NOTE = "CANARY-NOTE the badge reader log shows entry at 02:13"
INTERVIEW = "CANARY-INTERVIEW saw the door propped open"
CORRECTION = "CANARY-CORRECTION it was 03:13, not 02:13"
DECISION = workflow.DecisionInput(finding=Finding.SUBSTANTIATED, root_cause=None,
                                  reasons="The log and the interview agree.")


@pytest.fixture
def fixed(services):
    """The services with a clock stopped at one moment (no midnight between two calls)."""
    moment = datetime.now(UTC)
    return dataclasses.replace(services, clock=Clock(now=lambda: moment))


@pytest.fixture
def team(session_factory, services, fixed):
    """alice (intake) and bob (granted); a case accepted with bob leading."""
    alice = add_reviewer(session_factory, services, "alice")
    bob = add_reviewer(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id]})
    case_id = submit(session_factory, fixed).case_id
    with transaction(session_factory) as s:
        grant_case(s, fixed, alice.unlocked, case_id, s.get(Reviewer, bob.id))
        workflow.decide_scope(s, fixed, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=bob.id)
    return alice, bob, case_id


def _decide(session_factory, fixed, team) -> None:
    _alice, bob, case_id = team
    with transaction(session_factory) as s:
        workflow.record_decision(s, fixed, bob.unlocked, case_id, DECISION)


def _case(session_factory, case_id: int) -> Case:
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        s.expunge(case)
        return case


def _member_copies(session_factory, case_id: int) -> set[date | None]:
    with session_factory() as s:
        return set(s.execute(select(CaseMember.actions_due).where(
            CaseMember.case_id == case_id)).scalars())


def _count(session_factory, model) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def _details(session_factory, action: str) -> list[dict]:
    with session_factory() as s:
        return [json.loads(d) for d in s.execute(
            select(AuditEvent.detail).where(AuditEvent.action == action)
            .order_by(AuditEvent.position)).scalars()]


# Corrective actions ---------------------------------------------------------------------


@pytest.mark.parametrize("stage", [CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED,
                                   CaseStatus.UNDER_INVESTIGATION])
def test_no_action_before_the_decision(session_factory, services, fixed, stage) -> None:
    alice = add_reviewer(session_factory, services, "alice")
    seed_categories(session_factory, {"it_fault": [alice.id]})
    case_id = submit(session_factory, fixed).case_id
    with transaction(session_factory) as s:
        if stage is CaseStatus.ACKNOWLEDGED:
            workflow.acknowledge(s, fixed, alice.unlocked, case_id, "Received.")
        elif stage is CaseStatus.UNDER_INVESTIGATION:
            workflow.decide_scope(s, fixed, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                                  lead_id=alice.id)
    assert _case(session_factory, case_id).status is stage
    size = audit_size(session_factory)
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        add_action(s, fixed, alice.unlocked, case_id, title="Too early", notes="",
                   owner_id=alice.id, due_on=fixed.clock.today() + timedelta(days=3))
    assert _count(session_factory, CorrectiveAction) == 0
    assert audit_size(session_factory) == size
    assert _case(session_factory, case_id).actions_due is None


def test_the_owner_is_an_active_member_of_the_team(session_factory, services, fixed,
                                                   team) -> None:
    alice, bob, case_id = team
    _decide(session_factory, fixed, team)
    outsider = add_reviewer(session_factory, services, "olga")
    due = fixed.clock.today() + timedelta(days=3)
    size = audit_size(session_factory)
    for owner in (outsider.id, 999_999):
        with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
            add_action(s, fixed, bob.unlocked, case_id, title="X", notes="", owner_id=owner,
                       due_on=due)
        assert refused.value.field == "owner"
    # A member whose account is deactivated is no owner either.
    with transaction(session_factory) as s:
        deactivate_reviewer(s, fixed, "alice")
    size = audit_size(session_factory)
    with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
        add_action(s, fixed, bob.unlocked, case_id, title="X", notes="", owner_id=alice.id,
                   due_on=due)
    assert refused.value.field == "owner"
    assert _count(session_factory, CorrectiveAction) == 0
    assert audit_size(session_factory) == size


def test_the_due_date_is_from_today_within_five_years(session_factory, fixed, team) -> None:
    alice, bob, case_id = team
    _decide(session_factory, fixed, team)
    today = fixed.clock.today()
    size = audit_size(session_factory)
    for due in (today - timedelta(days=1), today - timedelta(days=400),
                today + timedelta(days=MAX_HORIZON_DAYS + 1)):
        with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
            add_action(s, fixed, bob.unlocked, case_id, title="X", notes="",
                       owner_id=alice.id, due_on=due)
        assert refused.value.field == "due_on"
    assert _count(session_factory, CorrectiveAction) == 0
    assert audit_size(session_factory) == size
    with transaction(session_factory) as s:  # both bounds are allowed
        add_action(s, fixed, bob.unlocked, case_id, title="Today", notes="",
                   owner_id=alice.id, due_on=today)
        add_action(s, fixed, bob.unlocked, case_id, title="Far", notes="",
                   owner_id=alice.id, due_on=today + timedelta(days=MAX_HORIZON_DAYS))
    assert _count(session_factory, CorrectiveAction) == 2


def test_the_case_keeps_the_earliest_open_due_date(session_factory, fixed, team) -> None:
    alice, bob, case_id = team
    _decide(session_factory, fixed, team)
    today = fixed.clock.today()
    in_3, in_10, in_20 = (today + timedelta(days=n) for n in (3, 10, 20))
    with transaction(session_factory) as s:
        late = add_action(s, fixed, bob.unlocked, case_id, title="Late", notes="Later.",
                          owner_id=alice.id, due_on=in_20).id
    assert _case(session_factory, case_id).actions_due == in_20
    assert _member_copies(session_factory, case_id) == {in_20}
    with transaction(session_factory) as s:
        soon = add_action(s, fixed, bob.unlocked, case_id, title="Soon", notes="",
                          owner_id=bob.id, due_on=in_3).id
        middle = add_action(s, fixed, bob.unlocked, case_id, title="Middle", notes="",
                            owner_id=alice.id, due_on=in_10).id
    assert _case(session_factory, case_id).actions_due == in_3
    assert _member_copies(session_factory, case_id) == {in_3}

    # In progress is still open.
    with transaction(session_factory) as s:
        update_action(s, fixed, bob.unlocked, case_id, soon, status=ActionStatus.IN_PROGRESS,
                      note="Ordered the part.")
    assert _case(session_factory, case_id).actions_due == in_3
    with transaction(session_factory) as s:
        update_action(s, fixed, bob.unlocked, case_id, soon, status=ActionStatus.DONE,
                      note="Fitted.")
    assert _case(session_factory, case_id).actions_due == in_10
    assert _member_copies(session_factory, case_id) == {in_10}
    with transaction(session_factory) as s:
        update_action(s, fixed, alice.unlocked, case_id, middle, status=ActionStatus.DONE,
                      note="Done.")
        update_action(s, fixed, alice.unlocked, case_id, late, status=ActionStatus.DONE,
                      note="Done too.")
    assert _case(session_factory, case_id).actions_due is None
    assert _member_copies(session_factory, case_id) == {None}
    # Reopened by a later note: the date comes back.
    with transaction(session_factory) as s:
        update_action(s, fixed, alice.unlocked, case_id, late, status=ActionStatus.OPEN,
                      note="It failed again.")
    assert _case(session_factory, case_id).actions_due == in_20
    with session_factory() as s:
        assert stored_counts(s) == computed_counts(s)
        row = s.get(CorrectiveAction, soon)
        assert (row.status, row.done_on) == (ActionStatus.DONE, today)
        assert s.get(CorrectiveAction, late).done_on is None
        view = read_casework(s, fixed, bob.unlocked, case_id)
    by_id = {a.id: a for a in view.actions}
    assert [(u.status, u.content.text("note")) for u in by_id[soon].updates] == [
        (ActionStatus.IN_PROGRESS, "Ordered the part."), (ActionStatus.DONE, "Fitted.")]
    assert by_id[late].content.text("title") == "Late"
    assert by_id[late].content.text("notes") == "Later."
    hashes = [d["sha256"] for d in _details(session_factory, "case:action:add")]
    with session_factory() as s:
        rows = s.execute(select(CorrectiveAction).order_by(CorrectiveAction.position)).scalars()
        assert hashes == [hashlib.sha256(r.ciphertext).hexdigest() for r in rows]


def test_an_action_of_another_case_is_not_found(session_factory, fixed, team) -> None:
    alice, bob, case_id = team
    _decide(session_factory, fixed, team)
    with transaction(session_factory) as s:
        action_id = add_action(s, fixed, bob.unlocked, case_id, title="X", notes="",
                               owner_id=alice.id,
                               due_on=fixed.clock.today() + timedelta(days=1)).id
    other = submit(session_factory, fixed).case_id  # alice is its intake handler
    with transaction(session_factory) as s:
        workflow.decide_scope(s, fixed, alice.unlocked, other, ScopeDecision.ACCEPTED,
                              lead_id=alice.id)
        workflow.record_decision(s, fixed, alice.unlocked, other, DECISION)
    with transaction(session_factory) as s, pytest.raises(NotFound):
        update_action(s, fixed, alice.unlocked, other, action_id, status=ActionStatus.DONE,
                      note="Wrong case.")
    with session_factory() as s:
        assert s.get(CorrectiveAction, action_id).status is ActionStatus.OPEN


def test_due_actions_lists_the_overdue_and_the_soon_due(session_factory, fixed,
                                                        team) -> None:
    alice, bob, case_id = team
    _decide(session_factory, fixed, team)
    today = fixed.clock.today()
    with transaction(session_factory) as s:
        ids = {n: add_action(s, fixed, bob.unlocked, case_id, title=f"In {n}", notes="",
                             owner_id=alice.id if n != 5 else bob.id,
                             due_on=today + timedelta(days=n)).id
               for n in (1, 5, 30)}
        update_action(s, fixed, bob.unlocked, case_id, ids[30], status=ActionStatus.IN_PROGRESS,
                      note="Started.")
    positions = {}
    with session_factory() as s:
        for n, action_id in ids.items():
            positions[n] = s.get(CorrectiveAction, action_id).position
        now = due_actions(s, today)
        later = due_actions(s, today + timedelta(days=3))
        much_later = due_actions(s, today + timedelta(days=40))
        alices = due_actions(s, today + timedelta(days=40), owner_id=alice.id)
        wide = due_actions(s, today, days=30)
    # Today: both within the week, neither overdue; the 30-day one is not due soon.
    assert [(a.position, a.overdue) for a in now] == [(positions[1], False),
                                                      (positions[5], False)]
    assert all(a.case_id == case_id for a in now)
    assert now[0].reference == _case(session_factory, case_id).reference
    assert now[0].due_on == today + timedelta(days=1)
    assert DUE_SOON_DAYS < 30
    # Three days on: the first is overdue, the second still due soon.
    assert [(a.position, a.overdue) for a in later] == [(positions[1], True),
                                                        (positions[5], False)]
    # Forty days on: all three overdue, soonest first; one owner's only.
    assert [(a.position, a.overdue) for a in much_later] == [
        (positions[1], True), (positions[5], True), (positions[30], True)]
    assert [a.position for a in alices] == [positions[1], positions[30]]
    assert [a.owner_id for a in alices] == [alice.id, alice.id]
    assert [a.position for a in wide] == [positions[1], positions[5], positions[30]]
    # Done actions are never due.
    with transaction(session_factory) as s:
        update_action(s, fixed, alice.unlocked, case_id, ids[1], status=ActionStatus.DONE,
                      note="Done.")
    with session_factory() as s:
        assert [a.position for a in due_actions(s, today + timedelta(days=40))] == [
            positions[5], positions[30]]


# Evidence ------------------------------------------------------------------------------


def test_interviews_need_the_interviewee(session_factory, fixed, team) -> None:
    alice, _bob, case_id = team
    size = audit_size(session_factory)
    for interviewee in ("", "   "):
        with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
            add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.INTERVIEW,
                         text=INTERVIEW, interviewee=interviewee)
        assert refused.value.field == "interviewee"
    with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
        add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE, text=" ")
    assert refused.value.field == "text"
    with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
        add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.FILE, text="No file.")
    assert refused.value.field == "files"
    assert _count(session_factory, EvidenceEntry) == 0
    assert audit_size(session_factory) == size


def test_the_log_is_encrypted_hashed_and_corrected_by_new_entries(session_factory, fixed,
                                                                  team) -> None:
    alice, bob, case_id = team
    with transaction(session_factory) as s:
        note = add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE, text=NOTE)
        interview = add_evidence(s, fixed, bob.unlocked, case_id, EvidenceKind.INTERVIEW,
                                 interviewee="The night guard", text=INTERVIEW)
        correction = add_evidence(s, fixed, bob.unlocked, case_id, EvidenceKind.NOTE,
                                  text=CORRECTION, corrects_id=note.id)
        ids = [note.id, interview.id, correction.id]

    with session_factory() as s:
        rows = {e.id: (e.position, e.corrects_id, bytes(e.ciphertext))
                for e in s.execute(select(EvidenceEntry)).scalars()}
    assert [rows[i][:2] for i in ids] == [(1, None), (2, None), (3, note.id)]
    # The hash in each audit event is that of the stored ciphertext.
    details = _details(session_factory, "case:evidence:add")
    assert [d["entry_id"] for d in details] == ids
    assert [d["sha256"] for d in details] == [
        hashlib.sha256(rows[i][2]).hexdigest() for i in ids]
    assert [d["kind"] for d in details] == ["note", "interview", "note"]
    assert [d["corrects_id"] for d in details] == [None, None, note.id]
    with transaction(session_factory) as s:
        view = read_casework(s, fixed, bob.unlocked, case_id)

    assert [e.id for e in view.evidence] == ids
    assert [e.kind for e in view.evidence] == [EvidenceKind.NOTE, EvidenceKind.INTERVIEW,
                                               EvidenceKind.NOTE]
    assert [e.author for e in view.evidence] == ["alice", "bob", "bob"]
    assert [e.content.text("text") for e in view.evidence] == [NOTE, INTERVIEW, CORRECTION]
    assert view.evidence[1].content.text("interviewee") == "The night guard"
    assert [e.corrects_position for e in view.evidence] == [None, None, 1]
    assert not any(e.content.tampered for e in view.evidence)
    assert all(e.created_on == fixed.clock.today() for e in view.evidence)
    assert "case:record:tampered" not in audit_actions(session_factory)
    assert audit_actions(session_factory)[-1] == "case:report:decrypt"


def test_no_plaintext_in_the_stored_rows(session_factory, fixed, team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s:
        add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE, text=NOTE)
        add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.INTERVIEW,
                     interviewee="CANARY-WITNESS", text=INTERVIEW)
    secrets = [NOTE, INTERVIEW, "CANARY-WITNESS", "CANARY"]
    with session_factory() as s:
        ciphertexts = [bytes(c) for c in s.execute(
            text("select ciphertext from evidence_entries")).scalars()]
        every_cell = [cell for row in s.execute(text("select * from evidence_entries"))
                      for cell in row]
        audit = [str(d) for d in s.execute(text("select detail from audit_events")).scalars()]
    assert len(ciphertexts) == 2
    for secret in secrets:
        for encoding in ("utf-8", "utf-16-le"):
            raw = secret.encode(encoding)
            assert not any(raw in c for c in ciphertexts), secret
        assert not any(secret in str(cell) for cell in every_cell)
        assert not any(secret in d for d in audit)


def test_a_correction_points_into_the_same_case(session_factory, fixed, team) -> None:
    alice, _bob, case_id = team
    other = submit(session_factory, fixed).case_id
    with transaction(session_factory) as s:
        foreign = add_evidence(s, fixed, alice.unlocked, other, EvidenceKind.NOTE,
                               text="Elsewhere.").id
    size = audit_size(session_factory)
    for corrects in (foreign, 123_456_789):
        with transaction(session_factory) as s, pytest.raises(NotFound):
            add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE,
                         text="Correction.", corrects_id=corrects)
    assert audit_size(session_factory) == size
    assert _count(session_factory, EvidenceEntry) == 1


def test_the_log_of_a_closed_case_is_archived(session_factory, fixed, team) -> None:
    _alice, bob, case_id = team
    _decide(session_factory, fixed, team)
    with transaction(session_factory) as s:
        workflow.give_feedback(s, fixed, bob.unlocked, case_id, "Done.", "Logs.",
                               grounds_heading="Grounds:")
        workflow.close_case(s, fixed, bob.unlocked, case_id)
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        add_evidence(s, fixed, bob.unlocked, case_id, EvidenceKind.NOTE, text="Late.")
    assert _count(session_factory, EvidenceEntry) == 0


def test_a_copied_ciphertext_is_reported_as_tampered(session_factory, fixed, team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s:
        first = add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE,
                             text="The first note.").id
        second = add_evidence(s, fixed, alice.unlocked, case_id, EvidenceKind.NOTE,
                              text="The second note.").id
    # Someone with write access to the database copies the first entry over the second.
    with transaction(session_factory) as s:
        source = s.get(EvidenceEntry, first).ciphertext
        s.execute(update(EvidenceEntry).where(EvidenceEntry.id == second)
                  .values(ciphertext=source))
    before = audit_actions(session_factory).count("case:record:tampered")
    with transaction(session_factory) as s:
        view = read_casework(s, fixed, alice.unlocked, case_id)
    by_id = {e.id: e for e in view.evidence}
    assert not by_id[first].content.tampered
    assert by_id[first].content.text("text") == "The first note."
    assert by_id[second].content.tampered
    assert by_id[second].content.content is None
    assert by_id[second].content.text("text") == ""  # never the first note's text
    assert audit_actions(session_factory).count("case:record:tampered") == before + 1
    assert _details(session_factory, "case:record:tampered")[-1] == {
        "record": f"evidence:{second}"}
