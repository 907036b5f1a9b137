"""The audit log: one event per state change or decryption, a verifiable chain, no content."""

from __future__ import annotations

import dataclasses
import multiprocessing
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from core.audit.log import (
    Actor,
    AuditAction,
    ChainBroken,
    entry_bytes,
    record_event,
    sequence_reporter_events,
    sign_checkpoint,
    verify_events,
)
from core.cases.casework import (
    exclude_member,
    grant_case,
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
    reveal_identity,
    store_reviewer_file,
)
from core.cases.content import Identity, ReportContent
from core.cases.recovery import regrant_member_cases
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
    AuditCheckpoint,
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
    change_passphrase,
    deactivate_reviewer,
    reset_passphrase,
    reset_totp,
)
from crypto.audit_chain import GENESIS, checkpoint_message
from crypto.errors import SignatureError
from crypto.signing import verify
from tests.core._audit_writer import append_events
from tests.core.factories import add_reviewer, seed_categories, strong_passphrase, submit

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
        raise ChainBroken(f"{count} events stored, the head claims {size}")
    if computed != head:
        raise ChainBroken("recomputed head differs from the stored head")
    return computed


def queued(session_factory) -> dict[bytes, str]:
    """Reporter events waiting for the end of their day: token -> action."""
    with session_factory() as s:
        return {bytes(p.token): p.action for p in s.scalars(select(PendingAuditEvent))}


def next_day(services) -> Clock:
    """The services' clock a day and three hours later: today's reporter events may be logged
    (REPORTER_EVENT_GRACE after midnight), whatever the time now."""
    return Clock(now=lambda: services.clock.now() + timedelta(days=1, hours=3),
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


@pytest.fixture
def world(session_factory, services):
    ivy = add_reviewer(session_factory, services, "ivy")
    peer = add_reviewer(session_factory, services, "peer")
    seed_categories(session_factory, {"misconduct": [ivy.id]})
    return {"ivy": ivy, "peer": peer}


# --- which events each use case writes --------------------------------------------------------


def test_each_use_case_records_exactly_its_events(session_factory, services, world, recovery_key):
    ivy, peer = world["ivy"], world["peer"]
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

    def reveal():
        with transaction(session_factory) as s:
            reveal_identity(s, services, ivy.unlocked, case.case_id, "required by law")

    assert added_actions(session_factory, reveal) == [A.IDENTITY_REVEALED]

    def exclude():
        with transaction(session_factory) as s:
            exclude_member(
                s, services, Actor.reviewer(ivy.id), case.case_id, s.get(Reviewer, peer.id)
            )

    assert added_actions(session_factory, exclude) == [A.CASE_MEMBER_EXCLUDED]

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
            reset_passphrase(s, services, "ivy")

    assert added_actions(session_factory, reset) == [A.REVIEWER_PASSPHRASE_RESET]

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
            sign_checkpoint(s, services.clock, services.keyring.audit_signing_seed)

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


def test_verify_events_returns_the_stored_head(session_factory, services, world):
    _populate(session_factory, services, world)
    size, head = head_row(session_factory)
    assert size >= 8
    with session_factory() as s:
        events = all_events(s)
    assert [e.position for e in events] == list(range(size))
    assert verify_events(events) == head
    assert events[-1].chain_hash == head
    # Verifying a suffix from a known earlier hash gives the same head.
    assert verify_events(events[3:], start=events[2].chain_hash, first=3) == head
    assert verify_events([]) == GENESIS


def _tamper(session_factory, sql):
    with session_factory() as s:
        before = [tuple(r) for r in s.execute(text("select * from audit_events order by 1"))]
    with transaction(session_factory) as s:
        for statement in sql if isinstance(sql, list) else [sql]:
            assert s.execute(text(statement)).rowcount == 1
    with session_factory() as s:
        after = [tuple(r) for r in s.execute(text("select * from audit_events order by 1"))]
    assert after != before, "the tampering changed nothing"


TAMPERINGS = {
    "detail": "update audit_events set detail = '{\"files\": 9}' where position = 2",
    "action": "update audit_events set action = 'session:logout' where position = 3",
    "case_id": "update audit_events set case_id = case_id + 1 where position = 2",
    "case_id_null": "update audit_events set case_id = null where position = 3",
    "actor_kind": "update audit_events set actor_kind = 'system' where position = 3",
    "reviewer_id": "update audit_events set reviewer_id = null where position = 3",
    "leaf_hash": "update audit_events set leaf_hash = chain_hash where position = 4",
    "delete_one": "delete from audit_events where position = 4",
    "delete_first": "delete from audit_events where position = 0",
    "swap": [
        "update audit_events set position = -1 where position = 2",
        "update audit_events set position = 2 where position = 5",
        "update audit_events set position = 5 where position = -1",
    ],
}


@pytest.mark.parametrize("how", sorted(TAMPERINGS))
def test_tampering_is_detected(session_factory, services, world, how):
    _populate(session_factory, services, world)
    verify_all(session_factory)
    _tamper(session_factory, TAMPERINGS[how])
    with pytest.raises(ChainBroken):
        verify_all(session_factory)


def test_altered_time_is_detected(session_factory, services, world):
    _populate(session_factory, services, world)
    with transaction(session_factory) as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.position == 3)).scalar_one()
        event.occurred_at -= timedelta(days=365)  # (replace(year=...) fails on 29 February)
    with pytest.raises(ChainBroken):
        verify_all(session_factory)


