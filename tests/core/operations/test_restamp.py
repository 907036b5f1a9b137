"""Re-stamping: once a day has ended, the rows a reporter wrote no longer carry, in
PostgreSQL's xmin, the transaction that places them between staff events with exact times."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update

import core.operations.restamp as restamp_module
from core.audit.log import REPORTER_EVENT_GRACE
from core.cases.casework import read_case_for_reviewer
from core.clock import Clock
from core.db import transaction
from core.intake.reporter import login_submitter, post_submitter_message
from core.intake.submission_tokens import claim_submission_token, new_submission_token
from core.models import Reviewer
from core.operations.notifications import queue_case_notification
from core.operations.restamp import restamp_reporter_rows
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
    "pending_notifications": "select {col} from pending_notifications",
    "statistics_months": "select {col} from statistics_months",  # marked by the submission
    "reporter_exclusions": "select {col} from reporter_exclusions",
    "submission_tokens": "select {col} from submission_tokens",  # the sent report form
}


@pytest.fixture
def reporter_day(session_factory, services):
    """A reporter submits with a file and writes a message at 10:00 (the team is marked for
    an email); a case handler reads the case at 10:05, an audit event with its exact time.
    Returns the services, a settable clock, and the case id."""
    now = [DAY_AT_TEN]
    services = dataclasses.replace(services, clock=Clock(now=lambda: now[0]))
    ivy = add_reviewer(session_factory, services, "ivy")
    with transaction(session_factory) as s:
        s.execute(update(Reviewer).values(email="ivy@example.org"))
    kai = add_reviewer(session_factory, services, "kai")
    seed_categories(session_factory, {"it_fault": [ivy.id, kai.id]}, services=services)
    result = submit(session_factory, services, files=[("a.txt", b"evidence")],
                    excluded_handlers=[kai.id])  # the reporter leaves kai out
    with transaction(session_factory) as s:
        claim_submission_token(s, new_submission_token())  # as the portal's form does
        access = login_submitter(s, services, result.receipt_code)
        post_submitter_message(s, services, access, "more")
        assert queue_case_notification(s, result.case_id) == 1
    now[0] = DAY_AT_TEN + timedelta(minutes=5)
    with transaction(session_factory) as s:
        read_case_for_reviewer(s, services, ivy.unlocked, result.case_id)
    return services, now, result


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
            "select max(xmin::text::bigint) from audit_events "
            "where action = 'case:report:decrypt'")).scalar_one()


def _dayless(rows: dict[str, list]) -> int:
    """The rows every run rewrites, ended period or not: they carry no day to select by."""
    return sum(len(rows[t]) for t in ("inbox_counts", "pending_notifications",
                                      "statistics_months", "submission_tokens"))


def _restamp(session_factory, clock, **kwargs) -> int:
    return restamp_reporter_rows(lambda: transaction(session_factory), clock, **kwargs)


def test_rows_of_an_ended_day_lose_their_transaction_order(backend, session_factory,
                                                           reporter_day, monkeypatch):
    services, now, _result = reporter_day
    before = _rows(session_factory, "*")
    assert all(before.values()), "every kind of reporter row exists"
    always = _dayless(before)
    if backend == "postgresql":
        staff = _staff_event_xmin(session_factory)
        # The leak: the reporter's rows were written before the 10:05 staff event.
        assert min(x for xs in _xmins(session_factory).values() for x in xs) < staff

    # A minute before the grace after midnight ends, the day is not yet over for stragglers:
    # only the counters, marks and sent forms, which carry no day, are rewritten.
    midnight = DAY_AT_TEN + timedelta(hours=14)
    now[0] = midnight + REPORTER_EVENT_GRACE - timedelta(minutes=1)
    assert _restamp(session_factory, services.clock) == always

    monkeypatch.setattr(restamp_module, "BATCH_SIZE", 1)  # batches of one case: still all
    now[0] = midnight + REPORTER_EVENT_GRACE + timedelta(minutes=1)
    assert _restamp(session_factory, services.clock) == sum(len(r) for r in before.values())
    assert _rows(session_factory, "*") == before  # the content is untouched
    if backend == "postgresql":
        for table, xmins in _xmins(session_factory).items():
            assert min(xmins) > staff, table


def test_an_old_case_with_a_new_reply_is_rewritten(backend, session_factory, reporter_day):
    """The case row and the reporter's new message are rewritten, however old the case."""
    services, now, result = reporter_day
    now[0] = DAY_AT_TEN + timedelta(days=30)
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        post_submitter_message(s, services, access, "a month later")
    marks = _rows(session_factory, "*")
    always = _dayless(marks)
    now[0] += timedelta(days=1)
    # The case (active again), its grants, members and exclusions, and the new message; not
    # the month-old message and file.
    with session_factory() as s:
        grants = s.execute(text("select count(*) from case_grants")).scalar_one()
        members = s.execute(text("select count(*) from case_members")).scalar_one()
    case_rows = 1 + grants + members + len(marks["reporter_exclusions"]) + 1
    assert _restamp(session_factory, services.clock) == always + case_rows
    if backend == "postgresql":
        with session_factory() as s:
            staff = _staff_event_xmin(session_factory)
            fresh = s.execute(text("select xmin::text::bigint from messages "
                                   "where author = 'submitter' order by position desc")).first()[0]
            assert fresh > staff


