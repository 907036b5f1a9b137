"""core.operations.cleanup: orphan blobs are swept once they are whole grace days old,
counted from the Sunday after their date; blobs a row refers to, or a draft still uploading,
are kept. (The blob store itself is tested in tests/core/test_blobs.py.)"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

from core.clock import Clock
from core.db import transaction
from core.intake.submission import SubmissionDraft
from core.operations.cleanup import sweep_orphan_blobs
from tests.core.factories import add_reviewer, seed_categories, submit


def test_sweep_orphans_respects_references_and_grace(session_factory, services):
    today = date(2024, 6, 10)
    blobs = services.blobs
    ivy = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)

    # A referenced blob written long ago (a committed submission): never swept.
    old_clock = Clock(now=lambda: datetime(2024, 5, 1, 12, tzinfo=UTC))
    submit(
        session_factory,
        dataclasses.replace(services, clock=old_clock),
        files=[("kept.txt", b"kept")],
    )
    [(referenced, referenced_day)] = list(blobs.list_blobs())
    assert referenced_day == date(2024, 5, 1)

    # Blob dates may be a week's Monday (submitter_date_precision = "week"), so a blob's age
    # counts from the Sunday after its date: six days later than its date says.
    old_orphan, _ = blobs.write([b"old"], day=today - timedelta(days=8))
    edge_orphan, _ = blobs.write([b"edge"], day=today - timedelta(days=7))
    fresh_orphan, _ = blobs.write([b"fresh"], day=today)

    with transaction(session_factory) as s:
        removed = sweep_orphan_blobs(s, blobs, today, grace_days=1)
    remaining = {blob_id for blob_id, _ in blobs.list_blobs()}
    # The edge blob may stand for yesterday, 23:59, its upload still running: kept.
    assert removed == 1
    assert remaining == {referenced, edge_orphan, fresh_orphan}

    # A longer grace period keeps more; each later day the next one goes.
    another, _ = blobs.write([b"x"], day=today - timedelta(days=10))  # may be 4 days old
    with transaction(session_factory) as s:
        assert sweep_orphan_blobs(s, blobs, today, grace_days=7) == 0
        assert sweep_orphan_blobs(s, blobs, today, grace_days=2) == 1
        assert sweep_orphan_blobs(s, blobs, today + timedelta(days=1)) == 1  # the edge one
        assert sweep_orphan_blobs(s, blobs, today + timedelta(days=7)) == 0  # fresh: Sunday
        assert sweep_orphan_blobs(s, blobs, today + timedelta(days=8)) == 1  # the fresh one
    assert {b for b, _ in blobs.list_blobs()} == {referenced}
    # The committed case's file still opens.
    assert b"".join(blobs.read(referenced))


def test_sweep_keeps_blobs_of_a_draft_in_flight(session_factory, services):
    draft = SubmissionDraft()
    today = services.clock.today()
    draft.add_file(services, "a.txt", "text/plain", [b"in flight"])
    with transaction(session_factory) as s:
        assert sweep_orphan_blobs(s, services.blobs, today) == 0
    assert len(list(services.blobs.list_blobs())) == 1
    draft.discard(services.blobs)
