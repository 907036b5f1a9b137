"""Staff accounts: add, list, deactivate, change or reset a passphrase, reset TOTP."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.errors import Conflict, InvalidInput, NotFound
from core.models import CaseGrant, Recipient, Reviewer, ReviewerSession, Role
from core.services import Services
from core.staff.keys import may_hold_case_keys, require_standing, tag_public_key, tag_standing
from core.staff.passphrases import (
    HashedPassphrase,
    check_passphrase_policy,
    one_time_passphrase,
    prepare_passphrase,
)
from core.staff.shown_names import MAX_DISPLAY_NAME as MAX_DISPLAY_NAME
from core.staff.shown_names import check_shown_name_free as check_shown_name_free
from core.staff.shown_names import clean_display_name as clean_display_name
from crypto.errors import DecryptionError
from crypto.keys import unwrap
from crypto.records import decrypt_record, encrypt_record

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
TOTP_ISSUER = "Candor"


@dataclass(frozen=True)
class NewReviewer:
    """A created account and how to enrol its authenticator app (shown once)."""

    reviewer: Reviewer
    totp_secret: str
    provisioning_uri: str


def _totp_context(reviewer_id: int) -> bytes:
    # Bound to the account: a secret copied onto another account's row does not open.
    return f"reviewer:{reviewer_id}:totp".encode()


def _new_totp(services: Services, reviewer: Reviewer) -> tuple[str, str]:
    """Give the (flushed) account a new TOTP secret; return it and its otpauth URI."""
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=reviewer.username, issuer_name=TOTP_ISSUER)
    reviewer.totp_secret_wrapped = encrypt_record(services.keyring.totp_key,
                                                  secret.encode("ascii"),
                                                  _totp_context(reviewer.id))
    return secret, uri


def totp_secret(services: Services, reviewer: Reviewer) -> str | None:
    """The reviewer's TOTP secret, decrypted with the instance totp key. None when there is
    none, or when the stored one does not open for this account (moved from another row or
    altered): no code can then pass."""
    if reviewer.totp_secret_wrapped is None:
        return None
    try:
        return decrypt_record(services.keyring.totp_key, reviewer.totp_secret_wrapped,
                              _totp_context(reviewer.id)).decode("ascii")
    except DecryptionError:
        return None


def bind_accounts_after_upgrade(session: Session, services: Services, *,
                                standings: bool = False) -> int:
    """After migration 0009 (run by `candor db upgrade`, which holds the instance secrets):
    bind the TOTP secrets stored before it to their account, and tag the public keys of the
    accounts enrolled before it, as they stand at the upgrade (each owner's next login checks
    the key against their private key again). With `standings` (migration 0018 was just
    applied), tag every account's standing as it stands now too: only then, or a database
    writer could clear a tag and wait for the next upgrade to bless what they wrote. Returns
    how many accounts changed."""
    changed = rebind_totp_secrets(session, services)
    for reviewer in session.execute(select(Reviewer).where(
            Reviewer.public_key.is_not(None), Reviewer.public_key_tag.is_(None))).scalars():
        tag_public_key(services.keyring, reviewer)
        changed += 1
    if standings:
        for reviewer in session.execute(select(Reviewer).where(
                Reviewer.standing_tag.is_(None))).scalars():
            tag_standing(services.keyring, reviewer)
            changed += 1
    return changed


def rebind_totp_secrets(session: Session, services: Services) -> int:
    """Upgrade: re-encrypt TOTP secrets stored before migration 0009 (a SecretBox not bound to
    the account) bound to their account. Run by `candor db upgrade`; returns how many."""
    count = 0
    for reviewer in session.execute(select(Reviewer)).scalars():
        if reviewer.totp_secret_wrapped is None or totp_secret(services, reviewer) is not None:
            continue
        try:
            secret = unwrap(services.keyring.totp_key, reviewer.totp_secret_wrapped)
        except DecryptionError:
            continue  # neither form opens: left as is (no code will pass; reset the TOTP)
        reviewer.totp_secret_wrapped = encrypt_record(services.keyring.totp_key, secret,
                                                      _totp_context(reviewer.id))
        count += 1
    return count


def get_reviewer(session: Session, username: str) -> Reviewer:
    """The account with that username, or NotFound."""
    reviewer = session.execute(
        select(Reviewer).where(Reviewer.username == username)
    ).scalar_one_or_none() if USERNAME_PATTERN.fullmatch(username) else None
    if reviewer is None:
        raise NotFound(f"no reviewer named {username!r}")
    return reviewer


def get_reviewer_by_id(session: Session, reviewer_id: int) -> Reviewer:
    """The account with this id, or NotFound."""
    reviewer = session.get(Reviewer, reviewer_id)
    if reviewer is None:
        raise NotFound("no such account")
    return reviewer


def check_new_username(session: Session, username: str) -> str:
    """`username` as it would be stored (trimmed, lower case); InvalidInput when it is not
    a valid username, Conflict when an account has it. Forms call it before hashing the
    new account's passphrase, so that a taken name costs no Argon2id (add_reviewer checks
    again in its transaction)."""
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("Usernames are 2-63 characters: a-z, 0-9, dot, dash, underscore.",
                           field="username")
    if session.execute(select(Reviewer.id).where(Reviewer.username == username)).first():
        raise Conflict(f"a reviewer named {username!r} already exists")
    return username


#: What an email address for notifications must look like (the console's form checks the same).
#: A bare address: no display name, angle brackets, comment or list (outside tester:
#: "<x@example.org>" was stored with its brackets), and nothing an SMTP header would misread.
_ADDRESS_CHAR = r"[^@\s<>()\[\],;:\"\\]"
EMAIL_PATTERN = re.compile(rf"{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+")
#: The longest address SMTP allows (RFC 5321), and the column's size.
MAX_EMAIL = 254


def checked_email(email: str | None) -> str | None:
    """The address with surrounding spaces removed (None for none), or InvalidInput if it is
    not one like name@example.org or longer than MAX_EMAIL characters."""
    email = (email or "").strip()
    if not email:
        return None
    if (len(email) > MAX_EMAIL or not email.isprintable()
            or not EMAIL_PATTERN.fullmatch(email)):
        raise InvalidInput(f"Enter an email address like name@example.org, at most {MAX_EMAIL} "
                           "characters.", field="email")
    return email


def add_reviewer(
    session: Session,
    services: Services,
    *,
    username: str,
    role: Role,
    passphrase: str | HashedPassphrase,
    email: str | None = None,
    display_name: str | None = None,
    approved: bool = True,
    actor: Actor | None = None,
) -> NewReviewer:
    """Create an account with a one-time passphrase and a TOTP secret, and no key pair.

    The passphrase was chosen by, or shown to, an admin: the account's key pair is made only
    when its owner completes enrolment with a passphrase of their own
    (core.staff.passphrase_change), so nothing is ever sealed to a key the admin could open.
    A case-handling account created in the console starts unapproved (core.staff.approvals):
    `approved=False`.

    The console and the command line pass a HashedPassphrase made before the transaction; a
    plain string is hashed here, inside it (scripts and tests).
    """
    username = check_new_username(session, username)
    if isinstance(passphrase, str):
        passphrase = prepare_passphrase(passphrase, services.config.kdf)
    check_passphrase_policy(passphrase.text, username=username)
    display_name = clean_display_name(display_name)
    check_shown_name_free(session, display_name or username)
    reviewer = Reviewer(
        username=username, role=role, active=True, email=checked_email(email),
        display_name=display_name,
        passphrase_hash=passphrase.hashed,
        must_change_passphrase=True, public_key=None, wrapped_private_key=None,
        approved=approved, identity_custodian=False,
        totp_confirmed=False, totp_last_step=None, failed_logins=0,
        created_at=services.clock.now(),
    )
    session.add(reviewer)
    session.flush()
    tag_standing(services.keyring, reviewer)
    secret, uri = _new_totp(services, reviewer)
    record_event(session, services.clock, AuditAction.REVIEWER_ADDED, actor or Actor.system(),
                 detail={"reviewer_id": reviewer.id, "role": str(role),
                         "approved": approved})
    return NewReviewer(reviewer=reviewer, totp_secret=secret, provisioning_uri=uri)


def set_custodian(session: Session, services: Services, reviewer: Reviewer, custodian: bool,
                  actor: Actor | None = None) -> None:
    """Give or take away the identity custodian role; audited. Only enrolled, approved case
    handlers can hold identity keys (core.staff.keys)."""
    require_standing(services.keyring, reviewer)
    if custodian and not may_hold_case_keys(reviewer):
        raise InvalidInput(f"{reviewer.username} cannot hold identity keys: only an approved "
                           "case handler who has completed enrolment can.", field="reviewer")
    if reviewer.identity_custodian == custodian:
        raise Conflict(f"{reviewer.username} is already "
                       f"{'an' if custodian else 'not an'} identity custodian")
    reviewer.identity_custodian = custodian
    tag_standing(services.keyring, reviewer)
    record_event(session, services.clock, AuditAction.REVIEWER_CUSTODIAN_CHANGED,
                 actor or Actor.system(), detail={"reviewer_id": reviewer.id,
                                                  "custodian": custodian})


def list_reviewers(session: Session) -> list[Reviewer]:
    """Every account, active first, then by name."""
    return list(session.execute(
        select(Reviewer).order_by(Reviewer.active.desc(), Reviewer.username)
    ).scalars())


def end_sessions(session: Session, reviewer_id: int) -> int:
    """Delete the reviewer's server-side sessions, which ends them at once."""
    # The account's row lock first, as a login, a re-authentication and a passphrase change
    # take it: one of them in progress finishes before this (its new session is then ended
    # too) or starts after it, instead of writing to a session deleted under it.
    session.execute(select(Reviewer.id).where(Reviewer.id == reviewer_id)
                    .with_for_update(key_share=True))
    result = session.execute(
        delete(ReviewerSession).where(ReviewerSession.reviewer_id == reviewer_id))
    return int(getattr(result, "rowcount", 0) or 0)


