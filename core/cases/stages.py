"""A case's path through the stages, read from the audit log: where a case goes back to when
the reporter answers a request for information, and which stages it has really been in.

A request for information moves the case to "information needed" (core.cases.kinds); the
reporter's answer returns it to the stage it was in before the request. That stage is read
from the audit log, which records every stage change with its "from" and "to": nothing new
is stored, and the log is what auditors check anyway.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import AuditAction
from core.models import AuditEvent, Case, CaseStatus, PendingAuditEvent

#: Where an answered request returns when the log does not say (a request made while the
#: case was only received has acknowledged it: it never returns to "received").
DEFAULT_RETURN = CaseStatus.ACKNOWLEDGED


def _stage_changes(session: Session, case_id: int) -> list[dict[str, str]]:
    """The case's stage changes, logged and queued (a reporter's are queued until their day
    ends), as their details {"from": ..., "to": ...}; logged ones newest first."""
    action = str(AuditAction.CASE_STATUS_CHANGED)
    logged = session.execute(
        select(AuditEvent.detail)
        .where(AuditEvent.case_id == case_id, AuditEvent.action == action)
        .order_by(AuditEvent.position.desc())).scalars()
    queued = session.execute(
        select(PendingAuditEvent.detail)
        .where(PendingAuditEvent.case_id == case_id, PendingAuditEvent.action == action)
    ).scalars()
    return [json.loads(raw) for raw in [*logged, *queued]]


def reached_stages(session: Session, case_id: int) -> frozenset[CaseStatus]:
    """Every stage the case has been in (received, and each stage a change moved it to)."""
    case = session.get(Case, case_id)
    reached = {CaseStatus.RECEIVED} | ({case.status} if case is not None else set())
    for change in _stage_changes(session, case_id):
        reached.update(CaseStatus(change[key]) for key in ("from", "to"))
    return frozenset(reached)


def stage_before_request(session: Session, case_id: int) -> CaseStatus:
    """The stage the case was in when it last moved to "information needed"."""
    changes = session.execute(
        select(AuditEvent.detail)
        .where(AuditEvent.case_id == case_id,
               AuditEvent.action == str(AuditAction.CASE_STATUS_CHANGED))
        .order_by(AuditEvent.position.desc())
    ).scalars()
    # Reporters' queued changes never move a case to "information needed": staff requests
    # are logged at once, so the newest logged one is the request.
    for raw in changes:
        detail = json.loads(raw)
        if detail.get("to") == CaseStatus.INFO_NEEDED.value:
            previous = CaseStatus(detail["from"])
            if previous in (CaseStatus.RECEIVED, CaseStatus.INFO_NEEDED):
                return DEFAULT_RETURN
            return previous
    return DEFAULT_RETURN
