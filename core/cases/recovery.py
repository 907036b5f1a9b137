"""Re-granting cases with the organisation recovery key (offline, by an operator)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.exclusions import excluded_by_reporter
from core.cases.grants import (
    FIRST_EPOCH,
    find_reviewer_grant,
    grant_to_reviewer,
    is_excluded,
    open_recovery_grant,
)
from core.cases.membership import active_membership
from core.errors import InvalidInput
from core.models import (
    Case,
    CaseGrant,
    CaseMember,
    IdentityRequest,
    KeyKind,
    Recipient,
    RequestStatus,
    Reviewer,
)
from core.services import Services
from core.staff.keys import may_hold_case_keys


@dataclass(frozen=True)
class RecoveryResult:
    """How many cases got new grants, and how many the recovery key could not open."""

    regranted: int
    without_recovery_grant: int


def regrant_member_cases(session: Session, services: Services, recovery_private_key: bytes,
                         reviewer: Reviewer) -> RecoveryResult:
    """Seal again, to the reviewer's current public key, every key of every epoch of every case
    they are a (non-excluded) team member of (by a membership Candor wrote:
    core.cases.membership_tags), and, for an identity custodian, the identity key
    of every confidential report. Used after a passphrase reset and re-enrolment gave them a
    new key pair, and when a custodian is named after reports came in. The account must be
    able to hold case keys (enrolled, approved, with a public key that passes its check:
    core.staff.keys)."""
    if not reviewer.active:
        raise InvalidInput("This account is deactivated.", field="reviewer")
    if not may_hold_case_keys(reviewer):
        raise InvalidInput(f"{reviewer.username} has no key pair yet: they log in with the "
                           "one-time passphrase and choose their own first.", field="reviewer")
    memberships = session.execute(
        select(CaseMember).where(CaseMember.reviewer_id == reviewer.id,
                                 CaseMember.excluded.is_(False))
    ).scalars().all()
    regranted = missing = 0
    for member in memberships:
        case_id = member.case_id
        if active_membership(session, services.keyring, case_id, reviewer.id) is None:
            # A membership Candor did not write (outside tester: a planted row got every
            # key of the case from the recovery key): nothing, and an alarm for auditors.
            record_event(session, services.clock, AuditAction.RECORD_TAMPERED, Actor.system(),
                         case_id=case_id, detail={"record": "member",
                                                  "reviewer_id": reviewer.id})
            continue
        case = session.get(Case, case_id)
        if case is None or case.content_destroyed_on is not None:
            continue  # retention destroyed every key of it: nothing to give back
        changed = False
        for epoch in range(FIRST_EPOCH, case.key_epoch + 1):
            for kind in (KeyKind.CASE, KeyKind.TEAM):
                found = _regrant(session, services, recovery_private_key, reviewer, case, kind,
                                 epoch)
                if found is None and kind is KeyKind.CASE and epoch == FIRST_EPOCH:
                    missing += 1
                changed = changed or bool(found)
        if changed:
            regranted += 1
            record_event(session, services.clock, AuditAction.CASE_RECOVERED, Actor.system(),
                         case_id=case_id, detail={"grantee_id": reviewer.id})
    if reviewer.identity_custodian:
        regranted += _regrant_identities(session, services, recovery_private_key, reviewer)
    session.flush()
    return RecoveryResult(regranted=regranted, without_recovery_grant=missing)


def _regrant(session: Session, services: Services, recovery_private_key: bytes,
             reviewer: Reviewer, case: Case, kind: KeyKind, epoch: int) -> bool | None:
    """Seal one key of `case` to the reviewer from the recovery grant: True if sealed, False
    if they hold it already, None if the recovery key holds no grant for it."""
    if find_reviewer_grant(session, case.id, reviewer.id, kind, epoch) is not None:
        return False
    key = open_recovery_grant(session, case.id, recovery_private_key, kind, epoch)
    if key is None:
        return None
    grant_to_reviewer(case, reviewer, kind, key, services.keyring, epoch=epoch)
    return True


def _regrant_identities(session: Session, services: Services, recovery_private_key: bytes,
                        reviewer: Reviewer) -> int:
    """An identity custodian holds the identity key of every confidential report (but those
    whose reporter left them out): after a reset, or when named custodian after reports came
    in. Returns how many cases got one."""
    confidential = session.execute(
        select(Case).where(Case.identity_ciphertext.is_not(None))).scalars()
    count = 0
    for case in confidential:
        if excluded_by_reporter(case, services.keyring, reviewer.id) or is_excluded(
                session, case.id, reviewer.id):  # excluded by the team: their grants went
            continue
        if _regrant(session, services, recovery_private_key, reviewer, case,
                    KeyKind.IDENTITY, FIRST_EPOCH):
            count += 1
            record_event(session, services.clock, AuditAction.CASE_RECOVERED, Actor.system(),
                         case_id=case.id, detail={"grantee_id": reviewer.id,
                                                  "kinds": "identity"})
    return count


@dataclass(frozen=True)
class LegacyIdentityGrants:
    """What `withdraw_legacy_identity_grants` did."""

    withdrawn: int
    #: Grants left because the recovery key holds no identity grant for their case: deleting
    #: them would leave that identity readable by nobody.
    kept: int


def withdraw_legacy_identity_grants(session: Session, services: Services) -> LegacyIdentityGrants:
    """Upgrade past migration 0009: before it, a confidential report's identity key was sealed
    to its intake handlers. Delete those grants (not the identity custodians', nor those given
    by an approved request) wherever the recovery key can give the identity key back to the
    custodians (`candor recover`); keep the others and count them. Audited per case."""
    custodians = set(session.execute(
        select(Reviewer.id).where(Reviewer.identity_custodian.is_(True))).scalars())
    approved = {(case_id, requester_id) for case_id, requester_id in session.execute(
        select(IdentityRequest.case_id, IdentityRequest.requester_id).where(
            IdentityRequest.status == RequestStatus.APPROVED))}
    recoverable = set(session.execute(
        select(CaseGrant.case_id).where(CaseGrant.key_kind == KeyKind.IDENTITY,
                                        CaseGrant.recipient == Recipient.RECOVERY)).scalars())
    grants = session.execute(
        select(CaseGrant).where(CaseGrant.key_kind == KeyKind.IDENTITY,
                                CaseGrant.recipient == Recipient.REVIEWER)).scalars().all()
    withdrawn = kept = 0
    for grant in grants:
        if grant.reviewer_id in custodians or (grant.case_id, grant.reviewer_id) in approved:
            continue
        if grant.case_id not in recoverable:
            kept += 1
            continue
        session.delete(grant)
        withdrawn += 1
        record_event(session, services.clock, AuditAction.IDENTITY_GRANT_WITHDRAWN,
                     Actor.system(), case_id=grant.case_id,
                     detail={"reviewer_id": grant.reviewer_id})
    session.flush()
    return LegacyIdentityGrants(withdrawn=withdrawn, kept=kept)
