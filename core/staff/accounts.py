"""Staff accounts: add, list, deactivate, change or reset a passphrase, reset TOTP."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.errors import Conflict, InvalidInput, NotFound
from core.models import CaseGrant, Recipient, Reviewer, ReviewerSession, Role
from core.services import Services
from core.staff.passphrases import check_passphrase_policy, hash_passphrase
from crypto.errors import DecryptionError
from crypto.keys import unwrap, wrap
from crypto.reviewer_keys import create_reviewer_keys, rewrap_private_key

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
TOTP_ISSUER = "Candor"


@dataclass(frozen=True)
class NewReviewer:
    """A created account and how to enrol its authenticator app (shown once)."""

    reviewer: Reviewer
    totp_secret: str
    provisioning_uri: str


def _new_totp(services: Services, username: str) -> tuple[str, bytes, str]:
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)
    return secret, wrap(services.keyring.totp_key, secret.encode("ascii")), uri


def totp_secret(services: Services, reviewer: Reviewer) -> str | None:
    """The reviewer's TOTP secret, unwrapped with the instance totp key."""
    if reviewer.totp_secret_wrapped is None:
        return None
    return unwrap(services.keyring.totp_key, reviewer.totp_secret_wrapped).decode("ascii")


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


def add_reviewer(
    session: Session,
    services: Services,
    *,
    username: str,
    role: Role,
    passphrase: str,
    email: str | None = None,
    actor: Actor | None = None,
) -> NewReviewer:
    """Create an account with a key pair wrapped under the passphrase and a TOTP secret.

    The passphrase must be changed at first login (it was chosen by, or known to, an admin).
    """
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("Usernames are 2-63 characters: a-z, 0-9, dot, dash, underscore.",
                           field="username")
    if session.execute(select(Reviewer.id).where(Reviewer.username == username)).first():
        raise Conflict(f"a reviewer named {username!r} already exists")
    check_passphrase_policy(passphrase, username=username)
    public_key, wrapped = create_reviewer_keys(passphrase, services.config.kdf)
    secret, secret_wrapped, uri = _new_totp(services, username)
    reviewer = Reviewer(
        username=username, role=role, active=True, email=email or None,
        passphrase_hash=hash_passphrase(passphrase, services.config.kdf),
        must_change_passphrase=True, public_key=public_key, wrapped_private_key=wrapped,
        totp_secret_wrapped=secret_wrapped, totp_confirmed=False, totp_last_step=None,
        failed_logins=0,
        created_at=services.clock.now(),
    )
    session.add(reviewer)
    session.flush()
    record_event(session, services.clock, AuditAction.REVIEWER_ADDED, actor or Actor.system(),
                 detail={"reviewer_id": reviewer.id, "role": str(role)})
    return NewReviewer(reviewer=reviewer, totp_secret=secret, provisioning_uri=uri)


def list_reviewers(session: Session) -> list[Reviewer]:
    """Every account, active first, then by name."""
    return list(session.execute(
        select(Reviewer).order_by(Reviewer.active.desc(), Reviewer.username)
    ).scalars())


def end_sessions(session: Session, reviewer_id: int) -> int:
    """Delete the reviewer's server-side sessions, which ends them at once."""
    result = session.execute(
        delete(ReviewerSession).where(ReviewerSession.reviewer_id == reviewer_id))
    return int(getattr(result, "rowcount", 0) or 0)


def deactivate_reviewer(session: Session, services: Services, username: str,
                        actor: Actor | None = None) -> Reviewer:
    """Deactivate an account and end its sessions. Its grants stay (history) but cannot be
    used: the console refuses inactive accounts."""
    reviewer = get_reviewer(session, username)
    if not reviewer.active:
        raise Conflict(f"{username!r} is already deactivated")
    reviewer.active = False
    reviewer.deactivated_at = services.clock.now()
    end_sessions(session, reviewer.id)
    record_event(session, services.clock, AuditAction.REVIEWER_DEACTIVATED,
                 actor or Actor.system(), detail={"reviewer_id": reviewer.id})
    return reviewer


def change_passphrase(session: Session, services: Services, reviewer: Reviewer,
                      old_passphrase: str, new_passphrase: str) -> None:
    """The reviewer's own change: re-wrap the same private key, so every grant still opens."""
    if new_passphrase == old_passphrase:
        raise InvalidInput("Choose a passphrase different from the current one.",
                           field="passphrase")
    check_passphrase_policy(new_passphrase, username=reviewer.username)
    try:
        reviewer.wrapped_private_key = rewrap_private_key(
            reviewer.wrapped_private_key, old_passphrase, new_passphrase, services.config.kdf)
    except DecryptionError as exc:
        raise InvalidInput("The current passphrase is not correct.",
                           field="old_passphrase") from exc
    reviewer.passphrase_hash = hash_passphrase(new_passphrase, services.config.kdf)
    reviewer.must_change_passphrase = False
    record_event(session, services.clock, AuditAction.REVIEWER_PASSPHRASE_CHANGED,
                 Actor.reviewer(reviewer.id), detail={"reviewer_id": reviewer.id})


def reset_passphrase(session: Session, services: Services, username: str,
                     actor: Actor | None = None) -> str:
    """An admin's reset for a forgotten passphrase. Returns a one-time passphrase.

    The old private key cannot be recovered without the old passphrase, so the account gets a
    new key pair; its old grants are deleted (nothing can open them any more) and its cases must
    be re-granted by a teammate or with the recovery key (`candor recover`).
    """
    reviewer = get_reviewer(session, username)
    temporary = "-".join(secrets.token_hex(3) for _ in range(5))
    public_key, wrapped = create_reviewer_keys(temporary, services.config.kdf)
    reviewer.public_key = public_key
    reviewer.wrapped_private_key = wrapped
    reviewer.passphrase_hash = hash_passphrase(temporary, services.config.kdf)
    reviewer.must_change_passphrase = True
    reviewer.failed_logins = 0
    reviewer.locked_until = None
    session.execute(delete(CaseGrant).where(CaseGrant.recipient == Recipient.REVIEWER,
                                            CaseGrant.reviewer_id == reviewer.id))
    end_sessions(session, reviewer.id)
    record_event(session, services.clock, AuditAction.REVIEWER_PASSPHRASE_RESET,
                 actor or Actor.system(), detail={"reviewer_id": reviewer.id})
    return temporary


def reset_totp(session: Session, services: Services, username: str,
               actor: Actor | None = None) -> NewReviewer:
    """Give the account a new TOTP secret (lost phone); its sessions end."""
    reviewer = get_reviewer(session, username)
    secret, secret_wrapped, uri = _new_totp(services, reviewer.username)
    reviewer.totp_secret_wrapped = secret_wrapped
    reviewer.totp_confirmed = False
    reviewer.totp_last_step = None
    end_sessions(session, reviewer.id)
    record_event(session, services.clock, AuditAction.REVIEWER_TOTP_RESET,
                 actor or Actor.system(), detail={"reviewer_id": reviewer.id})
    return NewReviewer(reviewer=reviewer, totp_secret=secret, provisioning_uri=uri)