def test_truncated_tail_is_detected_against_the_head(session_factory, services, world):
    _populate(session_factory, services, world)
    size, _ = head_row(session_factory)
    _tamper(session_factory, f"delete from audit_events where position = {size - 1}")
    with pytest.raises(ChainBroken):
        verify_all(session_factory)


def test_checkpoint_detects_a_rewritten_history(session_factory, services, world):
    """Someone with database access recomputes every hash after an edit: the chain is
    internally consistent again, but no longer matches a signed checkpoint."""
    _populate(session_factory, services, world)
    with transaction(session_factory) as s:
        checkpoint = sign_checkpoint(s, services.clock, services.keyring.audit_signing_seed)
        cp_size, cp_head = checkpoint.size, bytes(checkpoint.head)
    from crypto.audit_chain import chain_hash, leaf_hash

    with transaction(session_factory) as s:
        events = all_events(s)
        events[1].detail = '{"forged":true}'
        current = GENESIS
        for event in events:
            event.leaf_hash = leaf_hash(entry_bytes(event))
            event.chain_hash = current = chain_hash(current, event.leaf_hash)
        s.get(AuditHead, 1).head = current
    verify_all(session_factory)  # internally consistent
    with session_factory() as s:
        events = all_events(s)
    assert verify_events(events[:cp_size]) != cp_head


# --- rollback ---------------------------------------------------------------------------------


def test_rolled_back_transaction_leaves_no_events(session_factory, services, world):
    case_id = _populate(session_factory, services, world)
    before = head_row(session_factory)
    with pytest.raises(RuntimeError), transaction(session_factory) as s:
        for i in range(3):
            record_event(s, services.clock, A.CATEGORY_CHANGED, Actor.system(), detail={"i": i})
        read_case_for_reviewer(s, services, world["ivy"].unlocked, case_id)
        raise RuntimeError("abort")
    assert head_row(session_factory) == before
    with session_factory() as s:
        assert len(all_events(s)) == before[0]
    # The log continues cleanly after the rollback.
    with transaction(session_factory) as s:
        event = record_event(s, services.clock, A.CATEGORY_CHANGED, Actor.system())
        assert event.position == before[0]
    verify_all(session_factory)


# --- checkpoints ------------------------------------------------------------------------------


