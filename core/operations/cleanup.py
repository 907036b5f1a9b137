"""Housekeeping that keeps the stores consistent."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.blobs import BlobStore
from core.clock import DatePrecision
from core.models import Attachment


def sweep_orphan_blobs(session: Session, blobs: BlobStore, today: date,
                       grace_days: int = 1) -> int:
    """Delete blobs no attachment row refers to, once they are `grace_days` whole days old.

    Orphans come from submissions that failed or were abandoned after their files were
    encrypted (blobs are written before the row is committed). The grace period keeps blobs of
    submissions still in flight. Blobs carry only their day of writing, so a blob is deleted
    only from the day after the one on which it may first be `grace_days` days old: one
    written at 23:59 yesterday belongs to a submission that may still be uploading.

    A reporter's blob may carry only the Monday of its week (`submitter_date_precision`), and
    the precision may have been changed since, or be missing from cron's environment: every
    blob's age therefore counts from the Sunday after its date. Orphans stay up to six days
    longer; no upload in flight is ever deleted.
    """
    cutoff = today - timedelta(days=grace_days)
    referenced = set(session.execute(select(Attachment.blob_id)).scalars())
    removed = 0
    for blob_id, written_on in list(blobs.list_blobs()):
        if blob_id not in referenced and DatePrecision.WEEK.last_day(written_on) < cutoff:
            blobs.delete(blob_id)
            removed += 1
    return removed
