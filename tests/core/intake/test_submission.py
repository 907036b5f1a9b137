"""The reporter's path through core: submit, come back with the receipt, talk to the team."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text

from core.audit.log import AuditAction
from core.cases.casework import (
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
    reveal_identity,
)
from core.cases.content import Identity, ReportContent
from core.cases.contexts import identity_context, report_context
from core.clock import Clock, add_months
from core.db import transaction
from core.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    ReceiptNotRecognised,
)
from core.intake.reporter import (
    login_submitter,
    open_file_for_submitter,
    post_submitter_message,
    read_case_for_submitter,
    store_submitter_file,
)
from core.intake.submission import SubmissionDraft, submit_report
from core.models import (
    Attachment,
    AuditEvent,
    Author,
    Case,
    CaseGrant,
    CaseStatus,
    Disclosure,
    KeyKind,
    Message,
    MessageKind,
    PendingAuditEvent,
    Recipient,
)
from crypto.errors import MalformedReceipt, MistypedReceipt
from crypto.keys import open_sealed
from crypto.receipt import format_receipt, generate_receipt
from crypto.records import decrypt_record
from tests.core.factories import add_reviewer, chunks, seed_categories, submit

FULL_WIDTH_ZERO = 0xFF10


def full_width(code: str) -> str:
    return "".join(chr(FULL_WIDTH_ZERO + int(d)) for d in code)


def read_file(services, session_factory, access, attachment_id):
    with transaction(session_factory) as s:
        meta, stream = open_file_for_submitter(s, services, access, attachment_id)
        data = b"".join(stream)
    return meta, data


@pytest.fixture
def intake(session_factory, services):
    """A reviewer who receives it_fault cases."""
    reviewer = add_reviewer(session_factory, services, "ivy.intake")
    seed_categories(session_factory, {"it_fault": [reviewer.id]})
    return reviewer


# --- the whole round trip ---------------------------------------------------------------------


def test_submitter_and_reviewer_round_trip(session_factory, services, intake):
    big = os.urandom(200 * 1024)
    report = ReportContent(
        summary="VPN drops every hour",
        description="Since the update.",
        where="Building B",
        who_involved="nobody in particular",
    )
    files = [("empty.txt", b""), ("one.bin", b"\x07"), ("big.bin", big)]
    result = submit(session_factory, services, report=report, files=files)
    assert len(result.receipt_code) == 28 and result.receipt_code.isdigit()
    assert not result.unrouted

    code = result.receipt_code
    typed_forms = [
        code,
        format_receipt(code),
        "-".join(code[i : i + 4] for i in range(0, 28, 4)),
        full_width(code),
        "  " + format_receipt(full_width(code)) + "\n",
    ]
    for typed in typed_forms:
        with transaction(session_factory) as s:
            access = login_submitter(s, services, typed)
        assert access.case_id == result.case_id
        assert access.reference == result.reference

    with transaction(session_factory) as s:
        view = read_case_for_submitter(s, services, access)
    assert view.report == report
    assert view.status is CaseStatus.RECEIVED
    assert view.category_code == "it_fault"
    assert view.disclosure is Disclosure.ANONYMOUS
    assert view.messages == ()
    assert sorted(f.meta.name for f in view.files) == ["big.bin", "empty.txt", "one.bin"]
    by_name = {f.meta.name: f for f in view.files}
    for name, data in files:
        assert by_name[name].meta.size == len(data)
        meta, downloaded = read_file(services, session_factory, access, by_name[name].id)
        assert meta.name == name
        assert downloaded == data, name

    # The reporter adds information with a file.
    extra = b"log line\n" * 300
    stored = store_submitter_file(services, access, "vpn.log", "text/plain", chunks(extra))
    with transaction(session_factory) as s:
        posted = post_submitter_message(
            s, services, access, "  It also drops at night.  ", [stored]
        )
        posted_id = posted.id

    # The intake reviewer sees the report, the message and its file.
    with transaction(session_factory) as s:
        rview = read_case_for_reviewer(s, services, intake.unlocked, result.case_id)
    assert rview.report == report
    [message] = rview.messages
    assert message.id == posted_id
    assert message.author is Author.SUBMITTER
    assert message.kind is MessageKind.REPORTER_MESSAGE
    assert message.body == "It also drops at night."
    [mfile] = message.files
    assert mfile.meta.name == "vpn.log"
    with transaction(session_factory) as s:
        meta, stream = open_file_for_reviewer(s, services, intake.unlocked, mfile.id)
        assert b"".join(stream) == extra
    assert meta.content_type == "text/plain"

    # Clarification request (visible) and internal note (not visible to the reporter).
    with transaction(session_factory) as s:
        post_reviewer_message(
            s,
            services,
            intake.unlocked,
            result.case_id,
            MessageKind.CLARIFICATION_REQUEST,
            "Which VPN client?",
        )
        post_reviewer_message(
            s,
            services,
            intake.unlocked,
            result.case_id,
            MessageKind.INTERNAL_NOTE,
            "Probably the gateway cert.",
        )
    with transaction(session_factory) as s:
        assert s.get(Case, result.case_id).status is CaseStatus.INFO_NEEDED

    with transaction(session_factory) as s:
        access = login_submitter(s, services, format_receipt(code))
        again = read_case_for_submitter(s, services, access)
    assert again.status is CaseStatus.INFO_NEEDED
    bodies = [m.body for m in again.messages]
    assert bodies == ["It also drops at night.", "Which VPN client?"]
    assert all(m.kind is not MessageKind.INTERNAL_NOTE for m in again.messages)
    assert again.messages[1].author is Author.REVIEWER
    assert again.messages[1].reviewer_name == "ivy.intake"

    # The reviewer still sees all three.
    with transaction(session_factory) as s:
        rview = read_case_for_reviewer(s, services, intake.unlocked, result.case_id)
    assert [m.kind for m in rview.messages] == [
        MessageKind.REPORTER_MESSAGE,
        MessageKind.CLARIFICATION_REQUEST,
        MessageKind.INTERNAL_NOTE,
    ]
    assert rview.messages[2].body == "Probably the gateway cert."


def test_submitter_cannot_download_team_files_or_other_cases_files(
    session_factory, services, intake
):
    mine = submit(session_factory, services, files=[("mine.txt", b"mine")])
    other = submit(session_factory, services, files=[("other.txt", b"other")])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, mine.receipt_code)
        other_ids = (
            s.execute(select(Attachment.id).where(Attachment.case_id == other.case_id))
            .scalars()
            .all()
        )
    from core.errors import NotFound

    for attachment_id in [*other_ids, 999_999]:
        with pytest.raises(NotFound), transaction(session_factory) as s:
            open_file_for_submitter(s, services, access, attachment_id)


# --- receipts ---------------------------------------------------------------------------------


def test_unknown_receipt_is_not_recognised(session_factory, services, intake):
    submit(session_factory, services)
    with pytest.raises(ReceiptNotRecognised), transaction(session_factory) as s:
        login_submitter(s, services, generate_receipt())


def test_mistyped_receipt_is_reported_without_touching_the_database(
    session_factory, services, intake
):
    code = submit(session_factory, services).receipt_code
    last = int(code[-2])
    mistyped = code[:-2] + str((last + 1) % 10) + code[-1]
    with pytest.raises(MistypedReceipt), transaction(session_factory) as s:
        login_submitter(s, services, format_receipt(mistyped))
    swapped = code[1] + code[0] + code[2:]
    if swapped != code:
        with pytest.raises(MistypedReceipt), transaction(session_factory) as s:
            login_submitter(s, services, swapped)


@pytest.mark.parametrize("typed", ["", "1234", "abcd " * 7, "1" * 29, "1234 5678 x"])
def test_malformed_receipt(session_factory, services, typed):
    with pytest.raises(MalformedReceipt), transaction(session_factory) as s:
        login_submitter(s, services, typed)


def test_receipt_of_another_instance_does_not_open(session_factory, services, intake):
    """Same code, other pepper/salt: the lookup id differs, nothing matches."""
    from core.keyring import Keyring

    code = submit(session_factory, services).receipt_code
    foreign = dataclasses.replace(services, keyring=Keyring.generate())
    with pytest.raises(ReceiptNotRecognised), transaction(session_factory) as s:
        login_submitter(s, foreign, code)


# --- failed submissions -----------------------------------------------------------------------


def _counts(session_factory):
    with session_factory() as s:
        return {
            table: s.execute(text(f"select count(*) from {table}")).scalar_one()
            for table in (
                "cases",
                "case_grants",
                "case_members",
                "attachments",
                "audit_events",
                "messages",
            )
        }


def _blob_files(services):
    root = services.config.blob_dir
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_invalid_category_rolls_back_everything(session_factory, services, intake):
    before = _counts(session_factory)
    with session_factory() as s:
        head_before = s.execute(text("select size, head from audit_head")).one()
    with pytest.raises(InvalidInput) as info:
        submit(
            session_factory,
            services,
            category="no_such_category",
            files=[("a.txt", b"a" * 1000), ("b.txt", b"b")],
        )
    assert info.value.field == "category"
    assert _counts(session_factory) == before
    with session_factory() as s:
        assert s.execute(text("select size, head from audit_head")).one() == head_before
    # draft.discard (called by the factory on failure) removed the encrypted blobs.
    assert _blob_files(services) == []


def test_draft_discard_removes_its_blobs(services):
    draft = SubmissionDraft()
    draft.add_file(services, "a.txt", "text/plain", [b"a" * 5000])
    draft.add_file(services, "b.txt", "text/plain", [b"b"])
    assert len(_blob_files(services)) == 2
    draft.discard(services.blobs)
    assert _blob_files(services) == []
    assert draft.files == []


def test_failure_after_submit_report_leaves_no_trace(session_factory, services, intake):
    before = _counts(session_factory)
    draft = SubmissionDraft()
    with pytest.raises(RuntimeError, match="boom"), transaction(session_factory) as s:
        submit_report(
            s, services, draft, category_code="it_fault", report=ReportContent(summary="x")
        )
        raise RuntimeError("boom")
    assert _counts(session_factory) == before


def test_inactive_category_is_refused(session_factory, services, intake):
    from core.models import Category

    with transaction(session_factory) as s:
        s.execute(select(Category).where(Category.code == "other")).scalar_one().active = False
    with pytest.raises(InvalidInput):
        submit(session_factory, services, category="other")


def test_summary_is_required(session_factory, services, intake):
    with pytest.raises(InvalidInput) as info:
        submit(session_factory, services, report=ReportContent(summary="   "))
    assert info.value.field == "summary"
    assert _counts(session_factory)["cases"] == 0


def test_too_many_files_are_refused(session_factory, services, intake):
    services = dataclasses.replace(
        services, config=dataclasses.replace(services.config, max_files=2)
    )
    with pytest.raises(InvalidInput):
        submit(session_factory, services, files=[("a", b"1"), ("b", b"2"), ("c", b"3")])
    assert _blob_files(services) == []
    assert _counts(session_factory)["cases"] == 0


def test_oversized_submission_is_refused_and_leaves_no_blob(session_factory, services, intake):
    config = dataclasses.replace(services.config, max_submission_bytes=10_000)
    services = dataclasses.replace(services, config=config)
    with pytest.raises(InvalidInput):
        submit(session_factory, services, files=[("a", b"1" * 6000), ("b", b"2" * 6000)])
    assert _blob_files(services) == []
    assert [p for p in (services.config.blob_dir / "tmp").iterdir()] == []


def test_unrouted_category_is_flagged(session_factory, services, intake):
    result = submit(session_factory, services, category="other")
    assert result.unrouted
    with session_factory() as s:
        grants = (
            s.execute(select(CaseGrant).where(CaseGrant.case_id == result.case_id)).scalars().all()
        )
    # Only the reporter and the recovery key.
    assert {g.recipient for g in grants} == {Recipient.SUBMITTER, Recipient.RECOVERY}


# --- confidential reports ---------------------------------------------------------------------


def test_confidential_identity_is_sealed_and_revealed_with_a_reason(
    session_factory, services, intake, recovery_key
):
    identity = Identity(
        name="Wang Xiaoming 王小明", contact="+86 138 0000 0000", position="Network engineer"
    )
    result = submit(session_factory, services, identity=identity)

    with session_factory() as s:
        case = s.get(Case, result.case_id)
        assert case.disclosure is Disclosure.CONFIDENTIAL
        raw = s.execute(
            text("select identity_ciphertext from cases where id = :i"), {"i": result.case_id}
        ).scalar_one()
        raw = bytes(raw)
        for plain in (identity.name, identity.contact, "王小明", "Wang"):
            assert plain.encode("utf-8") not in raw
        # The submitter holds no identity grant; the recovery key does.
        kinds = {(g.recipient, g.key_kind) for g in case.grants}
        assert (Recipient.SUBMITTER, KeyKind.IDENTITY) not in kinds
        recovery_grant = next(
            g
            for g in case.grants
            if g.recipient is Recipient.RECOVERY and g.key_kind is KeyKind.IDENTITY
        )
        identity_key = open_sealed(recovery_key.private_key, recovery_grant.sealed_key)
        assert (
            Identity.from_bytes(
                decrypt_record(identity_key, raw, identity_context(result.reference))
            )
            == identity
        )

    # The reporter's view never carries the identity.
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        view = read_case_for_submitter(s, services, access)
    assert "王小明" not in repr(view)

    for reason in ("", "   "):
        with pytest.raises(InvalidInput), transaction(session_factory) as s:
            reveal_identity(s, services, intake.unlocked, result.case_id, reason)

    events_before = _counts(session_factory)["audit_events"]
    with transaction(session_factory) as s:
        revealed = reveal_identity(
            s, services, intake.unlocked, result.case_id, "Needed to arrange witness protection"
        )
    assert revealed == identity
    with session_factory() as s:
        events = (
            s.execute(
                select(AuditEvent)
                .where(AuditEvent.position >= events_before)
                .order_by(AuditEvent.position)
            )
            .scalars()
            .all()
        )
        note = s.execute(select(Message).where(Message.case_id == result.case_id)).scalar_one()
    assert [e.action for e in events] == [AuditAction.IDENTITY_REVEALED]
    assert events[0].reviewer_id == intake.id
    assert events[0].case_id == result.case_id
    assert note.kind is MessageKind.INTERNAL_NOTE and note.key_kind is KeyKind.TEAM

    with transaction(session_factory) as s:
        rview = read_case_for_reviewer(s, services, intake.unlocked, result.case_id)
    [note_view] = rview.messages
    assert "Needed to arrange witness protection" in note_view.body
    assert note_view.reviewer_name == "ivy.intake"
    # ... and the reporter never sees the note.
    with transaction(session_factory) as s:
        assert read_case_for_submitter(s, services, access).messages == ()


def test_reveal_on_anonymous_case_is_a_conflict(session_factory, services, intake):
    result = submit(session_factory, services)
    with pytest.raises(Conflict), transaction(session_factory) as s:
        reveal_identity(s, services, intake.unlocked, result.case_id, "curious")


def test_reveal_needs_an_identity_grant(session_factory, services, intake):
    result = submit(session_factory, services, identity=Identity(name="Li Lei"))
    other = add_reviewer(session_factory, services, "olga")
    from core.cases.casework import grant_case
    from core.models import Reviewer

    with transaction(session_factory) as s:
        grant_case(s, services, intake.unlocked, result.case_id, s.get(Reviewer, other.id))
    # Granted the case and team keys only (the default): the identity stays sealed.
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        reveal_identity(s, services, other.unlocked, result.case_id, "because")
    assert _counts(session_factory)["messages"] == 0


def test_confidential_needs_a_name(session_factory, services, intake):
    with pytest.raises(InvalidInput) as info:
        submit(session_factory, services, identity=Identity(name=" ", contact="x@y"))
    assert info.value.field == "name"


# --- deadlines --------------------------------------------------------------------------------


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


# --- limits -----------------------------------------------------------------------------------


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
        post_reviewer_message(
            s,
            services,
            intake.unlocked,
            result.case_id,
            MessageKind.FEEDBACK,
            "We replaced the gateway.",
        )
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


# --- time coarsening --------------------------------------------------------------------------


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
