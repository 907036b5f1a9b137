"""Submission rules: deadlines, the reporter's message limit, dates, and what is never stored."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text

from core.audit.log import AuditAction
from core.cases.casework import (
    post_reviewer_message,
    read_case_for_reviewer,
    send_message,
)
from core.cases.content import ReportContent
from core.cases.contexts import report_context
from core.clock import Clock, add_months
from core.db import transaction
from core.errors import (
    InvalidInput,
)
from core.intake.reporter import (
    login_submitter,
    post_submitter_message,
    read_case_for_submitter,
    store_submitter_file,
)
from core.models import (
    Attachment,
    AuditEvent,
    Author,
    Case,
    CaseGrant,
    CaseStatus,
    KeyKind,
    Message,
    MessageKind,
    PendingAuditEvent,
    Recipient,
)
from crypto.keys import open_sealed
from crypto.receipt import format_receipt
from crypto.records import decrypt_record
from tests.core.factories import submit, walk_to
from tests.core.intake.test_submission import (
    _blob_files,
    read_file,
)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # leap day, next year
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2023, 12, 15), 1, date(2024, 1, 15)),  # year boundary
        (date(2023, 12, 31), 2, date(2024, 2, 29)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2023, 3, 31), 1, date(2023, 4, 30)),
        (date(2023, 5, 10), 0, date(2023, 5, 10)),
        (date(2023, 5, 31), 3, date(2023, 8, 31)),
        (date(2023, 10, 31), 14, date(2024, 12, 31)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 1, 15), -1, date(2023, 12, 15)),
        (date(1900, 1, 29), 1, date(1900, 2, 28)),  # 1900 is not a leap year
        (date(2000, 1, 29), 1, date(2000, 2, 29)),  # 2000 is
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("today", "ack_due", "feedback_due"),
    [
        # Feedback is due three months after the seven-day acknowledgement period ends.
        (date(2024, 1, 24), date(2024, 1, 31), date(2024, 4, 30)),
        (date(2023, 12, 28), date(2024, 1, 4), date(2024, 4, 4)),
        (date(2023, 11, 23), date(2023, 11, 30), date(2024, 2, 29)),
        (date(2024, 2, 22), date(2024, 2, 29), date(2024, 5, 29)),
    ],
)
def test_deadlines(session_factory, services, intake, today, ack_due, feedback_due):
    moment = datetime.combine(today, time(23, 59, 59), tzinfo=UTC)
    services = dataclasses.replace(services, clock=Clock(now=lambda: moment))
    result = submit(session_factory, services)
    with session_factory() as s:
        case = s.get(Case, result.case_id)
    assert case.received_on == today
    assert case.acknowledge_due == ack_due == today + timedelta(days=7)
    assert case.feedback_due == feedback_due
    assert case.acknowledged_on is None and case.feedback_given_on is None


def test_deadlines_follow_the_configuration(session_factory, services, intake):
    config = dataclasses.replace(services.config, acknowledge_days=3, feedback_months=1)
    moment = datetime(2024, 1, 28, 9, 0, tzinfo=UTC)
    services = dataclasses.replace(services, config=config, clock=Clock(now=lambda: moment))
    result = submit(session_factory, services)
    with session_factory() as s:
        case = s.get(Case, result.case_id)
    assert case.acknowledge_due == date(2024, 1, 31)
    assert case.feedback_due == date(2024, 2, 29)


def test_daily_message_limit_per_case(session_factory, services, intake):
    day1 = datetime(2024, 6, 3, 10, 0, tzinfo=UTC)
    now = [day1]
    config = dataclasses.replace(services.config, messages_per_case_per_day=2)
    services = dataclasses.replace(services, config=config, clock=Clock(now=lambda: now[0]))
    first = submit(session_factory, services)
    second = submit(session_factory, services)
    with transaction(session_factory) as s:
        access = login_submitter(s, services, first.receipt_code)
        other_access = login_submitter(s, services, second.receipt_code)

    def post(acc, body):
        with transaction(session_factory) as s:
            post_submitter_message(s, services, acc, body)

    post(access, "one")
    post(access, "two")
    with pytest.raises(InvalidInput):
        post(access, "three")
    # Staff replies do not count against the reporter, and other cases have their own budget.
    with transaction(session_factory) as s:
        post_reviewer_message(
            s,
            services,
            intake.unlocked,
            first.case_id,
            MessageKind.INFORMATION,
            "We are looking into it.",
        )
    post(other_access, "elsewhere")
    with pytest.raises(InvalidInput):
        post(access, "still today")
    now[0] = day1 + timedelta(days=1)
    post(access, "next day")
    with session_factory() as s:
        bodies = s.execute(
            select(func.count())
            .select_from(Message)
            .where(Message.case_id == first.case_id, Message.author == Author.SUBMITTER)
        ).scalar_one()
    assert bodies == 3


def test_empty_message_without_files_is_refused(session_factory, services, intake):
    result = submit(session_factory, services)
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        post_submitter_message(s, services, access, "   ")
    stored = store_submitter_file(services, access, "only.txt", "text/plain", iter([b"x"]))
    with transaction(session_factory) as s:
        post_submitter_message(s, services, access, "", [stored])
    with transaction(session_factory) as s:
        view = read_case_for_submitter(s, services, access)
    assert view.messages[0].body == ""
    assert view.messages[0].files[0].meta.name == "only.txt"


def test_feedback_moves_the_case_and_records_the_day(session_factory, services, intake):
    moment = datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    services = dataclasses.replace(services, clock=Clock(now=lambda: moment))
    result = submit(session_factory, services)
    with transaction(session_factory) as s:
        walk_to(s, services, intake.unlocked.actor, s.get(Case, result.case_id),
                CaseStatus.DECIDED)
        send_message(s, services, intake.unlocked, result.case_id, MessageKind.FEEDBACK,
                     "We replaced the gateway.")
    with session_factory() as s:
        case = s.get(Case, result.case_id)
        assert case.status is CaseStatus.FEEDBACK_GIVEN
        assert case.feedback_given_on == date(2024, 3, 5)


def test_reviewer_cannot_post_as_reporter(session_factory, services, intake):
    result = submit(session_factory, services)
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        post_reviewer_message(
            s, services, intake.unlocked, result.case_id, MessageKind.REPORTER_MESSAGE, "forged"
        )


def test_submitter_actions_carry_only_the_day(session_factory, services, intake):
    moment = datetime(2024, 5, 17, 13, 37, 42, 123456, tzinfo=UTC)
    now = [moment]
    midnight = datetime(2024, 5, 17, tzinfo=UTC)
    services = dataclasses.replace(services, clock=Clock(now=lambda: now[0]))
    with session_factory() as s:
        start = s.execute(text("select size from audit_head")).scalar_one()

    result = submit(session_factory, services, files=[("a.txt", b"abc")])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        files = read_case_for_submitter(s, services, access).files
    read_file(services, session_factory, access, files[0].id)
    with transaction(session_factory) as s:
        post_submitter_message(s, services, access, "more")
    reporter_actions = sorted([
        AuditAction.CASE_SUBMITTED,
        AuditAction.CASE_OPENED_BY_SUBMITTER,
        AuditAction.ATTACHMENT_DECRYPTED,
        AuditAction.SUBMITTER_MESSAGE_POSTED,
    ])
    # The reporter's events wait, with their day only, outside the chain...
    with session_factory() as s:
        assert s.execute(text("select size from audit_head")).scalar_one() == start
        waiting = s.execute(select(PendingAuditEvent)).scalars().all()
        assert sorted(p.action for p in waiting) == reporter_actions
        assert {p.occurred_on for p in waiting} == {date(2024, 5, 17)}

    # ...while staff events the same day enter it at once, with their exact time...
    with transaction(session_factory) as s:
        read_case_for_reviewer(s, services, intake.unlocked, result.case_id)
        post_reviewer_message(
            s, services, intake.unlocked, result.case_id, MessageKind.INFORMATION, "thanks"
        )
    with session_factory() as s:
        staff_events = s.execute(
            select(AuditEvent).where(AuditEvent.position >= start)).scalars().all()
        assert staff_events and {e.occurred_at for e in staff_events} == {moment}
        assert s.scalar(select(func.count()).select_from(PendingAuditEvent)) == 4
    staff_end = start + len(staff_events)

    # ...and the first staff action of the next day appends the whole day first, at midnight:
    # their position tells nothing more than "on the 17th".
    now[0] = moment + timedelta(days=1)
    with transaction(session_factory) as s:
        read_case_for_reviewer(s, services, intake.unlocked, result.case_id)
    with session_factory() as s:
        logged = s.execute(
            select(AuditEvent).where(AuditEvent.position >= staff_end)
            .order_by(AuditEvent.position)).scalars().all()
        assert sorted(e.action for e in logged[:4]) == reporter_actions
        for event in logged[:4]:
            assert event.occurred_at == midnight, event.action
            assert event.actor_kind == "submitter" and event.reviewer_id is None
        assert [e.action for e in logged[4:]] == [AuditAction.REPORT_DECRYPTED]
        assert s.scalar(select(func.count()).select_from(PendingAuditEvent)) == 0
        # Stored rows carry days only: a date, not a datetime with a time of day.
        case = s.get(Case, result.case_id)
        assert case.received_on == date(2024, 5, 17)
        assert case.submitter_active_on == date(2024, 5, 17)
        for m in s.execute(select(Message).where(Message.author == Author.SUBMITTER)).scalars():
            assert type(m.created_on) is date and m.created_on == date(2024, 5, 17)
        for a in s.execute(select(Attachment)).scalars():
            assert type(a.created_on) is date
    # Blob files on disk carry midnight, not the upload moment.
    for path in _blob_files(services):
        assert path.stat().st_mtime == midnight.timestamp()


def test_receipt_code_is_never_stored(session_factory, services, intake):
    """The code, its canonical and display forms, and its plain hashes appear in no column."""
    result = submit(session_factory, services)
    code = result.receipt_code
    needles = [
        code.encode(),
        format_receipt(code).encode(),
        code.encode().hex().encode(),
        hashlib.sha256(code.encode()).digest(),
        hashlib.blake2b(code.encode()).digest(),
    ]
    with session_factory() as s:
        for table in ("cases", "case_grants", "audit_events", "messages", "attachments"):
            for row in s.execute(text(f"select * from {table}")):
                blob = b"|".join(
                    bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row
                )
                for needle in needles:
                    assert needle not in blob, table


def test_report_is_stored_encrypted_and_bound_to_its_case(
    session_factory, services, intake, recovery_key
):
    report = ReportContent(summary="Secret summary text", description="Secret description")
    first = submit(session_factory, services, report=report)
    second = submit(session_factory, services)
    with session_factory() as s:
        rows = {
            r.id: (r.reference, bytes(r.report_ciphertext))
            for r in s.execute(text("select id, reference, report_ciphertext from cases"))
        }
        grant = s.execute(
            select(CaseGrant).where(
                CaseGrant.case_id == first.case_id,
                CaseGrant.recipient == Recipient.RECOVERY,
                CaseGrant.key_kind == KeyKind.CASE,
            )
        ).scalar_one()
    ref, ciphertext = rows[first.case_id]
    assert b"Secret" not in ciphertext
    key = open_sealed(recovery_key.private_key, grant.sealed_key)
    assert ReportContent.from_bytes(decrypt_record(key, ciphertext, report_context(ref))) == report
    # The same ciphertext under another case's context does not decrypt (no cut and paste).
    from crypto.errors import DecryptionError

    with pytest.raises(DecryptionError):
        decrypt_record(key, ciphertext, report_context(rows[second.case_id][0]))

