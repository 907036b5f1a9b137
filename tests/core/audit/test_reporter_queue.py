"""Reporters' audit events: queued with their date only, then appended a whole day (week)
at a time, shuffled, once stragglers of the day can no longer commit (core.audit.log)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.audit.log import (
    REPORTER_EVENT_GRACE,
    Actor,
    AuditAction,
    record_event,
    sequence_reporter_events,
)
from core.clock import Clock
from core.db import transaction
from core.models import PendingAuditEvent
from tests.core.audit.test_log import all_events, verify_all

A = AuditAction


def _queue_reporter_events(session_factory, clock, count):
    for i in range(count):
        with transaction(session_factory) as s:
            record_event(s, clock, A.CASE_OPENED_BY_SUBMITTER, Actor.submitter(), case_id=i)


def test_a_day_is_appended_shuffled(session_factory):
    """The chain must not keep the order in which a day's reporter events happened."""
    day_clock = Clock(now=lambda: datetime(2026, 3, 4, 10, tzinfo=UTC))
    _queue_reporter_events(session_factory, day_clock, 40)
    with transaction(session_factory) as s:
        tokens = sorted(bytes(p.token) for p in s.scalars(select(PendingAuditEvent)))
        by_token = {bytes(p.token): p.case_id for p in s.scalars(select(PendingAuditEvent))}
    later = Clock(now=lambda: datetime(2026, 3, 5, 9, tzinfo=UTC))
    with transaction(session_factory) as s:
        assert sequence_reporter_events(s, later) == 40
    with session_factory() as s:
        logged = [e.case_id for e in all_events(s)]
    # Random keys decide the order: not the order of the actions (0, 1, 2, ...), ...
    assert logged != list(range(40))
    assert sorted(logged) == list(range(40))
    # ... but the order of the keys, which is fixed and unrelated to time.
    assert logged == [by_token[t] for t in tokens]
    verify_all(session_factory)


def test_a_day_waits_for_stragglers_before_it_is_appended(session_factory):
    """A reporter's transaction begun before midnight may commit after it (a long upload):
    staff events in the first hours of the next day do not take the day's queue, so the
    straggler still joins its day's batch instead of landing after the next day's events."""
    def at(hour: int, minute: int = 0, day: int = 17) -> Clock:
        return Clock(now=lambda: datetime(2026, 3, day, hour, minute, tzinfo=UTC))

    _queue_reporter_events(session_factory, at(15), 2)
    with transaction(session_factory) as s:  # a staff event at 00:00:01, next day
        record_event(s, at(0, 0, day=18), A.CATEGORY_CHANGED, Actor.system())
    # The straggler: begun at 23:59 with the 17th's date, committed at 00:40 on the 18th.
    with transaction(session_factory) as s:
        record_event(s, at(0, 40, day=18), A.SUBMITTER_MESSAGE_POSTED, Actor.submitter(),
                     day=at(23, 59).submitter_day())
    grace_hours = int(REPORTER_EVENT_GRACE.total_seconds() // 3600)
    with transaction(session_factory) as s:  # a minute before the grace ends: still waiting
        assert sequence_reporter_events(s, at(grace_hours - 1, 59, day=18)) == 0
    with transaction(session_factory) as s:
        record_event(s, at(grace_hours, 1, day=18), A.CATEGORY_CHANGED, Actor.system())
    with session_factory() as s:
        events = all_events(s)
    assert [e.actor_kind for e in events] == ["system", "submitter", "submitter", "submitter",
                                              "system"]
    assert {str(e.occurred_at) for e in events[1:4]} == {"2026-03-17 00:00:00+00:00"}
    verify_all(session_factory)


def test_a_day_ends_in_the_organisations_time_zone(session_factory):
    # West of UTC the organisation's day ends after UTC's: at 23:30 in Los Angeles (06:30
    # UTC the next day) the local day is still running, and its queue must wait for its own
    # midnight plus the grace, or the rest of the day's events would land after the batch.
    from zoneinfo import ZoneInfo

    los_angeles = ZoneInfo("America/Los_Angeles")

    def local(day: int, hour: int, minute: int = 0) -> Clock:
        # The clock tells UTC, as in production (core.clock.utc_now).
        moment = datetime(2026, 3, day, hour, minute, tzinfo=los_angeles).astimezone(UTC)
        return Clock(now=lambda: moment, zone=los_angeles)

    _queue_reporter_events(session_factory, local(17, 15), 2)
    grace_hours = int(REPORTER_EVENT_GRACE.total_seconds() // 3600)
    with transaction(session_factory) as s:
        assert sequence_reporter_events(s, local(17, 23, 30)) == 0
    with transaction(session_factory) as s:
        assert sequence_reporter_events(s, local(18, grace_hours - 1, 59)) == 0
    with transaction(session_factory) as s:
        assert sequence_reporter_events(s, local(18, grace_hours, 1)) == 2
