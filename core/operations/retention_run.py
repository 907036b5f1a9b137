"""`candor retention run`: destroy the content of every case due under the retention policy
(core.cases.retention says which; core.cases.shredding destroys), one transaction per case,
then delete the destroyed cases' files from the blob store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from core.audit.log import Actor
from core.cases.retention import DueCase, due_cases
from core.cases.shredding import destroy_case_content
from core.services import Services

log = logging.getLogger("candor.retention")

Transaction = Callable[[], AbstractContextManager[Session]]


@dataclass
class RetentionSummary:
    """What a run found and did. In a dry run, `due` is what would be destroyed."""

    dry_run: bool
    due: list[DueCase] = field(default_factory=list)
    destroyed: list[DueCase] = field(default_factory=list)
    #: Listed as due but no longer due when locked (reopened or held meanwhile).
    skipped: list[DueCase] = field(default_factory=list)
    #: Cases whose transaction failed: left whole, tried again by the next run.
    failed: list[DueCase] = field(default_factory=list)
    #: Blobs that could not be deleted after the commit (orphans: `candor cleanup` sweeps).
    blobs_left: int = 0


def run_retention(transaction: Transaction, services: Services, today: date, *,
                  dry_run: bool = False) -> RetentionSummary:
    """Destroy the content of every case due on `today`, one transaction per case, so that a
    failure leaves that case whole and the others done; then delete each destroyed case's
    blobs. A dry run only lists the due cases and changes nothing."""
    with transaction() as session:
        due = due_cases(session, services, today)
    summary = RetentionSummary(dry_run=dry_run, due=due)
    if dry_run:
        return summary
    for item in due:
        try:
            with transaction() as session:
                shredded = destroy_case_content(session, services, item.case_id,
                                                Actor.system(), today=today)
        except Exception:  # noqa: BLE001 - one case's failure must not stop the others
            log.exception("retention: destroying the content of case %s failed; it is left "
                          "whole and tried again by the next run", item.reference)
            summary.failed.append(item)
            continue
        if shredded is None:
            summary.skipped.append(item)
            continue
        summary.destroyed.append(item)
        for blob_id in shredded.blob_ids:
            try:
                services.blobs.delete(blob_id)
            except Exception:  # noqa: BLE001 - an orphan is swept by `candor cleanup`
                log.warning("retention: a blob of case %s could not be deleted; `candor "
                            "cleanup` removes it", item.reference)
                summary.blobs_left += 1
    return summary
