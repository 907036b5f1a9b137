"""Retention: a finished case's content is destroyed `retention_days` after it was finished,
unless it is on legal hold.

A case is finished when it is in a final stage (closed, referred, not admissible):
`cases.closed_on` is the day it entered one (core.cases.casework.change_status), cleared when
it is reopened. Its content is due for destruction from closed_on + retention_days; 0 days
turns retention off. `candor retention run` (daily, deploy/candor-retention.timer) calls
core.operations.retention_run, which crypto-shreds each due case in a transaction of its own
(core.cases.shredding) and then deletes its files from the blob store.

Everything here reads clear columns only: nothing is decrypted to decide what is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.inbox_counts import lock_case
from core.cases.references import normalised_reference
from core.cases.team_changes import may_exclude
from core.errors import AccessDenied, Conflict, NotFound
from core.models import Case
from core.models.enums import FINAL_STATUSES
from core.services import Services


class ContentDestroyed(Conflict):
    """The case's content was destroyed under the retention policy: nothing to change."""


def refuse_if_destroyed(case: Case) -> None:
    """ContentDestroyed if retention destroyed the case's content. Call with the case locked
    (core.cases.inbox_counts.lock_case, which re-reads it), so that a run committed since the
    caller last read the case is seen: a reporter's session holds the first case key, and a
    message written after the run would leave a ciphertext (and files) of a destroyed case."""
    if case.content_destroyed_on is not None:
        raise ContentDestroyed("the content of this case was destroyed under the retention "
                               "policy")


def due_on(case: Case, retention_days: int) -> date | None:
    """The day the case's content is due for destruction, or None: retention is off, the case
    is not finished, it is on legal hold, or its content is already destroyed."""
    if (retention_days <= 0 or case.status not in FINAL_STATUSES or case.closed_on is None
            or case.legal_hold or case.content_destroyed_on is not None):
        return None
    return case.closed_on + timedelta(days=retention_days)


@dataclass(frozen=True)
class DueCase:
    """A case whose content is due for destruction."""

    case_id: int
    reference: str
    closed_on: date
    due_on: date


def due_cases(session: Session, services: Services, today: date) -> list[DueCase]:
    """The finished cases whose content is due on `today` (closed_on + retention_days <=
    today), not on legal hold and not yet destroyed, oldest first. One range of the index on
    (content_destroyed_on, closed_on); clear columns only."""
    days = services.config.retention_days
    if days <= 0:
        return []
    rows = session.execute(
        select(Case.id, Case.reference, Case.closed_on)
        .where(Case.content_destroyed_on.is_(None),
               Case.closed_on <= today - timedelta(days=days),
               Case.status.in_(FINAL_STATUSES), Case.legal_hold.is_(False))
        .order_by(Case.closed_on, Case.reference))
    return [DueCase(case_id, reference, closed_on, closed_on + timedelta(days=days))
            for case_id, reference, closed_on in rows if closed_on is not None]


def case_by_reference(session: Session, reference: str) -> Case:
    """The case with this reference (as the console and the command line show it, typed in
    either case, with or without its "C-", like the console's search); NotFound otherwise."""
    case = session.execute(
        select(Case).where(Case.reference == normalised_reference(reference))
    ).scalar_one_or_none()
    if case is None:  # named as typed: the "C-" added would look like a second typo
        raise NotFound(f"no case with the reference {reference.strip().upper()!r}")
    return case


def set_legal_hold(session: Session, services: Services, case: Case, hold: bool,
                   actor: Actor) -> bool:
    """Place (`hold`) or lift a legal hold on the case; audited as CASE_LEGAL_HOLD_CHANGED.
    A staff actor must be the case lead (core.cases.team_changes.may_exclude): AccessDenied
    otherwise; the system actor is the operator at the command line. ContentDestroyed when
    the content is already gone. Returns whether anything changed (setting the hold it
    already has records nothing)."""
    lock_case(session, case)
    if actor.reviewer_id is not None and not may_exclude(services.keyring, case,
                                                         actor.reviewer_id):
        raise AccessDenied("only the case lead may place or lift a legal hold")
    refuse_if_destroyed(case)
    if case.legal_hold == hold:
        return False
    case.legal_hold = hold
    record_event(session, services.clock, AuditAction.CASE_LEGAL_HOLD_CHANGED, actor,
                 case_id=case.id, detail={"hold": hold})
    session.flush()
    return True
