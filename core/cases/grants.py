"""Sealing per-case keys for their readers, and opening them again.

A case has three keys per key epoch (core.cases.epochs): the case key (report, messages with
the reporter), the team key (internal notes, team files) and, for confidential reports, the
identity key (epoch 1 only). Old records keep the keys of the epoch they were written in, so a
reader opens every epoch's grant they hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.exclusion_log import logged_exclusions
from core.errors import AccessDenied, DamagedGrant
from core.keyring import Keyring
from core.models import Case, CaseGrant, CaseMember, KeyKind, Recipient, Reviewer
from core.staff.keys import sealing_key
from crypto.errors import CryptoError
from crypto.key_tags import key_tag, tag_matches
from crypto.keys import generate_keypair, open_sealed, seal_to, unwrap, wrap

#: The epoch of a case's first keys (and of every identity key).
FIRST_EPOCH = 1


def current_epoch(case: Case, kind: KeyKind) -> int:
    """The epoch whose key of `kind` new content is written under. Identity keys never
    rotate (the identity is written once), and neither does the case key of a report from
    before key epochs: there is no reporter key pair to seal a new one to (SECURITY.md)."""
    if kind is KeyKind.IDENTITY or (kind is KeyKind.CASE and case.reporter_public_key is None):
        return FIRST_EPOCH
    return case.key_epoch


@dataclass(frozen=True)
class CaseKeys:
    """The keys of one case a reader holds, by (epoch, kind), and the epoch new content of
    each kind is written under."""

    current_epochs: dict[KeyKind, int]
    keys: dict[tuple[int, KeyKind], bytes] = field(repr=False)

    @classmethod
    def of(cls, case: Case, keys: dict[tuple[int, KeyKind], bytes]) -> CaseKeys:
        """The keys held for `case`, with its current epochs."""
        return cls(current_epochs={kind: current_epoch(case, kind) for kind in KeyKind},
                   keys=keys)

    def get(self, kind: KeyKind, epoch: int) -> bytes | None:
        """The key of `kind` in `epoch`, if held."""
        return self.keys.get((epoch, kind))

    def holds(self, kind: KeyKind, epoch: int | None = None) -> bool:
        """Whether the reader holds this key (default: of the current epoch)."""
        return (self.current_epochs[kind] if epoch is None else epoch, kind) in self.keys

    def current(self, kind: KeyKind) -> tuple[int, bytes]:
        """(epoch, key) new content of `kind` is written under; AccessDenied if not held."""
        epoch = self.current_epochs[kind]
        key = self.keys.get((epoch, kind))
        if key is None:
            raise AccessDenied(f"no {kind} key of the current epoch")
        return epoch, key


def grant_to_reviewer(case: Case, reviewer: Reviewer, kind: KeyKind, key: bytes,
                      keyring: Keyring, *, epoch: int | None = None) -> CaseGrant:
    """A grant sealing `key` to the reviewer's public key (needs no private key). Refused
    (core.staff.keys) for an account that may not hold case keys or whose stored public key
    fails its check."""
    grant = CaseGrant(key_kind=kind, recipient=Recipient.REVIEWER, reviewer_id=reviewer.id,
                      epoch=current_epoch(case, kind) if epoch is None else epoch,
                      sealed_key=seal_to(sealing_key(keyring, reviewer), key))
    case.grants.append(grant)
    return grant


def grant_to_recovery(case: Case, recovery_public_key: bytes, kind: KeyKind, key: bytes,
                      *, epoch: int | None = None) -> None:
    """A grant for the organisation recovery key, whose private half is kept offline."""
    case.grants.append(CaseGrant(key_kind=kind, recipient=Recipient.RECOVERY,
                                 epoch=current_epoch(case, kind) if epoch is None else epoch,
                                 sealed_key=seal_to(recovery_public_key, key)))


def reporter_key_owner(case: Case) -> str:
    """What the reporter's public key tag binds it to."""
    return f"case:{case.reference}:reporter"


def grant_to_submitter(case: Case, keyring: Keyring, receipt_key: bytes,
                       case_key: bytes) -> None:
    """The reporter's grants at submission: the first case key (never the team or identity
    key) under the key derived from their receipt code, and a key pair of their own, whose
    private half is under the receipt key too, so that a later epoch's case key can be sealed
    to them while they are away (seal_to_reporter)."""
    case.grants.append(CaseGrant(key_kind=KeyKind.CASE, recipient=Recipient.SUBMITTER,
                                 epoch=FIRST_EPOCH, sealed_key=wrap(receipt_key, case_key)))
    pair = generate_keypair()
    case.reporter_public_key = pair.public_key
    case.reporter_key_tag = key_tag(keyring.account_key, reporter_key_owner(case),
                                    pair.public_key)
    case.reporter_wrapped_private_key = wrap(receipt_key, pair.private_key)


def seal_to_reporter(case: Case, keyring: Keyring, case_key: bytes, epoch: int) -> bool:
    """Seal a later epoch's case key to the reporter; False for a report from before key
    epochs (no reporter key pair) or whose stored reporter key fails its check."""
    public = case.reporter_public_key
    if public is None or not tag_matches(keyring.account_key, reporter_key_owner(case), public,
                                         case.reporter_key_tag):
        return False
    case.grants.append(CaseGrant(key_kind=KeyKind.CASE, recipient=Recipient.SUBMITTER,
                                 epoch=epoch, sealed_key=seal_to(public, case_key)))
    return True


