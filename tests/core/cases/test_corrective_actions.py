"""core.cases.actions: corrective actions only after the decision, owned by the team, dated
sensibly, and the case's earliest open due date kept exact; following up needs an open
action."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.cases import workflow
from core.cases.actions import (
    DUE_SOON_DAYS,
    MAX_HORIZON_DAYS,
    add_action,
    due_actions,
    update_action,
)
from core.cases.casework import StageRefused
from core.cases.casework_reading import read_casework
from core.cases.inbox_counts import computed_counts, stored_counts
from core.db import transaction
from core.errors import InvalidInput, NotFound
from core.models import (
    ActionStatus,
    AuditEvent,
    CaseStatus,
    CorrectiveAction,
    ScopeDecision,
)
from core.staff.accounts import deactivate_reviewer
from tests.core.cases.casework_fixtures import (
    DECISION,
    accepted_case,
    case_row,
    count,
    decide,
    details,
    member_copies,
    stopped_clock,
)
from tests.core.factories import add_reviewer, audit_size, seed_categories, submit


@pytest.fixture
def fixed(services):
    return stopped_clock(services)


@pytest.fixture
def team(session_factory, services, fixed):
    return accepted_case(session_factory, services, fixed)


@pytest.mark.parametrize("stage", [CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED,
                                   CaseStatus.UNDER_INVESTIGATION])
def test_no_action_before_the_decision(session_factory, services, fixed, stage) -> None:
    alice = add_reviewer(session_factory, services, "alice")
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    case_id = submit(session_factory, fixed).case_id
    with transaction(session_factory) as s:
        if stage is CaseStatus.ACKNOWLEDGED:
            workflow.acknowledge(s, fixed, alice.unlocked, case_id, "Received.")
        elif stage is CaseStatus.UNDER_INVESTIGATION:
            workflow.decide_scope(s, fixed, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                                  lead_id=alice.id)
    assert case_row(session_factory, case_id).status is stage
    size = audit_size(session_factory)
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        add_action(s, fixed, alice.unlocked, case_id, title="Too early", notes="",
                   owner_id=alice.id, due_on=fixed.clock.today() + timedelta(days=3))
    assert count(session_factory, CorrectiveAction) == 0
    assert audit_size(session_factory) == size
    assert case_row(session_factory, case_id).actions_due is None


def test_the_owner_is_an_active_member_of_the_team(session_factory, services, fixed,
                                                   team) -> None:
    alice, bob, case_id = team
    decide(session_factory, fixed, team)
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
    assert count(session_factory, CorrectiveAction) == 0
    assert audit_size(session_factory) == size


def test_the_due_date_is_from_today_within_five_years(session_factory, fixed, team) -> None:
    alice, bob, case_id = team
    decide(session_factory, fixed, team)
    today = fixed.clock.today()
    size = audit_size(session_factory)
    for due in (today - timedelta(days=1), today - timedelta(days=400),
                today + timedelta(days=MAX_HORIZON_DAYS + 1)):
        with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
            add_action(s, fixed, bob.unlocked, case_id, title="X", notes="",
                       owner_id=alice.id, due_on=due)
        assert refused.value.field == "due_on"
    assert count(session_factory, CorrectiveAction) == 0
    assert audit_size(session_factory) == size
    with transaction(session_factory) as s:  # both bounds are allowed
        add_action(s, fixed, bob.unlocked, case_id, title="Today", notes="",
                   owner_id=alice.id, due_on=today)
        add_action(s, fixed, bob.unlocked, case_id, title="Far", notes="",
                   owner_id=alice.id, due_on=today + timedelta(days=MAX_HORIZON_DAYS))
    assert count(session_factory, CorrectiveAction) == 2


def test_the_case_keeps_the_earliest_open_due_date(session_factory, fixed, team) -> None:
    alice, bob, case_id = team
    decide(session_factory, fixed, team)
    today = fixed.clock.today()
    in_3, in_10, in_20 = (today + timedelta(days=n) for n in (3, 10, 20))
    with transaction(session_factory) as s:
        late = add_action(s, fixed, bob.unlocked, case_id, title="Late", notes="Later.",
                          owner_id=alice.id, due_on=in_20).id
    assert case_row(session_factory, case_id).actions_due == in_20
    assert member_copies(session_factory, case_id) == {in_20}
    with transaction(session_factory) as s:
        soon = add_action(s, fixed, bob.unlocked, case_id, title="Soon", notes="",
                          owner_id=bob.id, due_on=in_3).id
        middle = add_action(s, fixed, bob.unlocked, case_id, title="Middle", notes="",
                            owner_id=alice.id, due_on=in_10).id
    assert case_row(session_factory, case_id).actions_due == in_3
    assert member_copies(session_factory, case_id) == {in_3}

    # In progress is still open.
    with transaction(session_factory) as s:
        update_action(s, fixed, bob.unlocked, case_id, soon, status=ActionStatus.IN_PROGRESS,
                      note="Ordered the part.")
    assert case_row(session_factory, case_id).actions_due == in_3
    with transaction(session_factory) as s:
        update_action(s, fixed, bob.unlocked, case_id, soon, status=ActionStatus.DONE,
                      note="Fitted.")
    assert case_row(session_factory, case_id).actions_due == in_10
    assert member_copies(session_factory, case_id) == {in_10}
    with transaction(session_factory) as s:
        update_action(s, fixed, alice.unlocked, case_id, middle, status=ActionStatus.DONE,
                      note="Done.")
        update_action(s, fixed, alice.unlocked, case_id, late, status=ActionStatus.DONE,
                      note="Done too.")
    assert case_row(session_factory, case_id).actions_due is None
    assert member_copies(session_factory, case_id) == {None}
    # Reopened by a later note: the date comes back.
    with transaction(session_factory) as s:
        update_action(s, fixed, alice.unlocked, case_id, late, status=ActionStatus.OPEN,
                      note="It failed again.")
    assert case_row(session_factory, case_id).actions_due == in_20
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
    hashes = [d["sha256"] for d in details(session_factory, "case:action:add")]
    with session_factory() as s:
        rows = s.execute(select(CorrectiveAction).order_by(CorrectiveAction.position)).scalars()
        assert hashes == [hashlib.sha256(r.ciphertext).hexdigest() for r in rows]


def test_an_action_of_another_case_is_not_found(session_factory, fixed, team) -> None:
    alice, bob, case_id = team
    decide(session_factory, fixed, team)
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
    decide(session_factory, fixed, team)
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
    assert now[0].reference == case_row(session_factory, case_id).reference
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


def test_an_action_is_handed_to_another_member(session_factory, services, fixed,
                                               team) -> None:
    """The owner changes with a follow-up: the new owner is reminded from then on, the update
    says who took it over, and the audit event names both owners (#13's open point)."""
    alice, bob, case_id = team
    decide(session_factory, fixed, team)
    due = fixed.clock.today() + timedelta(days=2)
    with transaction(session_factory) as s:
        action = add_action(s, fixed, bob.unlocked, case_id, title="Fix the printer",
                            notes="", owner_id=bob.id, due_on=due)
        action_id = action.id
    outsider = add_reviewer(session_factory, services, "olga")
    size = audit_size(session_factory)
    with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
        update_action(s, fixed, bob.unlocked, case_id, action_id,
                      status=ActionStatus.IN_PROGRESS, note="Handing over", owner_id=outsider.id)
    assert refused.value.field == "owner" and audit_size(session_factory) == size
    with transaction(session_factory) as s:
        update_action(s, fixed, bob.unlocked, case_id, action_id,
                      status=ActionStatus.IN_PROGRESS, note="Alice takes it over",
                      owner_id=alice.id)
    with session_factory() as s:
        assert s.get(CorrectiveAction, action_id).owner_id == alice.id
        assert [d.owner_id for d in due_actions(s, fixed.clock.today(), owner_id=alice.id)] == [
            alice.id]
        assert due_actions(s, fixed.clock.today(), owner_id=bob.id) == []
        event = s.execute(select(AuditEvent).order_by(AuditEvent.position.desc())
                          .limit(1)).scalar_one()
    assert event.action == "case:action:update"
    assert json.loads(event.detail)["owner_id"] == alice.id
    assert json.loads(event.detail)["previous_owner_id"] == bob.id
    with transaction(session_factory) as s:
        view = read_casework(s, fixed, bob.unlocked, case_id)
    update = view.actions[0].updates[-1]
    assert update.content.text("owner") == "alice"
    assert update.content.text("note") == "Alice takes it over"
    # Naming the current owner again is no change of owner.
    with transaction(session_factory) as s:
        update_action(s, fixed, alice.unlocked, case_id, action_id,
                      status=ActionStatus.IN_PROGRESS, note="Still mine", owner_id=alice.id)
    with transaction(session_factory) as s:
        view = read_casework(s, fixed, alice.unlocked, case_id)
    assert view.actions[0].updates[-1].content.text("owner") == ""
