"""Setting `submitter_date_precision = "week"`: a reporter's actions keep only their week."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import inspect, select, text

from core.audit.log import REPORTER_EVENT_GRACE, sequence_reporter_events
from core.cases.content import ReportContent
from core.clock import Clock, DatePrecision
from core.config import ConfigError, load_config
from core.db import transaction
from core.errors import MessageLimitReached
from core.intake.reporter import (
    login_submitter,
    post_submitter_message,
    store_submitter_file,
)
from core.intake.submission import SubmissionDraft, submit_report
from core.models import Attachment, AuditEvent, Case, Message, PendingAuditEvent
from core.operations.cleanup import sweep_orphan_blobs
from core.services import build_services
from tests.core.factories import add_reviewer, seed_categories, submit

#: A Saturday; its week starts on Monday 13 May 2024.
SATURDAY = date(2024, 5, 18)
MONDAY = date(2024, 5, 13)


@pytest.fixture
def intake(session_factory, services):
    reviewer = add_reviewer(session_factory, services, "ivy.intake")
    seed_categories(session_factory, {"it_fault": [reviewer.id]}, services=services)
    return reviewer


def weekly(services, moment):
    """`services` at week precision, with the clock reading `moment` (a one-item list)."""
    config = dataclasses.replace(services.config, submitter_date_precision=DatePrecision.WEEK)
    return dataclasses.replace(
        services, config=config, clock=Clock(now=lambda: moment[0], precision=DatePrecision.WEEK))


# --- the precision itself ---------------------------------------------------------------------


@pytest.mark.parametrize("offset", range(7))
def test_every_day_of_a_week_is_stored_as_its_monday(offset):
    day = MONDAY + timedelta(days=offset)
    assert DatePrecision.WEEK.start_of(day) == MONDAY
    assert DatePrecision.WEEK.last_day(MONDAY) == MONDAY + timedelta(days=6)
    assert DatePrecision.DAY.start_of(day) == day
    assert DatePrecision.DAY.last_day(day) == day


def test_clock_coarsens_only_reporter_dates():
    moment = datetime.combine(SATURDAY, time(21, 5, 9), tzinfo=UTC)
    clock = Clock(now=lambda: moment, precision=DatePrecision.WEEK)
    assert clock.today() == SATURDAY  # staff actions and housekeeping keep the real day
    assert clock.submitter_day() == MONDAY
    assert Clock(now=lambda: moment).submitter_day() == SATURDAY


# --- configuration ----------------------------------------------------------------------------


def test_precision_defaults_to_day_and_is_read_from_file_and_environment(tmp_path):
    assert load_config({}, data_dir=tmp_path).submitter_date_precision is DatePrecision.DAY
    (tmp_path / "candor.toml").write_text('submitter_date_precision = "week"\n')
    config = load_config({}, data_dir=tmp_path)
    assert config.submitter_date_precision is DatePrecision.WEEK
    env = {"CANDOR_SUBMITTER_DATE_PRECISION": "Day"}
    assert load_config(env, data_dir=tmp_path).submitter_date_precision is DatePrecision.DAY


@pytest.mark.parametrize("value", ["month", "hour", "", "7"])
def test_other_precisions_are_refused_with_the_reason(tmp_path, value):
    with pytest.raises(ConfigError) as raised:
        load_config({"CANDOR_SUBMITTER_DATE_PRECISION": value}, data_dir=tmp_path)
    message = str(raised.value)
    assert "submitter_date_precision" in message and "'day' or 'week'" in message
    assert "deadlines" in message


def test_week_precision_needs_a_week_to_acknowledge(tmp_path):
    """From the Monday, a shorter deadline would be past before Sunday's reports arrive."""
    with pytest.raises(ConfigError, match="acknowledge_days = 6 is too short"):
        load_config({"CANDOR_SUBMITTER_DATE_PRECISION": "week",
                     "CANDOR_ACKNOWLEDGE_DAYS": "6"}, data_dir=tmp_path)
    config = load_config({}, data_dir=tmp_path, acknowledge_days=3)
    with pytest.raises(ConfigError):
        dataclasses.replace(config, submitter_date_precision=DatePrecision.WEEK)
    weekly_config = load_config({}, data_dir=tmp_path, submitter_date_precision="week",
                                acknowledge_days=7)
    assert weekly_config.acknowledge_days == 7


