"""The audit log: one event per state change or decryption, a verifiable chain, no content."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, text

from core.audit.checkpoints import sign_checkpoint
from core.audit.log import (
    Actor,
    AuditAction,
    ChainBroken,
    sequence_reporter_events,
    verify_events,
)
from core.cases.casework import (
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
    store_reviewer_file,
)
from core.cases.content import Identity
from core.cases.identity_access import reveal_identity
from core.cases.identity_requests import decide_identity_request, request_identity
from core.cases.recovery import regrant_member_cases
from core.cases.team_changes import exclude_member, grant_case
from core.clock import Clock
from core.db import transaction
from core.intake.reporter import (
    login_submitter,
    open_file_for_submitter,
    post_submitter_message,
    read_case_for_submitter,
    store_submitter_file,
)
from core.models import (
    AuditEvent,
    AuditHead,
    MessageKind,
    PendingAuditEvent,
    Reviewer,
    Role,
)
from core.staff.accounts import (
    add_reviewer as add_reviewer_usecase,
)
from core.staff.accounts import (
    deactivate_reviewer,
    reset_passphrase,
    reset_totp,
    totp_secret,
)
from core.staff.authentication import confirm_totp
from core.staff.passphrase_change import change_passphrase
from tests.core.factories import add_reviewer, strong_passphrase, submit

A = AuditAction


def all_events(session):
    return session.execute(select(AuditEvent).order_by(AuditEvent.position)).scalars().all()


def head_row(session_factory):
    with session_factory() as s:
        head = s.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
        return head.size, bytes(head.head)


def verify_all(session_factory) -> bytes:
    """What an auditor does: recompute the chain and compare it with the stored head."""
    with session_factory() as s:
        computed = verify_events(all_events(s))
    size, head = head_row(session_factory)
    with session_factory() as s:
        count = s.execute(text("select count(*) from audit_events")).scalar_one()
    if count != size:
        raise ChainBroken(min(count, size), f"{count} events stored, the head claims {size}")
    if computed != head:
        raise ChainBroken(size, "recomputed head differs from the stored head")
    return computed


def queued(session_factory) -> dict[bytes, str]:
    """Reporter events waiting for the end of their day: token -> action."""
    with session_factory() as s:
        return {bytes(p.token): p.action for p in s.scalars(select(PendingAuditEvent))}


def next_day(services) -> Clock:
    """The services' clock a day and five hours later: today's reporter events may be logged
    (REPORTER_EVENT_GRACE after midnight), whatever the time now."""
    return Clock(now=lambda: services.clock.now() + timedelta(days=1, hours=5),
                 precision=services.clock.precision)


def added_actions(session_factory, action: Callable[[], object]) -> list[str]:
    """Run `action` and return the audit actions it appended or queued, sorted."""
    before, _ = head_row(session_factory)
    queued_before = queued(session_factory)
    action()
    rows = [action for token, action in queued(session_factory).items()
            if token not in queued_before]
    with session_factory() as s:
        rows += (
            s.execute(
                select(AuditEvent.action)
                .where(AuditEvent.position >= before)
                .order_by(AuditEvent.position)
            )
            .scalars()
            .all()
        )
    return sorted(rows)


# --- which events each use case writes --------------------------------------------------------


def test_each_use_case_records_exactly_its_events(session_factory, services, world, recovery_key):
    ivy, peer = world["ivy"], world["peer"]
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    holder = {}

    def do_submit():
        holder["case"] = submit(
            session_factory,
            services,
            category="misconduct",
            identity=Identity(name="Anon"),
            files=[("x.txt", b"x")],
        )

    assert added_actions(session_factory, do_submit) == [A.CASE_SUBMITTED]
    case = holder["case"]

    def login_and_read():
        with transaction(session_factory) as s:
            holder["access"] = login_submitter(s, services, case.receipt_code)
            holder["view"] = read_case_for_submitter(s, services, holder["access"])

    assert added_actions(session_factory, login_and_read) == [A.CASE_OPENED_BY_SUBMITTER]
    access = holder["access"]

    def login_only():
        with transaction(session_factory) as s:
            login_submitter(s, services, case.receipt_code)

    assert added_actions(session_factory, login_only) == []

    def submitter_download():
        with transaction(session_factory) as s:
            _meta, stream = open_file_for_submitter(s, services, access, holder["view"].files[0].id)
            b"".join(stream)

    assert added_actions(session_factory, submitter_download) == [A.ATTACHMENT_DECRYPTED]

    def submitter_message():
        stored = store_submitter_file(services, access, "y.txt", "text/plain", iter([b"y"]))
        with transaction(session_factory) as s:
            post_submitter_message(s, services, access, "hello", [stored])

    assert added_actions(session_factory, submitter_message) == [A.SUBMITTER_MESSAGE_POSTED]

    def reviewer_read():
        with transaction(session_factory) as s:
            holder["rview"] = read_case_for_reviewer(s, services, ivy.unlocked, case.case_id)

    assert added_actions(session_factory, reviewer_read) == [A.REPORT_DECRYPTED]

    def reviewer_download():
        with transaction(session_factory) as s:
            _meta, stream = open_file_for_reviewer(
                s, services, ivy.unlocked, holder["rview"].files[0].id
            )
            b"".join(stream)

    assert added_actions(session_factory, reviewer_download) == [A.ATTACHMENT_DECRYPTED]

    def clarification():
        with transaction(session_factory) as s:
            post_reviewer_message(
                s, services, ivy.unlocked, case.case_id, MessageKind.CLARIFICATION_REQUEST, "When?"
            )

    assert added_actions(session_factory, clarification) == sorted(
        [A.REVIEWER_MESSAGE_POSTED, A.CASE_STATUS_CHANGED]
    )

    def second_clarification():  # already info_needed: no status change
        with transaction(session_factory) as s:
            post_reviewer_message(
                s,
                services,
                ivy.unlocked,
                case.case_id,
                MessageKind.CLARIFICATION_REQUEST,
                "And where?",
            )

    assert added_actions(session_factory, second_clarification) == [A.REVIEWER_MESSAGE_POSTED]

    def note_with_file():
        with transaction(session_factory) as s:
            from core.models import KeyKind

            stored = store_reviewer_file(
                services,
                ivy.unlocked,
                s,
                case.case_id,
                KeyKind.TEAM,
                "n.txt",
                "text/plain",
                iter([b"n"]),
            )
            post_reviewer_message(
                s, services, ivy.unlocked, case.case_id, MessageKind.INTERNAL_NOTE, "note", [stored]
            )

    assert added_actions(session_factory, note_with_file) == [A.REVIEWER_MESSAGE_POSTED]

    def grant():
        with transaction(session_factory) as s:
            grant_case(s, services, ivy.unlocked, case.case_id, s.get(Reviewer, peer.id))

    assert added_actions(session_factory, grant) == [A.CASE_GRANTED]

    def request():
        with transaction(session_factory) as s:
            holder["request"] = request_identity(s, services, ivy.unlocked, case.case_id,
                                                 "required by law").id

    assert added_actions(session_factory, request) == [A.IDENTITY_REQUESTED]

    def approve():
        with transaction(session_factory) as s:
            decide_identity_request(s, services, keeper.unlocked, holder["request"],
                                    approve=True)

    assert added_actions(session_factory, approve) == sorted(
        [A.CASE_GRANTED, A.IDENTITY_REQUEST_DECIDED])

    def reveal():
        with transaction(session_factory) as s:
            reveal_identity(s, services, ivy.unlocked, case.case_id, "required by law")

    assert added_actions(session_factory, reveal) == [A.IDENTITY_REVEALED]

    def exclude():
        with transaction(session_factory) as s:
            exclude_member(
                s, services, Actor.reviewer(ivy.id), case.case_id, s.get(Reviewer, peer.id)
            )

    assert added_actions(session_factory, exclude) == sorted(
        [A.CASE_MEMBER_EXCLUDED, A.CASE_EPOCH_STARTED])

    def add():
        with transaction(session_factory) as s:
            add_reviewer_usecase(
                s, services, username="newbie", role=Role.REVIEWER, passphrase=strong_passphrase()
            )

    assert added_actions(session_factory, add) == [A.REVIEWER_ADDED]

    def change():
        with transaction(session_factory) as s:
            change_passphrase(
                s, services, s.get(Reviewer, ivy.id), ivy.passphrase, strong_passphrase("changed")
            )

    assert added_actions(session_factory, change) == [A.REVIEWER_PASSPHRASE_CHANGED]

    def totp():
        with transaction(session_factory) as s:
            reset_totp(s, services, "ivy")

    assert added_actions(session_factory, totp) == [A.REVIEWER_TOTP_RESET]

    def reset():
        with transaction(session_factory) as s:
            holder["one_time"] = reset_passphrase(s, services, "ivy")

    assert added_actions(session_factory, reset) == [A.REVIEWER_PASSPHRASE_RESET]

    def reenrol():  # the owner confirms the new TOTP secret and chooses their passphrase
        with transaction(session_factory) as s:
            row = s.get(Reviewer, ivy.id)
            assert confirm_totp(s, services, row, pyotp.TOTP(totp_secret(services, row)).now())
            change_passphrase(s, services, row, holder["one_time"], strong_passphrase("own"))

    assert added_actions(session_factory, reenrol) == sorted(
        [A.REVIEWER_TOTP_ENROLLED, A.REVIEWER_KEYS_CREATED, A.REVIEWER_PASSPHRASE_CHANGED])

    def recover():
        with transaction(session_factory) as s:
            regrant_member_cases(s, services, recovery_key.private_key, s.get(Reviewer, ivy.id))

    assert added_actions(session_factory, recover) == [A.CASE_RECOVERED]

    def deactivate():
        with transaction(session_factory) as s:
            deactivate_reviewer(s, services, "newbie")

    assert added_actions(session_factory, deactivate) == [A.REVIEWER_DEACTIVATED]

    def checkpoint():
        with transaction(session_factory) as s:
            sign_checkpoint(s, services)

    assert added_actions(session_factory, checkpoint) == [A.CHECKPOINT_SIGNED]

    verify_all(session_factory)


def test_events_name_actor_and_case(session_factory, services, world):
    ivy = world["ivy"]
    case = submit(session_factory, services, category="misconduct")
    with transaction(session_factory) as s:
        read_case_for_reviewer(s, services, ivy.unlocked, case.case_id)
    with transaction(session_factory) as s:
        assert sequence_reporter_events(s, next_day(services)) == 1
    with session_factory() as s:
        events = all_events(s)
    submitted = next(e for e in events if e.action == A.CASE_SUBMITTED)
    assert submitted.case_id == case.case_id
    assert submitted.actor_kind == "submitter" and submitted.reviewer_id is None
    read = next(e for e in events if e.action == A.REPORT_DECRYPTED)
    assert read.case_id == case.case_id
    assert read.actor_kind == "reviewer" and read.reviewer_id == ivy.id


def test_failed_use_cases_record_nothing(session_factory, services, world):
    from core.errors import AccessDenied

    case = submit(session_factory, services, category="misconduct")
    size, head = head_row(session_factory)
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, world["peer"].unlocked, case.case_id)
    assert head_row(session_factory) == (size, head)


# --- chain verification and tampering ---------------------------------------------------------


def _populate(session_factory, services, world) -> int:
    """Two cases, each read and answered; returns the first case's id."""
    ivy = world["ivy"]
    case_ids = []
    for _ in range(2):
        case = submit(session_factory, services, category="misconduct")
        case_ids.append(case.case_id)
        with transaction(session_factory) as s:
            read_case_for_reviewer(s, services, ivy.unlocked, case.case_id)
            post_reviewer_message(
                s, services, ivy.unlocked, case.case_id, MessageKind.INFORMATION, "ok"
            )
    return case_ids[0]


# --- no content in the log --------------------------------------------------------------------
