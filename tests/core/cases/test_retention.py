"""The retention policy (core.cases.retention) and its runs (core.operations.retention_run):
which cases are due, legal holds, reopened cases, dry runs, retention off, and files the
run could not delete."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit.log import Actor
from core.cases import workflow
from core.cases.casework import StageRefused, change_status
from core.cases.history import case_history
from core.cases.retention import (
    ContentDestroyed,
    case_by_reference,
    due_cases,
    set_legal_hold,
)
from core.db import transaction
from core.errors import AccessDenied, NotFound
from core.models import AuditEvent, Case, CaseStatus, ScopeDecision
from core.operations.cleanup import sweep_orphan_blobs
from core.operations.retention_run import run_retention
from tests.core.cases.retention_world import build_full_case, dump
from tests.core.factories import detached_case, handlers_and_case, submit


def _run(session_factory, services, day, **kwargs):
    return run_retention(lambda: transaction(session_factory), services, day, **kwargs)


def _with_days(services, days: int):
    return dataclasses.replace(services,
                               config=dataclasses.replace(services.config, retention_days=days))


@pytest.fixture
def referred(session_factory, services):
    """alice, bob and a case alice referred elsewhere today (a final stage)."""
    alice, bob, result = handlers_and_case(session_factory, services)
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, result.case_id,
                              ScopeDecision.REFERRED, message="Ask HR.")
    return alice, bob, result


def _holds(session_factory, case_id) -> list[dict]:
    with session_factory() as s:
        return [json.loads(d) for d in s.execute(
            select(AuditEvent.detail).where(AuditEvent.case_id == case_id,
                                            AuditEvent.action == "case:hold")
            .order_by(AuditEvent.position)).scalars()]


def test_every_final_stage_sets_closed_on_and_reopening_clears_it(session_factory, services,
                                                                  referred) -> None:
    alice, _bob, result = referred
    today = services.clock.today()
    assert detached_case(session_factory, result.case_id).closed_on == today
    with transaction(session_factory) as s:
        workflow.reopen_case(s, services, alice.unlocked, result.case_id, "New facts.")
    assert detached_case(session_factory, result.case_id).closed_on is None
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, result.case_id,
                              ScopeDecision.NOT_ADMISSIBLE, message="Out of scope.")
    case = detached_case(session_factory, result.case_id)
    assert (case.status, case.closed_on) == (CaseStatus.NOT_ADMISSIBLE, today)


def test_only_finished_cases_past_their_day_are_due(session_factory, services,
                                                    referred) -> None:
    _alice, _bob, result = referred
    submit(session_factory, services)  # still open: never due
    today = services.clock.today()
    day = today + timedelta(days=services.config.retention_days)
    with session_factory() as s:
        assert due_cases(s, services, day - timedelta(days=1)) == []
        (due,) = due_cases(s, services, day)
    assert (due.reference, due.closed_on, due.due_on) == (result.reference, today, day)
    with session_factory() as s:
        before = dump(s)
    summary = _run(session_factory, services, day - timedelta(days=1))
    assert summary.due == summary.destroyed == []
    with session_factory() as s:
        assert dump(s) == before  # not yet due: untouched


def test_a_dry_run_lists_and_changes_nothing(session_factory, services, referred) -> None:
    _alice, _bob, result = referred
    day = services.clock.today() + timedelta(days=services.config.retention_days)
    with session_factory() as s:
        before = dump(s)
    blobs = sorted(services.blobs.list_blobs())
    summary = _run(session_factory, services, day, dry_run=True)
    assert [c.reference for c in summary.due] == [result.reference]
    assert summary.destroyed == []
    with session_factory() as s:
        assert dump(s) == before
    assert sorted(services.blobs.list_blobs()) == blobs


def test_retention_days_zero_destroys_nothing(session_factory, services, referred) -> None:
    off = _with_days(services, 0)
    far = services.clock.today() + timedelta(days=100 * 365)
    with session_factory() as s:
        before = dump(s)
        assert due_cases(s, off, far) == []
    assert _run(session_factory, off, far).destroyed == []
    with session_factory() as s:
        assert dump(s) == before


def test_a_legal_hold_stops_destruction_until_lifted(session_factory, services,
                                                     referred) -> None:
    alice, bob, result = referred
    day = services.clock.today() + timedelta(days=services.config.retention_days)
    with transaction(session_factory) as s:
        case = case_by_reference(s, result.reference)
        assert set_legal_hold(s, services, case, True, alice.unlocked.actor)
        assert not set_legal_hold(s, services, case, True, alice.unlocked.actor)  # no change
    with session_factory() as s:
        before = dump(s)
    assert _run(session_factory, services, day + timedelta(days=3650)).destroyed == []
    with session_factory() as s:
        assert dump(s) == before
    with transaction(session_factory) as s:
        set_legal_hold(s, services, s.get(Case, result.case_id), False, Actor.system())
    assert _holds(session_factory, result.case_id) == [{"hold": True}, {"hold": False}]
    assert [c.reference for c in _run(session_factory, services, day).destroyed] == [
        result.reference]
    with transaction(session_factory) as s, pytest.raises(ContentDestroyed):
        set_legal_hold(s, services, s.get(Case, result.case_id), True, Actor.system())
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        # Nothing can reopen a destroyed case.
        change_status(s, services, Actor.system(), s.get(Case, result.case_id),
                      CaseStatus.ACKNOWLEDGED)
    # The hold and the destruction are part of the case's handling history.
    with session_factory() as s:
        handled = [e.action for e in case_history(s, result.case_id)]
    assert [a for a in handled if a in ("case:destroy", "case:hold")] == [
        "case:destroy", "case:hold", "case:hold"]  # newest first
    del bob


def test_only_the_case_lead_places_a_hold(session_factory, services) -> None:
    alice, bob, result = handlers_and_case(session_factory, services)
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, result.case_id,
                              ScopeDecision.ACCEPTED, lead_id=bob.id)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        set_legal_hold(s, services, s.get(Case, result.case_id), True, alice.unlocked.actor)
    with transaction(session_factory) as s:
        set_legal_hold(s, services, s.get(Case, result.case_id), True, bob.unlocked.actor)
    assert detached_case(session_factory, result.case_id).legal_hold
    with session_factory() as s, pytest.raises(NotFound):
        case_by_reference(s, "NO-SUCH-REF")


def test_a_reopened_case_is_not_destroyed(session_factory, services, referred) -> None:
    alice, _bob, result = referred
    day = services.clock.today() + timedelta(days=services.config.retention_days)
    with transaction(session_factory) as s:
        workflow.reopen_case(s, services, alice.unlocked, result.case_id, "New facts.")
    with session_factory() as s:
        before = dump(s)
    assert _run(session_factory, services, day + timedelta(days=1)).due == []
    with session_factory() as s:
        assert dump(s) == before


class _FailingDeletes:
    """A blob store whose deletes fail (a store that is briefly unreachable)."""

    def __init__(self, store) -> None:
        self.store = store

    def __getattr__(self, name):
        return getattr(self.store, name)

    def delete(self, blob_id: str) -> None:
        raise OSError("store unreachable")


def test_blobs_a_run_could_not_delete_are_swept_by_cleanup(session_factory, services) -> None:
    full = build_full_case(session_factory, services)
    broken = dataclasses.replace(services, blobs=_FailingDeletes(services.blobs))
    day = services.clock.today() + timedelta(days=services.config.retention_days)
    summary = _run(session_factory, broken, day)
    assert [c.reference for c in summary.destroyed] == [full.reference]
    assert summary.blobs_left == len(full.blob_ids) == 4
    assert full.blob_ids <= {b for b, _day in services.blobs.list_blobs()}  # orphans
    with transaction(session_factory) as s:
        assert sweep_orphan_blobs(s, services.blobs, day) == 4
    assert full.blob_ids.isdisjoint(b for b, _day in services.blobs.list_blobs())