def test_services_store_at_the_configured_precision(tmp_path):
    from core.keyring import Keyring

    config = load_config({}, data_dir=tmp_path, submitter_date_precision="week")
    services = build_services(config, keyring=Keyring.generate())
    assert services.clock.precision is DatePrecision.WEEK


# --- what is stored ---------------------------------------------------------------------------


def _dump(session) -> str:
    """Every column of every table as text, to look for a date in any form."""
    parts = []
    for table in inspect(session.connection()).get_table_names():
        for row in session.execute(text(f"select * from {table}")):  # noqa: S608 - own names
            parts.append("|".join(str(v) for v in row))
    return "\n".join(parts)


def test_week_precision_keeps_no_reporter_day_anywhere(session_factory, services, intake):
    moment = [datetime.combine(SATURDAY, time(21, 5, 9), tzinfo=UTC)]
    services = weekly(services, moment)
    result = submit(session_factory, services, files=[("a.txt", b"evidence")])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
    moment[0] += timedelta(hours=26)  # Sunday night: the same week
    stored = store_submitter_file(services, access, "b.txt", "text/plain", iter([b"more"]))
    with transaction(session_factory) as s:
        post_submitter_message(s, services, access, "one more thing", [stored])

    with session_factory() as s:
        case = s.get(Case, result.case_id)
        assert case.received_on == MONDAY
        assert case.submitter_active_on == MONDAY
        # Deadlines run from the Monday: early, never late.
        assert case.acknowledge_due == MONDAY + timedelta(days=7)
        assert {m.created_on for m in s.execute(select(Message)).scalars()} == {MONDAY}
        assert {a.created_on for a in s.execute(select(Attachment)).scalars()} == {MONDAY}
        queued = s.execute(select(PendingAuditEvent)).scalars().all()
        assert len(queued) == 2 and {p.occurred_on for p in queued} == {MONDAY}
        dump = _dump(s)
    for real_day in ("2024-05-18", "2024-05-19", "20240518", "20240519"):
        assert real_day not in dump
    monday_midnight = datetime(2024, 5, 13, tzinfo=UTC).timestamp()
    blob_files = [p for p in services.config.blob_dir.rglob("*") if p.is_file()]
    assert len(blob_files) == 2
    for path in blob_files:
        assert path.stat().st_mtime == monday_midnight
    assert {day for _, day in services.blobs.list_blobs()} == {MONDAY}


def test_reporter_events_of_a_week_enter_the_log_after_the_week(session_factory, services,
                                                                 intake):
    moment = [datetime.combine(SATURDAY, time(21, 5, 9), tzinfo=UTC)]
    services = weekly(services, moment)
    submit(session_factory, services)
    # Sunday night: the week is not over, nothing is logged yet.
    moment[0] = datetime.combine(SATURDAY + timedelta(days=1), time(23, 59), tzinfo=UTC)
    with transaction(session_factory) as s:
        assert sequence_reporter_events(s, services.clock) == 0
    next_monday = datetime.combine(MONDAY + timedelta(days=7), time(0), tzinfo=UTC)
    moment[0] = next_monday + REPORTER_EVENT_GRACE - timedelta(minutes=1)
    with transaction(session_factory) as s:  # stragglers of the week may still commit
        assert sequence_reporter_events(s, services.clock) == 0
    moment[0] = next_monday + REPORTER_EVENT_GRACE + timedelta(minutes=1)
    with transaction(session_factory) as s:
        assert sequence_reporter_events(s, services.clock) == 1
    with session_factory() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.actor_kind == "submitter")
                          ).scalar_one()
    assert event.occurred_at == datetime(2024, 5, 13, tzinfo=UTC)


