"""Workers killed in the middle of submissions lose nothing anyone was told is stored (#15).

`candor serve portal` (gunicorn, two workers) receives SUBMISSIONS reports with files from
CLIENTS concurrent clients while the test SIGKILLs a worker (a child of the gunicorn master,
which starts a new one) at random moments. Then:

- every receipt a client received opens its whole case over HTTP: /follow-up, /case with the
  report's text, every file byte-identical through its download link;
- no half case exists: every case row has the grants of a case sent without a crash and a
  team member, decrypts as its handler, and every attachment's blob exists and decrypts;
- blob files that no row references (a crash between writing a file and committing its case)
  and interrupted writes are counted, the blob store is aged by two weeks (what cleanup waits
  for: uploads may still be in flight), and `candor cleanup` removes exactly those, keeping
  every referenced blob.

The instance allows more submissions a minute than the default 20 (the load is the point).
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from core.cases.casework import open_file_for_reviewer, read_case_for_reviewer
from core.db import transaction
from core.models import Attachment, Case, CaseGrant, CaseMember
from tests.core.factories import ReviewerHandle
from tests.load.clients import (
    RECEIPT_RE,
    Browser,
    Dropped,
    case_page,
    download,
    files_on,
    log_in,
    report_fields,
    submit,
)
from tests.load.conftest import Instance, Server, Traffic, children, serve

pytestmark = pytest.mark.slow

SUBMISSIONS = 200
CLIENTS = 8
KILL_EVERY = (0.5, 2.5)  # seconds between two kills
MAX_KILLS = 20
TWO_WEEKS = 14 * 24 * 3600
REFERENCE = "Sent before any crash"


@dataclass
class Sent:
    """One submission as its client knows it."""

    summary: str
    what_happened: str
    files: list[tuple[str, bytes]]
    outcome: str = "not sent"
    receipt: str | None = None


def new_report(n: int) -> Sent:
    tag = secrets.token_hex(6)
    files = [(f"evidence-{n}-{j}.bin", os.urandom(random.randint(1, 192) * 1024))
             for j in range(random.randint(1, 2))]
    return Sent(f"Crash report {n} {tag}", f"What happened {tag}: " + "details " * 50, files)


def send(server: Server, traffic: Traffic, sent: Sent) -> None:
    """Load the form (again, while its worker is being replaced), then post the report once."""
    browser = Browser(server.base, traffic, "client")
    for _attempt in range(20):
        try:
            form = browser.get("/report")
        except Dropped:
            form = None
        if form is not None and form.status == 200:
            break
        time.sleep(0.3)
    else:
        sent.outcome = "no form"
        return
    try:
        answer = browser.post_multipart(
            "/report", report_fields(form.text, sent.summary, sent.what_happened),
            [("attachments", name, data) for name, data in sent.files])
    except Dropped:
        sent.outcome = "dropped"
        return
    match = RECEIPT_RE.search(answer.text) if answer.status == 200 else None
    sent.outcome = "receipt" if match else f"status {answer.status}"
    sent.receipt = match.group(1) if match else None


def kill_workers(server: Server, stop: threading.Event, kills: list[int]) -> None:
    """SIGKILL one of the master's workers at random moments until `stop`."""
    while not stop.wait(random.uniform(*KILL_EVERY)) and len(kills) < MAX_KILLS:
        workers = server.workers()
        if not workers:
            continue
        pid = random.choice(workers)
        if pid in children(server.process.pid):  # still ours (not exited and reused)
            os.kill(pid, signal.SIGKILL)
            kills.append(pid)


def opens_whole(server: Server, traffic: Traffic, sent: Sent) -> str | None:
    """None if the receipt opens the case with its text and every file; else what failed."""
    assert sent.receipt is not None
    browser = Browser(server.base, traffic, "check")
    try:
        log_in(browser, sent.receipt)
        page = case_page(browser, contains=sent.summary)
        if sent.what_happened.split(":")[0] not in page:
            return f"{sent.summary}: the report's text is missing"
        links = files_on(page)
        if sorted(links) != sorted(name for name, _data in sent.files):
            return f"{sent.summary}: files {sorted(links)}"
        for name, data in sent.files:
            if download(browser, links[name]) != data:
                return f"{sent.summary}: {name} differs"
    except (AssertionError, Dropped) as failure:
        return f"{sent.summary}: {failure}"
    return None


def grant_shape(grants: list[CaseGrant]) -> set[tuple[int, str, str, int | None]]:
    return {(g.epoch, str(g.key_kind), str(g.recipient), g.reviewer_id) for g in grants}


@dataclass
class CaseRow:
    summary: str
    grants: set[tuple[int, str, str, int | None]]


