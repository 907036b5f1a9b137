"""Re-granting cases with the organisation recovery key (offline, by an operator)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.grants import find_reviewer_grant, grant_to_reviewer, open_recovery_grant
from core.errors import InvalidInput
from core.models import Case, CaseMember, KeyKind, Reviewer
from core.services import Services


@dataclass(frozen=True)
class RecoveryResult:
    """How many cases got new grants, and how many the recovery key could not open."""

    regranted: int
    without_recovery_grant: int


def regrant_member_cases(session: Session, services: Services, recovery_private_key: bytes,
                         reviewer: Reviewer) -> RecoveryResult:
    """Seal again, to the reviewer's current public key, every key of every case they are a
    (non-excluded) team member of. Used after a passphrase reset gave them a new key pair."""
    if not reviewer.active:
        raise InvalidInput("This account is deactivated.", field="reviewer")
    case_ids = session.execute(
        select(CaseMember.case_id).where(CaseMember.reviewer_id == reviewer.id,
                                         CaseMember.excluded.is_(False))
    ).scalars().all()
    regranted = missing = 0
    for case_id in case_ids:
        case = session.get(Case, case_id)
        if case is None:
            continue
        changed = False
        for kind in KeyKind:
            if find_reviewer_grant(session, case_id, reviewer.id, kind) is not None:
                continue
            key = open_recovery_grant(session, case_id, recovery_private_key, kind)
            if key is None:
                if kind is KeyKind.CASE:
                    missing += 1
                continue
            grant_to_reviewer(case, reviewer, kind, key)
            changed = True
        if changed:
            regranted += 1
            record_event(session, services.clock, AuditAction.CASE_RECOVERED, Actor.system(),
                         case_id=case_id, detail={"grantee_id": reviewer.id})
    session.flush()
    return RecoveryResult(regranted=regranted, without_recovery_grant=missing)