def test_a_submission_keeps_one_date_across_midnight(session_factory, services, intake):
    """An upload that runs from Sunday night into Monday: every file and the case carry the
    Monday the upload began in, not two weeks whose boundary would date the upload."""
    moment = [datetime.combine(MONDAY + timedelta(days=6), time(23, 59, 30), tzinfo=UTC)]
    services = weekly(services, moment)
    draft = SubmissionDraft()
    draft.add_file(services, "first.txt", "text/plain", iter([b"first"]))
    moment[0] += timedelta(minutes=2)  # next week now
    draft.add_file(services, "second.txt", "text/plain", iter([b"second"]))
    with transaction(session_factory) as s:
        result = submit_report(s, services, draft, category_code="it_fault",
                               report=ReportContent(summary="Late upload", description="x"))
    with session_factory() as s:
        assert s.get(Case, result.case_id).received_on == MONDAY
        assert {a.created_on for a in s.execute(select(Attachment)).scalars()} == {MONDAY}
        assert s.execute(select(PendingAuditEvent.occurred_on)).scalar_one() == MONDAY
    assert {day for _, day in services.blobs.list_blobs()} == {MONDAY}


def test_message_limit_counts_the_stored_week(session_factory, services, intake):
    moment = [datetime.combine(MONDAY, time(9), tzinfo=UTC)]
    services = weekly(services, moment)
    services = dataclasses.replace(
        services, config=dataclasses.replace(services.config, messages_per_case_per_day=1))
    result = submit(session_factory, services)
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)

    def post(body):
        with transaction(session_factory) as s:
            post_submitter_message(s, services, access, body)

    # One a day is seven a week, however they are spread over the week.
    for n in range(7):
        moment[0] = datetime.combine(MONDAY + timedelta(days=n // 2), time(9), tzinfo=UTC)
        post(f"message {n}")
    with pytest.raises(MessageLimitReached) as refused:
        post("one too many")
    assert refused.value.period == "week" and "next week" in str(refused.value)
    moment[0] = datetime.combine(MONDAY + timedelta(days=7), time(0, 0, 1), tzinfo=UTC)
    post("a new week")
    with session_factory() as s:
        assert s.scalar(select(Message.id).where(Message.created_on == MONDAY + timedelta(days=7)))


def test_day_limit_says_tomorrow(session_factory, services, intake):
    services = dataclasses.replace(
        services, config=dataclasses.replace(services.config, messages_per_case_per_day=0))
    result = submit(session_factory, services)
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
    with pytest.raises(MessageLimitReached) as refused, transaction(session_factory) as s:
        post_submitter_message(s, services, access, "hello")
    assert refused.value.period == "day" and "tomorrow" in str(refused.value)


def test_orphan_sweep_counts_a_weeks_blob_from_its_last_possible_day(session_factory, services):
    moment = [datetime.combine(SATURDAY, time(23, 59), tzinfo=UTC)]
    services = weekly(services, moment)
    blob_id, _ = services.blobs.write(iter([b"ciphertext"]), day=services.clock.submitter_day())

    def sweep(on: date) -> int:
        with transaction(session_factory) as s:
            return sweep_orphan_blobs(s, services.blobs, on, 1)

    # Stored as Monday, it may have been written as late as Sunday 23:59, still uploading: it
    # must survive Monday (one day after Sunday is not yet one whole day), and go on Tuesday.
    next_monday = MONDAY + timedelta(days=7)
    assert sweep(next_monday) == 0
    assert blob_id in {b for b, _ in services.blobs.list_blobs()}
    assert sweep(next_monday + timedelta(days=1)) == 1
    assert not list(services.blobs.list_blobs())