@dataclass(frozen=True)
class SubmitterKeys:
    """What a receipt code opens: the first case key and the reporter's private key (None for
    reports from before key epochs)."""

    first_case_key: bytes = field(repr=False)
    private_key: bytes | None = field(repr=False)


def open_submitter_grant(session: Session, case: Case, receipt_key: bytes) -> SubmitterKeys:
    """Open the reporter's grant with the receipt key; AccessDenied if it does not open."""
    grant = session.execute(
        select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.epoch == FIRST_EPOCH,
                                CaseGrant.recipient == Recipient.SUBMITTER)
    ).scalar_one_or_none()
    if grant is None:
        raise AccessDenied("no submitter grant")
    try:
        first = unwrap(receipt_key, grant.sealed_key)
        private = (unwrap(receipt_key, case.reporter_wrapped_private_key)
                   if case.reporter_wrapped_private_key is not None else None)
    except CryptoError as exc:
        raise AccessDenied("the receipt key does not open this case") from exc
    return SubmitterKeys(first_case_key=first, private_key=private)


def submitter_case_keys(session: Session, case: Case, opened: SubmitterKeys) -> CaseKeys:
    """Every epoch's case key the reporter holds (later epochs with their private key)."""
    keys = {(FIRST_EPOCH, KeyKind.CASE): opened.first_case_key}
    if opened.private_key is not None:
        grants = session.execute(
            select(CaseGrant).where(CaseGrant.case_id == case.id,
                                    CaseGrant.recipient == Recipient.SUBMITTER,
                                    CaseGrant.epoch > FIRST_EPOCH)
        ).scalars()
        for grant in grants:
            try:
                keys[(grant.epoch, KeyKind.CASE)] = open_sealed(opened.private_key,
                                                                grant.sealed_key)
            except CryptoError:
                continue  # a grant that does not open gives nothing (and shows nothing)
    return CaseKeys.of(case, keys)


def is_excluded(session: Session, case_id: int, reviewer_id: int) -> bool:
    """Whether the reviewer has been excluded from the case (conflict of interest): by their
    membership, or by the access log, which a membership row put back from before the
    exclusion does not undo (core.cases.exclusion_log)."""
    member = session.get(CaseMember, (case_id, reviewer_id))
    if member is not None and member.excluded:
        return True
    return reviewer_id in logged_exclusions(session, case_id)


def find_reviewer_grant(
    session: Session, case_id: int, reviewer_id: int, kind: KeyKind, epoch: int | None = None
) -> CaseGrant | None:
    """The reviewer's grant for one key of one case (of `epoch`; default: any epoch, the
    newest first), if any."""
    query = select(CaseGrant).where(
        CaseGrant.case_id == case_id,
        CaseGrant.key_kind == kind,
        CaseGrant.recipient == Recipient.REVIEWER,
        CaseGrant.reviewer_id == reviewer_id,
    )
    if epoch is not None:
        query = query.where(CaseGrant.epoch == epoch)
    return session.execute(query.order_by(CaseGrant.epoch.desc()).limit(1)).scalar_one_or_none()


def reviewer_case_keys(session: Session, case: Case, reviewer_id: int,
                       private_key: bytes) -> CaseKeys:
    """Every key of the case the reviewer holds, in every epoch.

    AccessDenied when they are excluded or hold no case key of the current epoch. The
    cryptography enforces the same: without a grant sealed to their public key there is
    nothing their key could open."""
    if is_excluded(session, case.id, reviewer_id):
        raise AccessDenied("excluded from this case")
    grants = session.execute(
        select(CaseGrant).where(CaseGrant.case_id == case.id,
                                CaseGrant.recipient == Recipient.REVIEWER,
                                CaseGrant.reviewer_id == reviewer_id)
    ).scalars().all()
    keys: dict[tuple[int, KeyKind], bytes] = {}
    for grant in grants:
        try:
            keys[(grant.epoch, grant.key_kind)] = open_sealed(private_key, grant.sealed_key)
        except CryptoError as exc:
            raise DamagedGrant("a grant of this case does not open with this key") from exc
    found = CaseKeys.of(case, keys)
    if not found.holds(KeyKind.CASE):
        raise AccessDenied("no grant for this case")
    return found


def open_reviewer_grant(
    session: Session, case_id: int, reviewer_id: int, private_key: bytes, kind: KeyKind,
    epoch: int | None = None,
) -> bytes:
    """Open one key of the case with the reviewer's private key (of `epoch`; default: the
    newest they hold). AccessDenied when they hold no such grant or are excluded."""
    if is_excluded(session, case_id, reviewer_id):
        raise AccessDenied("excluded from this case")
    grant = find_reviewer_grant(session, case_id, reviewer_id, kind, epoch)
    if grant is None:
        raise AccessDenied("no grant for this case")
    try:
        return open_sealed(private_key, grant.sealed_key)
    except CryptoError as exc:
        raise DamagedGrant("a grant of this case does not open with this key") from exc


def open_recovery_grant(session: Session, case_id: int, recovery_private_key: bytes,
                        kind: KeyKind, epoch: int = FIRST_EPOCH) -> bytes | None:
    """Open a case key with the organisation recovery key, or None if it holds no grant."""
    grant = session.execute(
        select(CaseGrant).where(CaseGrant.case_id == case_id, CaseGrant.key_kind == kind,
                                CaseGrant.epoch == epoch,
                                CaseGrant.recipient == Recipient.RECOVERY)
    ).scalar_one_or_none()
    if grant is None:
        return None
    try:
        return open_sealed(recovery_private_key, grant.sealed_key)
    except CryptoError as exc:
        raise AccessDenied("this is not the recovery key of this instance") from exc
