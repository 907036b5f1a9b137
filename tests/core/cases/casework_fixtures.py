"""Helpers shared by test_corrective_actions.py and test_evidence_log.py: a
clock stopped at one moment, and a case accepted with bob leading."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from core.cases import workflow
from core.clock import Clock
from core.db import transaction
from core.models import (
    AuditEvent,
    CaseMember,
    Finding,
    ScopeDecision,
)
from tests.core.factories import detached_case, handlers_and_case

NOTE = "CANARY-NOTE the badge reader log shows entry at 02:13"
INTERVIEW = "CANARY-INTERVIEW saw the door propped open"
CORRECTION = "CANARY-CORRECTION it was 03:13, not 02:13"
DECISION = workflow.DecisionInput(finding=Finding.SUBSTANTIATED, root_cause=None,
                                  reasons="The log and the interview agree.")


def stopped_clock(services):
    """The services with a clock stopped at one moment (no midnight between two calls)."""
    moment = datetime.now(UTC)
    return dataclasses.replace(services, clock=Clock(now=lambda: moment))


def accepted_case(session_factory, services, fixed):
    """alice (intake) and bob (granted); a case accepted with bob leading."""
    alice, bob, result = handlers_and_case(session_factory, services, fixed)
    case_id = result.case_id
    with transaction(session_factory) as s:
        workflow.decide_scope(s, fixed, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=bob.id)
    return alice, bob, case_id


def decide(session_factory, fixed, team) -> None:
    _alice, bob, case_id = team
    with transaction(session_factory) as s:
        workflow.record_decision(s, fixed, bob.unlocked, case_id, DECISION)


case_row = detached_case


def member_copies(session_factory, case_id: int) -> set[date | None]:
    with session_factory() as s:
        return set(s.execute(select(CaseMember.actions_due).where(
            CaseMember.case_id == case_id)).scalars())


def count(session_factory, model) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def details(session_factory, action: str) -> list[dict]:
    with session_factory() as s:
        return [json.loads(d) for d in s.execute(
            select(AuditEvent.detail).where(AuditEvent.action == action)
            .order_by(AuditEvent.position)).scalars()]


