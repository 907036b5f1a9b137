"""Exclusions as the access log records them.

A membership's tag (core.cases.membership_tags) says only that Candor once wrote the row as it
stands: a database writer who kept a member's row from before their exclusion, with its tag,
could put it back, and the excluded member would get the keys of the next epoch, or all of
them from `candor recover` (the tags are not bound to time). Exclusions are final in Candor,
and each one is an entry of the hash-chained access log (CASE_MEMBER_EXCLUDED). So whoever the
log records as excluded is excluded, whatever their row says: undoing it would mean deleting
that entry too, which breaks the chain that auditors verify against their checkpoints.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from core.audit.log import AuditAction
from core.models import AuditEvent, Case

__all__ = ["logged_exclusions", "logged_exclusions_of"]


def logged_exclusions(session: Session, case_id: int) -> frozenset[int]:
    """The accounts the access log records as excluded from the case (one query, on the log's
    (case, action) index: migration 0020)."""
    details = session.execute(
        select(AuditEvent.detail).where(
            AuditEvent.case_id == case_id,
            AuditEvent.action == str(AuditAction.CASE_MEMBER_EXCLUDED))).scalars()
    excluded: set[int] = set()
    for detail in details:
        try:
            parsed = json.loads(detail)
        except ValueError:
            continue  # written outside Candor (the chain check names it): nobody to name here
        reviewer_id = parsed.get("reviewer_id") if isinstance(parsed, dict) else None
        if isinstance(reviewer_id, int):
            excluded.add(reviewer_id)
    return frozenset(excluded)


def logged_exclusions_of(case: Case) -> frozenset[int]:
    """logged_exclusions of a case loaded in a session (the lead and team checks take the
    case alone); nothing for a case outside any session, which takes no step."""
    session = object_session(case)
    if session is None or case.id is None:
        return frozenset()
    return logged_exclusions(session, case.id)
