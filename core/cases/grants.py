"""Sealing per-case keys for their readers, and opening them again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import AccessDenied
from core.models import Case, CaseGrant, CaseMember, KeyKind, Recipient, Reviewer
from crypto.errors import CryptoError
from crypto.keys import open_sealed, seal_to, unwrap, wrap


def grant_to_reviewer(case: Case, reviewer: Reviewer, kind: KeyKind, key: bytes) -> CaseGrant:
    """A grant sealing `key` to the reviewer's public key (needs no private key)."""
    grant = CaseGrant(key_kind=kind, recipient=Recipient.REVIEWER, reviewer_id=reviewer.id,
                      sealed_key=seal_to(reviewer.public_key, key))
    case.grants.append(grant)
    return grant


def grant_to_recovery(case: Case, recovery_public_key: bytes, kind: KeyKind, key: bytes) -> None:
    """A grant for the organisation recovery key, whose private half is kept offline."""
    case.grants.append(CaseGrant(key_kind=kind, recipient=Recipient.RECOVERY,
                                 sealed_key=seal_to(recovery_public_key, key)))


def grant_to_submitter(case: Case, receipt_key: bytes, case_key: bytes) -> None:
    """The reporter's grant: the case key (never the team or identity key) under the key
    derived from their receipt code."""
    case.grants.append(CaseGrant(key_kind=KeyKind.CASE, recipient=Recipient.SUBMITTER,
                                 sealed_key=wrap(receipt_key, case_key)))


def open_submitter_grant(session: Session, case_id: int, receipt_key: bytes) -> bytes:
    """The case key from the reporter's grant; AccessDenied if it does not open."""
    grant = session.execute(
        select(CaseGrant).where(CaseGrant.case_id == case_id,
                                CaseGrant.recipient == Recipient.SUBMITTER)
    ).scalar_one_or_none()
    if grant is None:
        raise AccessDenied("no submitter grant")
    try:
        return unwrap(receipt_key, grant.sealed_key)
    except CryptoError as exc:
        raise AccessDenied("the receipt key does not open this case") from exc


def is_excluded(session: Session, case_id: int, reviewer_id: int) -> bool:
    """Whether the reviewer has been excluded from the case (conflict of interest)."""
    member = session.get(CaseMember, (case_id, reviewer_id))
    return member is not None and member.excluded


def find_reviewer_grant(
    session: Session, case_id: int, reviewer_id: int, kind: KeyKind
) -> CaseGrant | None:
    """The reviewer's grant for one key of one case, if any."""
    return session.execute(
        select(CaseGrant).where(
            CaseGrant.case_id == case_id,
            CaseGrant.key_kind == kind,
            CaseGrant.recipient == Recipient.REVIEWER,
            CaseGrant.reviewer_id == reviewer_id,
        )
    ).scalar_one_or_none()


def open_reviewer_grant(
    session: Session, case_id: int, reviewer_id: int, private_key: bytes, kind: KeyKind
) -> bytes:
    """Open one of the case's keys with the reviewer's private key.

    AccessDenied when the reviewer holds no grant or is excluded. The cryptography enforces the
    same: without a grant sealed to their public key there is nothing their key could open.
    """
    if is_excluded(session, case_id, reviewer_id):
        raise AccessDenied("excluded from this case")
    grant = find_reviewer_grant(session, case_id, reviewer_id, kind)
    if grant is None:
        raise AccessDenied("no grant for this case")
    try:
        return open_sealed(private_key, grant.sealed_key)
    except CryptoError as exc:
        raise AccessDenied("the grant does not open with this key") from exc


def open_recovery_grant(session: Session, case_id: int, recovery_private_key: bytes,
                        kind: KeyKind) -> bytes | None:
    """Open a case key with the organisation recovery key, or None if it holds no grant."""
    grant = session.execute(
        select(CaseGrant).where(CaseGrant.case_id == case_id, CaseGrant.key_kind == kind,
                                CaseGrant.recipient == Recipient.RECOVERY)
    ).scalar_one_or_none()
    if grant is None:
        return None
    try:
        return open_sealed(recovery_private_key, grant.sealed_key)
    except CryptoError as exc:
        raise AccessDenied("this is not the recovery key of this instance") from exc