class LastAdminError(Conflict):
    """Deactivating this account would leave no active, approved administrator."""


def deactivate_reviewer(session: Session, services: Services, username: str,
                        actor: Actor | None = None) -> Reviewer:
    """Deactivate an account and end its sessions. Its grants stay (history) but cannot be
    used: the console refuses inactive accounts."""
    reviewer = get_reviewer(session, username)
    if not reviewer.active:
        raise Conflict(f"{username!r} is already deactivated")
    if reviewer.role is Role.ADMIN and not session.execute(select(Reviewer.id).where(
            Reviewer.role == Role.ADMIN, Reviewer.active.is_(True),
            Reviewer.approved.is_(True), Reviewer.id != reviewer.id)).first():
        # Nobody could then run the console's administration, nor approve anything.
        raise LastAdminError("the last active administrator cannot be deactivated: add "
                             "another first")
    reviewer.active = False
    reviewer.deactivated_at = services.clock.now()
    tag_standing(services.keyring, reviewer)
    end_sessions(session, reviewer.id)
    record_event(session, services.clock, AuditAction.REVIEWER_DEACTIVATED,
                 actor or Actor.system(), detail={"reviewer_id": reviewer.id})
    return reviewer


def reset_passphrase(session: Session, services: Services, username: str,
                     actor: Actor | None = None,
                     temporary: HashedPassphrase | None = None) -> str:
    """An admin's reset for a forgotten passphrase. Returns the one-time passphrase:
    `temporary`, made before the transaction (one_time_passphrase), or one made here.

    The old private key cannot be recovered without the old passphrase, and no new one is made
    under a passphrase the admin saw: the account loses its key pair and its grants (nothing
    could open them any more) until its owner completes enrolment again with a passphrase of
    their own; then its cases are re-granted by a teammate or with the recovery key
    (`candor recover`).
    """
    if temporary is None:
        temporary = one_time_passphrase(services.config.kdf)
    # Reloaded and locked: the session may hold the row as it was before an earlier commit,
    # and an attribute set to the value it holds there would not be written.
    reviewer = get_reviewer(session, username)
    session.refresh(reviewer, with_for_update={"key_share": True})
    require_standing(services.keyring, reviewer)
    reviewer.public_key = None
    reviewer.public_key_tag = None
    reviewer.wrapped_private_key = None
    reviewer.passphrase_hash = temporary.hashed
    tag_standing(services.keyring, reviewer)
    reviewer.must_change_passphrase = True
    reviewer.failed_logins = 0
    reviewer.locked_until = None
    session.execute(delete(CaseGrant).where(CaseGrant.recipient == Recipient.REVIEWER,
                                            CaseGrant.reviewer_id == reviewer.id))
    end_sessions(session, reviewer.id)
    record_event(session, services.clock, AuditAction.REVIEWER_PASSPHRASE_RESET,
                 actor or Actor.system(), detail={"reviewer_id": reviewer.id})
    return temporary.text


def reset_totp(session: Session, services: Services, username: str,
               actor: Actor | None = None) -> NewReviewer:
    """Give the account a new TOTP secret (lost phone); its sessions end."""
    reviewer = get_reviewer(session, username)
    require_standing(services.keyring, reviewer)
    secret, uri = _new_totp(services, reviewer)
    reviewer.totp_confirmed = False
    reviewer.totp_last_step = None
    tag_standing(services.keyring, reviewer)
    end_sessions(session, reviewer.id)
    record_event(session, services.clock, AuditAction.REVIEWER_TOTP_RESET,
                 actor or Actor.system(), detail={"reviewer_id": reviewer.id})
    return NewReviewer(reviewer=reviewer, totp_secret=secret, provisioning_uri=uri)
