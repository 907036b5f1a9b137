"""A reviewer's own passphrase change, which at enrolment also makes the account's key pair.

The console runs it in three steps, so that no transaction is open while its Argon2ids run
(up to four: verify, unwrap, wrap, hash; like core.staff.login):

1. `admit_change` (a short transaction): the new passphrase's policy, the per-account
   throttle, and a snapshot of the account (`ChangeBasis`) that the work is checked against.
2. `prepare_change` (no database, in a kdf slot): verify the current passphrase, re-wrap the
   private key under the new one (or make the key pair at enrolment), hash the new one.
3. `finish_change` (a second transaction): the account and the session are reloaded under a
   row lock. If the passphrase, the keys, the TOTP enrolment or the session changed in
   between (an admin's reset, another change), nothing is stored: CHANGED_MEANWHILE, audited
   as a failed attempt like a wrong current passphrase.

`change_own_passphrase` and `change_passphrase` run the steps in one transaction, for scripts
and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.errors import Conflict, InvalidInput
from core.models import Reviewer, ReviewerSession
from core.services import Services
from core.session_tokens import SessionToken
from core.staff.authentication import (
    ACCOUNT_LIMIT,
    ACCOUNT_WINDOW,
    LoadedSession,
    account_bucket,
    create_session,
    login_failed,
)
from core.staff.keys import require_standing, tag_public_key, tag_standing
from core.staff.passphrases import check_passphrase_policy, hash_passphrase, verify_passphrase
from crypto.errors import DecryptionError
from crypto.kdf import KdfProfile
from crypto.keys import generate_keypair
from crypto.reviewer_keys import rewrap_private_key, wrap_private_key


class PassphraseChange(StrEnum):
    """Outcome of a reviewer changing their own passphrase."""

    CHANGED = "changed"
    WRONG_CURRENT = "wrong-current"
    THROTTLED = "throttled"
    #: The account or the session changed while the passphrase was being checked.
    CHANGED_MEANWHILE = "changed-meanwhile"


@dataclass(frozen=True)
class PassphraseChangeResult:
    """The outcome, and the new session when the change completed enrolment (the old one
    held no key: the caller replaces the cookie)."""

    outcome: PassphraseChange
    token: SessionToken | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ChangeBasis:
    """The account as step 1 read it: what the current passphrase is checked against, and
    what must still be there when the change is stored. `retry_after`: throttled, stop."""

    reviewer_id: int
    passphrase_hash: str = field(repr=False)
    wrapped_private_key: bytes | None = field(repr=False)
    retry_after: int | None = None

    @property
    def enrols(self) -> bool:
        """An account without keys (new or reset) makes its key pair with this change."""
        return self.wrapped_private_key is None


@dataclass(frozen=True)
class PreparedChange:
    """Step 2's work: `ok` False when the current passphrase is wrong. At enrolment the new
    public key and the private key made (which the new session holds) are set too."""

    ok: bool
    new_hash: str = field(default="", repr=False)
    new_wrapping: bytes = field(default=b"", repr=False)
    new_public_key: bytes | None = None
    made_private_key: bytes | None = field(default=None, repr=False)


def basis_of(reviewer: Reviewer, retry_after: int | None = None) -> ChangeBasis:
    """A snapshot of the account for `prepare_change` and the check in `finish_change`."""
    return ChangeBasis(reviewer.id, reviewer.passphrase_hash, reviewer.wrapped_private_key,
                       retry_after)


def check_new_passphrase(reviewer: Reviewer, current: str, new: str) -> None:
    """InvalidInput when the new passphrase fails the policy or equals the current one;
    Conflict when the account must confirm its authenticator app first."""
    if new == current:
        raise InvalidInput("Choose a passphrase different from the current one.",
                           field="passphrase")
    check_passphrase_policy(new, username=reviewer.username)
    if reviewer.wrapped_private_key is None and not reviewer.totp_confirmed:
        raise Conflict("confirm the authenticator app before choosing a passphrase")


def prepare_change(profile: KdfProfile, basis: ChangeBasis, current: str,
                   new: str) -> PreparedChange:
    """Step 2: the Argon2id work, touching no database. The console runs it in a kdf slot
    (`services.kdf_slots.run`)."""
    if not verify_passphrase(basis.passphrase_hash, current, profile):
        return PreparedChange(ok=False)
    if basis.wrapped_private_key is None:
        pair = generate_keypair()
        return PreparedChange(ok=True, new_hash=hash_passphrase(new, profile),
                              new_wrapping=wrap_private_key(pair.private_key, new, profile),
                              new_public_key=pair.public_key,
                              made_private_key=pair.private_key)
    try:
        wrapping = rewrap_private_key(basis.wrapped_private_key, current, new, profile)
    except DecryptionError:
        return PreparedChange(ok=False)
    return PreparedChange(ok=True, new_hash=hash_passphrase(new, profile),
                          new_wrapping=wrapping)


def apply_change(session: Session, services: Services, reviewer: Reviewer,
                 prepared: PreparedChange) -> None:
    """Store a prepared change on the (reloaded) account, with its audit events."""
    require_standing(services.keyring, reviewer)
    if prepared.new_public_key is not None:
        reviewer.public_key = prepared.new_public_key
        reviewer.wrapped_private_key = prepared.new_wrapping
        tag_public_key(services.keyring, reviewer)
        record_event(session, services.clock, AuditAction.REVIEWER_KEYS_CREATED,
                     Actor.reviewer(reviewer.id), detail={"reviewer_id": reviewer.id})
    else:
        reviewer.wrapped_private_key = prepared.new_wrapping
    reviewer.passphrase_hash = prepared.new_hash
    tag_standing(services.keyring, reviewer)
    reviewer.must_change_passphrase = False
    record_event(session, services.clock, AuditAction.REVIEWER_PASSPHRASE_CHANGED,
                 Actor.reviewer(reviewer.id), detail={"reviewer_id": reviewer.id})


def admit_change(session: Session, services: Services, loaded: LoadedSession, current: str,
                 new: str) -> ChangeBasis:
    """Step 1: the policy (InvalidInput, Conflict) and the per-account throttle, charged
    before any Argon2id; a throttled attempt is audited and comes back with `retry_after`."""
    reviewer = loaded.reviewer
    check_new_passphrase(reviewer, current, new)
    wait = services.throttle.take(session, account_bucket(reviewer.id), limit=ACCOUNT_LIMIT,
                                  window=ACCOUNT_WINDOW, now=services.clock.now())
    if wait is not None:
        login_failed(session, services, reviewer, "passphrase-change-throttled")
    return basis_of(reviewer, wait)


def finish_change(session: Session, services: Services, loaded: LoadedSession,
                  basis: ChangeBasis, prepared: PreparedChange) -> PassphraseChangeResult:
    """Step 3: store the change if the account and the session are still as step 1 read
    them, end every other session of the account (whoever held one may have known the old
    passphrase) and, at enrolment, replace this session with one holding the new key."""
    # Reloaded, locked: the request's objects keep what it read before its commit, and an
    # attribute set to the value it already holds there would not be written at all.
    # FOR NO KEY UPDATE, as in core.staff.login: inserts that reference the account go on.
    reviewer = session.get(Reviewer, basis.reviewer_id, with_for_update={"key_share": True},
                           populate_existing=True)
    if reviewer is None:
        return PassphraseChangeResult(PassphraseChange.CHANGED_MEANWHILE)
    # Whether anything moved is answered before whether the passphrase was right: otherwise a
    # stolen cookie, ended on purpose meanwhile, would learn a guess was right without the
    # change (and its other consequences) taking place. Both are audited as failures.
    row = session.get(ReviewerSession, loaded.row.id_hash, populate_existing=True)
    if (row is None or not reviewer.active
            or reviewer.passphrase_hash != basis.passphrase_hash
            or reviewer.wrapped_private_key != basis.wrapped_private_key
            or (basis.enrols and not reviewer.totp_confirmed)):
        login_failed(session, services, reviewer, "passphrase-change-stale")
        return PassphraseChangeResult(PassphraseChange.CHANGED_MEANWHILE)
    if not prepared.ok:
        login_failed(session, services, reviewer, "passphrase-change")
        return PassphraseChangeResult(PassphraseChange.WRONG_CURRENT)
    apply_change(session, services, reviewer, prepared)
    session.execute(delete(ReviewerSession).where(
        ReviewerSession.reviewer_id == reviewer.id,
        ReviewerSession.id_hash != row.id_hash))
    if prepared.made_private_key is None:
        return PassphraseChangeResult(PassphraseChange.CHANGED)
    session.delete(row)
    session.flush()
    return PassphraseChangeResult(
        PassphraseChange.CHANGED,
        create_session(session, services, reviewer, prepared.made_private_key))


def change_own_passphrase(session: Session, services: Services, loaded: LoadedSession,
                          current: str, new: str) -> PassphraseChangeResult:
    """The three steps in one session (its transaction stays open across the Argon2ids: the
    console's view commits between them). Raises InvalidInput when the new passphrase fails
    the policy."""
    basis = admit_change(session, services, loaded, current, new)
    if basis.retry_after is not None:
        return PassphraseChangeResult(PassphraseChange.THROTTLED)
    prepared = services.kdf_slots.run(
        lambda: prepare_change(services.config.kdf, basis, current, new))
    return finish_change(session, services, loaded, basis, prepared)


def change_passphrase(session: Session, services: Services, reviewer: Reviewer,
                      old_passphrase: str, new_passphrase: str) -> bytes | None:
    """Change an account's passphrase inside the caller's transaction (scripts and tests;
    not throttled). With a key pair the same private key is re-wrapped, so every grant still
    opens; without one, enrolment completes by making it. Returns the private key when one
    was made. InvalidInput when the old passphrase is wrong or the new one is refused."""
    check_new_passphrase(reviewer, old_passphrase, new_passphrase)
    prepared = prepare_change(services.config.kdf, basis_of(reviewer), old_passphrase,
                              new_passphrase)
    if not prepared.ok:
        raise InvalidInput("The current passphrase is not correct.", field="old_passphrase")
    apply_change(session, services, reviewer, prepared)
    return prepared.made_private_key