def every_case(instance: Instance, handler: ReviewerHandle) -> tuple[dict[int, CaseRow],
                                                                     list[str]]:
    """Every case row as its handler reads it through the use cases, and what is not whole:
    no team membership, a record failing its check, an attachment without its blob."""
    found, problems = {}, []
    with transaction(instance.session_factory) as s:
        for case in s.execute(select(Case)).scalars():
            if s.get(CaseMember, (case.id, handler.id)) is None:
                problems.append(f"case {case.id}: no team member")
            view = read_case_for_reviewer(s, instance.services, handler.unlocked, case.id)
            if view.tampered:
                problems.append(f"case {case.id}: {view.tampered}")
            found[case.id] = CaseRow(view.report.summary, grant_shape(list(case.grants)))
            attachments = s.execute(select(Attachment).where(
                Attachment.case_id == case.id)).scalars().all()
            if len(attachments) != len(view.files):
                problems.append(f"case {case.id}: {len(attachments)} files, "
                                f"{len(view.files)} shown")
            for attachment in attachments:
                meta, chunks = open_file_for_reviewer(s, instance.services, handler.unlocked,
                                                      attachment.id)
                if sum(len(c) for c in chunks) != meta.size:
                    problems.append(f"case {case.id}: file {attachment.id} is short")
    return found, problems


def blob_census(instance: Instance) -> tuple[set[str], set[str], list[Path]]:
    """(blobs stored, blobs referenced by a row, interrupted writes in the store's tmp/)."""
    stored = {blob_id for blob_id, _day in instance.services.blobs.list_blobs()}
    with instance.session_factory() as s:
        referenced = set(s.execute(select(Attachment.blob_id)).scalars())
    return stored, referenced, list((instance.data_dir / "blobs" / "tmp").iterdir())


def test_killed_workers_leave_no_half_case_and_lose_no_received_receipt(
        instance: Instance) -> None:
    [handler] = instance.handlers(1)
    traffic = Traffic()
    reports = [new_report(n) for n in range(SUBMISSIONS)]
    kills: list[int] = []
    with serve(instance, "portal",
               env={"CANDOR_SUBMISSIONS_PER_MINUTE": "10000"}) as server:
        reference = Browser(server.base, traffic, "reference")
        submit(reference, REFERENCE, "The case the others are compared with.",
               [("reference.bin", b"reference")])
        queue = list(reports)
        lock, stop = threading.Lock(), threading.Event()

        def client() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    sent = queue.pop()
                send(server, traffic, sent)

        killer = threading.Thread(target=kill_workers, args=(server, stop, kills), daemon=True)
        clients = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for thread in [killer, *clients]:
            thread.start()
        for thread in clients:
            thread.join(timeout=300)
        stop.set()
        killer.join(timeout=10)
        assert not any(t.is_alive() for t in clients), "a client did not stop"
        server.wait_ready()  # the master has replaced every killed worker

        received = [sent for sent in reports if sent.receipt is not None]
        failures: list[str | None] = []
        pending = list(received)

        def checker() -> None:
            while True:
                with lock:
                    if not pending:
                        return
                    sent = pending.pop()
                failures.append(opens_whole(server, traffic, sent))

        checkers = [threading.Thread(target=checker, daemon=True) for _ in range(4)]
        for thread in checkers:
            thread.start()
        for thread in checkers:
            thread.join(timeout=300)

    outcomes = Counter(sent.outcome for sent in reports)
    print(f"\n{len(kills)} workers killed; outcomes {dict(outcomes)}\n{traffic.summary()}")
    # A killed worker drops its connections; it never makes another answer a 5xx.
    assert traffic.server_errors() == {}, traffic.summary()
    assert len(kills) >= 3, "the test killed too few workers to mean anything"
    assert len(received) >= SUBMISSIONS // 4, outcomes
    assert [f for f in failures if f is not None] == []
    assert len(failures) == len(received)

    found, problems = every_case(instance, handler)
    assert problems == []
    summaries = Counter(row.summary for row in found.values())
    [reference_case] = [row for row in found.values() if row.summary == REFERENCE]
    assert [i for i, row in found.items() if row.grants != reference_case.grants] == []
    assert set(summaries) <= {sent.summary for sent in reports} | {REFERENCE}
    assert all(n == 1 for n in summaries.values())
    assert {sent.summary for sent in received} <= set(summaries)

    stored, referenced, interrupted = blob_census(instance)
    assert referenced <= stored, "a row references a missing blob"
    orphans = stored - referenced
    print(f"orphan blobs {len(orphans)}, interrupted writes {len(interrupted)}, "
          f"referenced {len(referenced)}")
    two_weeks_ago = time.time() - TWO_WEEKS
    for path in (instance.data_dir / "blobs").rglob("*"):
        if path.is_file():
            os.utime(path, (two_weeks_ago, two_weeks_ago))
    said = instance.cli("cleanup")
    assert f"Removed {len(orphans)} orphaned blob(s), {len(interrupted)} interrupted" in said
    stored_after, referenced_after, interrupted_after = blob_census(instance)
    assert (stored_after, referenced_after, interrupted_after) == (referenced, referenced, [])
