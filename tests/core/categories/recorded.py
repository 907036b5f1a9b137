"""What the category tests read back from the audit log."""

from __future__ import annotations

import json

from sqlalchemy import select

from core.models import AuditEvent


def events(session_factory, prefix: str = "category:") -> list[tuple[str, dict, str]]:
    """(action, detail, actor kind) of the audit events whose action starts with prefix."""
    with session_factory() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.position)).all()
        return [(e.action, json.loads(e.detail), e.actor_kind) for e in rows
                if e.action.startswith(prefix)]