def test_checkpoint_signature_verifies(session_factory, services, world):
    _populate(session_factory, services, world)
    size_before, head_before = head_row(session_factory)
    with transaction(session_factory) as s:
        checkpoint = sign_checkpoint(s, services.clock, services.keyring.audit_signing_seed)
    with session_factory() as s:
        stored = s.execute(select(AuditCheckpoint)).scalar_one()
        events = all_events(s)
    assert (stored.size, bytes(stored.head)) == (size_before, head_before)
    assert stored.signature == checkpoint.signature
    message = checkpoint_message(stored.size, bytes(stored.head), stored.issued_at)
    verify(services.keyring.audit_verify_key, message, bytes(stored.signature))
    # The checkpoint commits to the events before it ...
    assert verify_events(events[: stored.size]) == bytes(stored.head)
    # ... and is itself logged afterwards.
    assert events[stored.size].action == A.CHECKPOINT_SIGNED
    assert head_row(session_factory)[0] == size_before + 1
    # The signature is bound to size, head and time, and to this instance's key.
    for forged in (
        checkpoint_message(stored.size + 1, bytes(stored.head), stored.issued_at),
        checkpoint_message(stored.size, bytes(32), stored.issued_at),
        checkpoint_message(stored.size, bytes(stored.head), stored.issued_at + "x"),
    ):
        with pytest.raises(SignatureError):
            verify(services.keyring.audit_verify_key, forged, bytes(stored.signature))
    from core.keyring import Keyring

    with pytest.raises(SignatureError):
        verify(Keyring.generate().audit_verify_key, message, bytes(stored.signature))


def test_checkpoint_time_is_exact_seconds(session_factory, services):
    from datetime import UTC, datetime

    from core.clock import Clock

    moment = datetime(2024, 7, 1, 9, 8, 7, 654321, tzinfo=UTC)
    services = dataclasses.replace(services, clock=Clock(now=lambda: moment))
    with transaction(session_factory) as s:
        checkpoint = sign_checkpoint(s, services.clock, services.keyring.audit_signing_seed)
    assert datetime.fromisoformat(checkpoint.issued_at) == moment.replace(microsecond=0)


# --- concurrency ------------------------------------------------------------------------------


def _check_log(session_factory, expected: int) -> list[AuditEvent]:
    with session_factory() as s:
        events = all_events(s)
    positions = [e.position for e in events]
    assert positions == list(range(expected)), "fork, gap or duplicate position"
    assert len({bytes(e.chain_hash) for e in events}) == expected
    head = verify_all(session_factory)
    size, stored = head_row(session_factory)
    assert size == expected and stored == head
    return events


def test_concurrent_writers_in_threads(session_factory, services):
    threads_n, per_thread = 4, 25
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(tag: int) -> None:
        import time

        try:
            barrier.wait(timeout=30)
            for i in range(per_thread):
                with transaction(session_factory) as s:
                    record_event(
                        s,
                        services.clock,
                        A.CATEGORY_CHANGED,
                        Actor.system(),
                        detail={"writer": tag, "i": i},
                    )
                    time.sleep(0.001)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    events = _check_log(session_factory, threads_n * per_thread)
    import json

    per_writer = Counter(json.loads(e.detail)["writer"] for e in events)
    assert per_writer == {t: per_thread for t in range(threads_n)}
    # Each writer's own events keep their order.
    for t in range(threads_n):
        mine = [json.loads(e.detail)["i"] for e in events if json.loads(e.detail)["writer"] == t]
        assert mine == list(range(per_thread))


def test_concurrent_writers_in_processes_and_threads(session_factory, services, database_url):
    """Separate OS processes, each with its own engine, plus threads in this process."""
    processes_n, threads_n, per_writer = 3, 2, 25
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes_n + threads_n)
    procs = [
        ctx.Process(target=append_events, args=(database_url, f"p{i}", per_writer, barrier))
        for i in range(processes_n)
    ]
    for p in procs:
        p.start()
    errors: list[BaseException] = []

    def local(tag: str) -> None:
        try:
            append_events(database_url, tag, per_writer, barrier)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=local, args=(f"t{i}",)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    for p in procs:
        p.join(timeout=180)
    assert not errors, errors
    assert [p.exitcode for p in procs] == [0] * processes_n
    import json

    events = _check_log(session_factory, (processes_n + threads_n) * per_writer)
    writers = Counter(json.loads(e.detail)["writer"] for e in events)
    assert set(writers.values()) == {per_writer}
    assert len(writers) == processes_n + threads_n


