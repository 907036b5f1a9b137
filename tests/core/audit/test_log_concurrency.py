"""The audit log under concurrent writers, and what its events may never hold."""

from __future__ import annotations

import multiprocessing
import secrets
import threading
from collections import Counter

import pytest
from sqlalchemy import text

from core.audit.log import (
    Actor,
    record_event,
    sequence_reporter_events,
)
from core.cases.casework import (
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
)
from core.cases.content import Identity, ReportContent
from core.cases.identity_access import reveal_identity
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
    MessageKind,
)
from tests.core._audit_writer import append_events
from tests.core.audit.test_log import (  # noqa: F401 - helpers and fixtures
    A,
    all_events,
    head_row,
    next_day,
    queued,
    verify_all,
)
from tests.core.factories import add_reviewer, approve_identity, submit


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
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
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
    approve_identity(session_factory, services, ivy, keeper, result.case_id, reason=c[9])
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

