"""Re-stamping: once a day has ended, the rows a reporter wrote no longer carry, in
PostgreSQL's xmin, the transaction that places them between staff events with exact times."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from core.clock import Clock
from core.db import transaction
from core.usecases.casework import read_case_for_reviewer
from core.usecases.restamp import restamp_reporter_rows
from core.usecases.submitter import login_submitter, post_submitter_message
from tests.core.factories import add_reviewer, seed_categories, submit

DAY_AT_TEN = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
#: Every table holding rows that a reporter's transaction writes, with how to find them.
REPORTER_ROWS = {
    "cases": "select {col} from cases",
    "case_grants": "select {col} from case_grants",
    "case_members": "select {col} from case_members",
    "messages": "select {col} from messages where author = 'submitter'",
    "attachments": "select {col} from attachments",
    "inbox_counts": "select {col} from inbox_counts",
}


@pytest.fixture
def reporter_day(session_factory, services):
    """A reporter submits with a file and writes a message at 10:00; a case handler reads
    the case at 10:05 (an audit event with its exact time). Returns the services."""
    now = [DAY_AT_TEN]
    services = dataclasses.replace(services, clock=Clock(now=lambda: now[0]))
    ivy = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [ivy.id]})
    result = submit(session_factory, services, files=[("a.txt", b"evidence")])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        post_submitter_message(s, services, access, "more")
    now[0] = DAY_AT_TEN + timedelta(minutes=5)
    with transaction(session_factory) as s:
        read_case_for_reviewer(s, services, ivy.unlocked, result.case_id)
    return services, now


def _rows(session_factory, column: str) -> dict[str, list]:
    with session_factory() as s:
        return {table: sorted(s.execute(text(query.format(col=column))).all())
                for table, query in REPORTER_ROWS.items()}


def _xmins(session_factory) -> dict[str, list[int]]:
    return {table: [r[0] for r in rows]
            for table, rows in _rows(session_factory, "xmin::text::bigint").items()}


def _staff_event_xmin(session_factory) -> int:
    with session_factory() as s:
        return s.execute(text(
            "select xmin::text::bigint from audit_events where action = 'case:report:decrypt'"
        )).scalar_one()


def test_rows_of_an_ended_day_lose_their_transaction_order(backend, session_factory,
                                                           reporter_day):
    services, now = reporter_day
    before = _rows(session_factory, "*")
    assert all(before.values()), "every kind of reporter row exists"
    if backend == "postgresql":
        staff = _staff_event_xmin(session_factory)
        # The leak: the reporter's rows were written before the 10:05 staff event.
        assert min(x for xs in _xmins(session_factory).values() for x in xs) < staff

    # Later the same day nothing of today is rewritten: the day has not ended.
    now[0] = DAY_AT_TEN + timedelta(hours=13, minutes=59)
    with transaction(session_factory) as s:
        assert restamp_reporter_rows(s, services.clock) == len(before["inbox_counts"])

    now[0] = DAY_AT_TEN + timedelta(hours=16, minutes=1)  # 02:01, past the grace period
    with transaction(session_factory) as s:
        rewritten = restamp_reporter_rows(s, services.clock)
    assert rewritten == sum(len(rows) for rows in before.values())
    assert _rows(session_factory, "*") == before  # the content is untouched
    if backend == "postgresql":
        for table, xmins in _xmins(session_factory).items():
            assert min(xmins) > staff, table


def test_days_beyond_the_reach_are_left_alone(session_factory, reporter_day):
    """Each run reaches 14 days back (a few missed daily runs lose nothing), no further."""
    services, now = reporter_day
    counters = len(_rows(session_factory, "*")["inbox_counts"])
    now[0] = DAY_AT_TEN + timedelta(days=20)
    with transaction(session_factory) as s:
        assert restamp_reporter_rows(s, services.clock) == counters