def test_a_daily_run_reaches_two_weeks_back_and_restamp_all_everything(session_factory,
                                                                       reporter_day):
    services, now, _result = reporter_day
    everything = _rows(session_factory, "*")
    always = _dayless(everything)
    now[0] = DAY_AT_TEN + timedelta(days=20)
    assert _restamp(session_factory, services.clock) == always
    assert _restamp(session_factory, services.clock, whole_history=True) == sum(
        len(rows) for rows in everything.values())


def test_at_week_precision_a_week_is_rewritten_after_it_ends(session_factory, services):
    """Rows dated by their week's Monday wait for the week's end (plus the grace period)."""
    from core.clock import DatePrecision

    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    now = [saturday]
    services = dataclasses.replace(
        services, clock=Clock(now=lambda: now[0], precision=DatePrecision.WEEK))
    ivy = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    submit(session_factory, services)
    rows = _rows(session_factory, "*")
    always = _dayless(rows)
    monday = datetime(2026, 3, 9, tzinfo=UTC)
    now[0] = monday + REPORTER_EVENT_GRACE - timedelta(minutes=1)  # within the grace period
    assert _restamp(session_factory, services.clock) == always
    now[0] = monday + REPORTER_EVENT_GRACE + timedelta(minutes=1)
    assert _restamp(session_factory, services.clock) == sum(len(r) for r in rows.values())


def test_month_cells_a_reporters_submission_counted_lose_its_transaction(backend, engine,
                                                                        services):
    """The day's first change to a month counts the month's earlier changes in the changing
    transaction (core.statistics.recount.hold_for_change): a reporter's, whose id the cells
    then carry, between staff events (second reader). Once the day is over they are
    rewritten with their month."""
    from core.db import make_session_factory
    from core.models import Case, StatisticsCell

    now = [DAY_AT_TEN - timedelta(days=1)]
    clock = Clock(now=lambda: now[0])
    services = dataclasses.replace(services, clock=clock)
    sessions = make_session_factory(engine, statistics_day=clock.statistics_day)
    ivy = add_reviewer(sessions, services, "ivy")
    seed_categories(sessions, {"it_fault": [ivy.id]}, services=services)
    for _ in range(3):
        submit(sessions, services)  # the day before: not counted yet
    now[0] = DAY_AT_TEN
    new = submit(sessions, services)  # the day's first change: counts the three first
    now[0] = DAY_AT_TEN + timedelta(minutes=5)
    with transaction(sessions) as s:
        read_case_for_reviewer(s, services, ivy.unlocked, new.case_id)

    def cells() -> list[tuple[int, ...]]:
        with sessions() as s:
            column = "xmin::text::bigint" if backend == "postgresql" else "0"
            return sorted(s.execute(text(f"select {column}, month, level, measure, key, count "
                                         "from statistics_cells")).all())

    before = cells()
    assert sum(row[-1] for row in before if row[2:5] == (0, "cases", "")) == 3
    if backend == "postgresql":
        with sessions() as s:
            reporter = s.execute(text("select xmin::text::bigint from cases where id = :id"),
                                 {"id": new.case_id}).scalar_one()
        assert {row[0] for row in before} == {reporter}  # the leak
    now[0] = DAY_AT_TEN + timedelta(days=1) + REPORTER_EVENT_GRACE
    rewritten = restamp_reporter_rows(lambda: transaction(sessions), clock)
    after = cells()
    assert [row[1:] for row in after] == [row[1:] for row in before]  # the counts unchanged
    with sessions() as s:
        assert rewritten >= len(after) + s.query(Case).count()
        assert s.query(StatisticsCell).count() == len(after)
    if backend == "postgresql":
        assert min(row[0] for row in after) > _staff_event_xmin(sessions)