def test_concurrent_submissions(session_factory, services, world):
    """Whole use cases racing each other keep the log straight too."""
    threads_n, each = 4, 4
    errors: list[BaseException] = []
    results = []

    def run() -> None:
        try:
            for _ in range(each):
                results.append(submit(session_factory, services, category="misconduct"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    before, _ = head_row(session_factory)
    workers = [threading.Thread(target=run) for _ in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    assert len({r.case_id for r in results}) == threads_n * each
    assert len(queued(session_factory)) == threads_n * each
    with transaction(session_factory) as s:
        sequence_reporter_events(s, next_day(services))
    _check_log(session_factory, before + threads_n * each)
    assert not queued(session_factory)


# --- no content in the log --------------------------------------------------------------------


def test_events_never_contain_content(session_factory, services, world):
    canaries = {
        f"CANARY-{name}-{secrets.token_hex(6)}"
        for name in (
            "summary",
            "desc",
            "msg",
            "reply",
            "note",
            "name",
            "contact",
            "file",
            "body",
            "reason",
        )
    }
    c = sorted(canaries)
    ivy = world["ivy"]
    result = submit(
        session_factory,
        services,
        category="misconduct",
        report=ReportContent(summary=c[0], description=c[1], who_involved=c[2]),
        identity=Identity(name=c[3], contact=c[4]),
        files=[(c[5] + ".txt", c[6].encode())],
    )
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        read_case_for_submitter(s, services, access)
        post_submitter_message(s, services, access, c[7])
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, ivy.unlocked, result.case_id)
        post_reviewer_message(
            s, services, ivy.unlocked, result.case_id, MessageKind.INTERNAL_NOTE, c[8]
        )
        reveal_identity(s, services, ivy.unlocked, result.case_id, c[9])
        _meta, stream = open_file_for_reviewer(s, services, ivy.unlocked, view.files[0].id)
        b"".join(stream)
    code = result.receipt_code
    from crypto.receipt import format_receipt

    with session_factory() as s:
        waiting = s.execute(text("select * from audit_pending_events")).all()
    assert len(waiting) >= 3
    with transaction(session_factory) as s:
        sequence_reporter_events(s, next_day(services))
    with session_factory() as s:
        rows = s.execute(text("select * from audit_events")).all()
    assert len(rows) >= 8
    dump = "\n".join(repr(tuple(row)) for row in waiting)
    for needle in [*canaries, code, format_receipt(code), "CANARY"]:
        assert needle not in dump
    dump = "\n".join(repr(tuple(row)) for row in rows)
    for needle in [*canaries, code, format_receipt(code), "CANARY"]:
        assert needle not in dump
    import json

    for row in rows:
        detail = json.loads(row.detail)
        assert all(
            isinstance(v, (int, bool, type(None))) or len(str(v)) < 40 for v in detail.values()
        )


def test_reporter_events_name_no_rows_but_their_case(session_factory, services, world):
    """Row ids are given out in insertion order, shared with staff rows whose events carry
    exact times; an id in a reporter's (day-dated, shuffled) event would place it between
    those times. The reporter's actions queue events without one, and record_event refuses
    a reporter event that names a row."""
    import json

    result = submit(session_factory, services, category="misconduct",
                    files=[("x.txt", b"x")])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        view = read_case_for_submitter(s, services, access)
        _meta, stream = open_file_for_submitter(s, services, access, view.files[0].id)
        b"".join(stream)
        stored = store_submitter_file(services, access, "y.txt", "text/plain", iter([b"y"]))
        post_submitter_message(s, services, access, "hello", [stored])
    with session_factory() as s:
        waiting = s.execute(text("select action, detail from audit_pending_events")).all()
    assert len(waiting) == 4  # submitted, opened, file read, message
    for action, detail in waiting:
        assert not [key for key in json.loads(detail) if key.endswith("_id")], action
    with pytest.raises(ValueError, match="must not name rows"), \
            transaction(session_factory) as s:
        record_event(s, services.clock, A.SUBMITTER_MESSAGE_POSTED, Actor.submitter(),
                     case_id=result.case_id, detail={"message_id": 1})
