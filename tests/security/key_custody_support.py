"""Helpers of the key-custody attacks (tests/security/test_key_custody*.py): what someone
reading or writing the database sees and does."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from core.audit.log import AuditAction
from core.cases.content import Identity, ReportContent
from core.db import transaction
from core.intake.submission import SubmissionDraft, SubmissionResult, submit_report
from core.models import (
    AuditEvent,
    CaseGrant,
    Reviewer,
)
from core.services import Services
from crypto.errors import CryptoError
from crypto.keys import KeyPair, open_sealed
from tests.core.factories import ReviewerHandle, add_reviewer, submit

Factory = sessionmaker[Session]
Team = dict[str, Any]
IDENTITY = Identity(name="Ada Reporter", contact="ada@example.org", position="Clerk")


def opens(private_key: bytes, sealed: bytes) -> bytes | None:
    """The key a sealed grant holds, or None when `private_key` does not open it."""
    try:
        return open_sealed(private_key, sealed)
    except CryptoError:
        return None


def grants_of(sf: Factory, case_id: int, reviewer_id: int | None = None) -> list[Any]:
    """(epoch, kind, sealed key) of the case's grants (of one reviewer), as a dump shows."""
    query = select(CaseGrant.epoch, CaseGrant.key_kind, CaseGrant.sealed_key).where(
        CaseGrant.case_id == case_id)
    if reviewer_id is not None:
        query = query.where(CaseGrant.reviewer_id == reviewer_id)
    with sf() as s:
        return [tuple(row) for row in s.execute(query)]


def write_sql(sf: Factory, sql: str, **params: Any) -> None:
    """A database writer's plain SQL, committed."""
    with transaction(sf) as s:
        s.execute(text(sql), params)


def account(s: Session, reviewer_id: int) -> Reviewer:
    """The account row, which must exist."""
    reviewer = s.get(Reviewer, reviewer_id)
    assert reviewer is not None
    return reviewer


def key_alarms(sf: Factory) -> list[dict[str, Any]]:
    """The details of the "reviewer:key:reject" events."""
    with sf() as s:
        return [json.loads(d) for d in s.execute(select(AuditEvent.detail).where(
            AuditEvent.action == AuditAction.KEY_REJECTED)).scalars()]


def submit_excluding(sf: Factory, services: Services, excluded: list[int]) -> SubmissionResult:
    with transaction(sf) as s:
        return submit_report(s, services, SubmissionDraft(), category_code="it_fault",
                             report=ReportContent(summary="About my manager"),
                             excluded_handlers=excluded)


def requester_turned_custodian(sf: Factory, services: Services, team: Team,
                               recovery_key: KeyPair) -> tuple[int, int, ReviewerHandle]:
    """ivy, on the team, asks cora for the identity; then ivy is made a custodian and
    re-granted with the recovery key, so she holds the identity key while her own request is
    pending. (case, request, cora)"""
    from core.cases.identity_requests import request_identity
    from core.cases.recovery import regrant_member_cases
    from core.staff.keys import tag_standing

    cora = add_reviewer(sf, services, "cora", custodian=True)
    case_id = submit(sf, services, identity=IDENTITY).case_id
    with transaction(sf) as s:
        request_id = request_identity(s, services, team["ivy"].unlocked, case_id, "why").id
    with transaction(sf) as s:
        account(s, team["ivy"].id).identity_custodian = True
        tag_standing(services.keyring, account(s, team["ivy"].id))  # as set_custodian does
        regrant_member_cases(s, services, recovery_key.private_key, account(s, team["ivy"].id))
    return case_id, request_id, cora
