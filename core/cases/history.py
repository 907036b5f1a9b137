"""A case's history for its team, from the audit log: who did what, when. Staff actions carry
their exact time; the reporter's carry only their day (queued ones too), as everywhere.

Nothing here decrypts: audit events hold identifiers and flags, never content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import AuditAction
from core.models import ActorKind, AuditEvent, PendingAuditEvent, Reviewer

#: The events that make up the handling of a case (the rest are readings: decryptions and
#: downloads, shown only when asked for).
HANDLING = frozenset({
    AuditAction.CASE_SUBMITTED, AuditAction.SUBMITTER_MESSAGE_POSTED,
    AuditAction.REVIEWER_MESSAGE_POSTED, AuditAction.CASE_STATUS_CHANGED,
    AuditAction.CASE_SCOPE_DECIDED, AuditAction.CASE_LEAD_CHANGED,
    AuditAction.CASE_MEMBER_ROLE_CHANGED, AuditAction.CASE_PRIORITY_CHANGED,
    AuditAction.CASE_CATEGORY_CHANGED, AuditAction.CASE_CATEGORY_CONFIRMED,
    AuditAction.EVIDENCE_ADDED, AuditAction.DECISION_RECORDED, AuditAction.ACTION_ADDED,
    AuditAction.ACTION_UPDATED, AuditAction.OUTCOME_ANSWERED, AuditAction.REVIEW_ANSWERED,
    AuditAction.CASE_REOPENED, AuditAction.CASE_GRANTED, AuditAction.CASE_MEMBER_EXCLUDED,
    AuditAction.CASE_EPOCH_STARTED, AuditAction.IDENTITY_REQUESTED,
    AuditAction.IDENTITY_REQUEST_DECIDED, AuditAction.IDENTITY_REVEALED,
    AuditAction.RECORD_TAMPERED, AuditAction.CASE_RECORDED_BY_STAFF,
    AuditAction.CASE_LEGAL_HOLD_CHANGED, AuditAction.CASE_CONTENT_DESTROYED,
})
#: Most entries shown on one page (newest first).
LIMIT = 300


@dataclass(frozen=True)
class HistoryEntry:
    """One event of the case."""

    action: str
    #: The staff member's username; None for the reporter or the system.
    actor: str | None
    actor_kind: ActorKind
    #: Exact time of a staff or system event; None for the reporter's.
    at: datetime | None
    day: date
    detail: dict[str, object]


def case_history(session: Session, case_id: int, *, readings: bool = False
                 ) -> list[HistoryEntry]:
    """The case's events, newest first: its handling, and with `readings` also every
    decryption and download. The reporter's events still queued come first, by day."""
    wanted = None if readings else [str(a) for a in HANDLING]
    query = select(AuditEvent).where(AuditEvent.case_id == case_id)
    if wanted is not None:
        query = query.where(AuditEvent.action.in_(wanted))
    names = {rid: name for rid, name in session.execute(select(Reviewer.id, Reviewer.username))}
    logged = [HistoryEntry(
        action=e.action, actor=names.get(e.reviewer_id) if e.reviewer_id else None,
        actor_kind=e.actor_kind,
        at=None if e.actor_kind is ActorKind.SUBMITTER else e.occurred_at,
        day=e.occurred_at.date(), detail=json.loads(e.detail))
        for e in session.execute(query.order_by(AuditEvent.position.desc()).limit(LIMIT))
        .scalars()]
    pending_query = select(PendingAuditEvent).where(PendingAuditEvent.case_id == case_id)
    if wanted is not None:
        pending_query = pending_query.where(PendingAuditEvent.action.in_(wanted))
    queued = [HistoryEntry(action=e.action, actor=None, actor_kind=ActorKind.SUBMITTER,
                           at=None, day=e.occurred_on, detail=json.loads(e.detail))
              for e in session.execute(pending_query.order_by(
                  PendingAuditEvent.occurred_on.desc())).scalars()]
    return [*queued, *logged]
