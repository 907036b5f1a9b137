"""Re-granting cases with the organisation recovery key (offline, by an operator)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.grants import (
    FIRST_EPOCH,
    find_reviewer_grant,
    grant_to_reviewer,
    open_recovery_grant,
)
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
    """Seal again, to the reviewer's current public key, every key of every epoch of every case
    they are a (non-excluded) team member of. Used after a passphrase reset and re-enrolment
    gave them a new key pair. The account must be able to hold case keys (enrolled, approved,
    with a public key that passes its check: core.staff.keys)."""
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
        kinds = [KeyKind.CASE, KeyKind.TEAM] + ([KeyKind.IDENTITY]
                                                if reviewer.identity_custodian else [])
        for epoch in range(FIRST_EPOCH, case.key_epoch + 1):
            for kind in kinds:
                if find_reviewer_grant(session, case_id, reviewer.id, kind, epoch) is not None:
                    continue
                key = open_recovery_grant(session, case_id, recovery_private_key, kind, epoch)
                if key is None:
                    if kind is KeyKind.CASE and epoch == FIRST_EPOCH:
                        missing += 1
                    continue
                grant_to_reviewer(case, reviewer, kind, key, services.keyring, epoch=epoch)
                changed = True
        if changed:
            regranted += 1
            record_event(session, services.clock, AuditAction.CASE_RECOVERED, Actor.system(),
                         case_id=case_id, detail={"grantee_id": reviewer.id})
    session.flush()
    return RecoveryResult(regranted=regranted, without_recovery_grant=missing)
