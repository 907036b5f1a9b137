"""What the workflow tests read back from the database, and the accepted-case step they share."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from core.cases import workflow
from core.db import transaction
from core.models import (
    AuditEvent,
    CaseMember,
    Decision,
    MemberRole,
    Message,
    MessageKind,
    ScopeDecision,
)
from tests.core.factories import audit_size, detached_case


def member_roles(session_factory, case_id: int) -> dict[int, MemberRole]:
    with session_factory() as s:
        return {m.reviewer_id: m.role for m in s.execute(
            select(CaseMember).where(CaseMember.case_id == case_id)).scalars()}


def message_kinds(session_factory, case_id: int) -> list[MessageKind]:
    with session_factory() as s:
        return list(s.execute(select(Message.kind).where(Message.case_id == case_id)
                              .order_by(Message.position)).scalars())


def stage_changes(session_factory, case_id: int) -> list[tuple[str, str]]:
    with session_factory() as s:
        details = s.execute(select(AuditEvent.detail).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "case:status")
            .order_by(AuditEvent.position)).scalars()
        return [(d["from"], d["to"]) for d in map(json.loads, details)]


def snapshot(session_factory, case_id: int) -> tuple:
    """Everything a refused step must leave as it was."""
    case = detached_case(session_factory, case_id)
    with session_factory() as s:
        decisions = s.scalar(select(func.count()).select_from(Decision))
    return (case.status, case.scope_decision, case.priority, case.closed_on,
            case.acknowledged_on, member_roles(session_factory, case_id),
            message_kinds(session_factory, case_id), decisions, audit_size(session_factory))


def accepted(session_factory, services, team) -> int:
    """The team's case accepted by alice with bob as lead; returns its id."""
    alice, bob, result = team
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, result.case_id,
                              ScopeDecision.ACCEPTED, lead_id=bob.id)
    return result.case_id
