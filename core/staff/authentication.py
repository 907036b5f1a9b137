"""Staff sessions: throttles, TOTP, server-side sessions and re-authentication (the login
itself, in steps that keep Argon2id out of transactions, is core.staff.login).

A reviewer session row holds the reviewer's private key sealed under a secret that only the
cookie carries (core.session_tokens; docs/CRYPTO.md, "Reviewer sessions"). Every success and failure
is audited. Failures are reported to the caller as one generic outcome, whatever the cause.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.casework import UnlockedReviewer
from core.errors import AccessDenied
from core.models import Reviewer, ReviewerSession
from core.services import Services
from core.session_tokens import SessionToken, new_session_token
from core.staff.accounts import end_sessions, totp_secret
from core.staff.keys import key_alarm, require_standing, standing_trusted, tag_standing
from core.staff.passphrases import verify_passphrase
from crypto.errors import CryptoError
from crypto.key_tags import key_tag, tag_matches
from crypto.keys import unwrap, wrap

GLOBAL_BUCKET = "console:login:global"
GLOBAL_LIMIT = 60
GLOBAL_WINDOW = timedelta(minutes=1)
ACCOUNT_LIMIT = 10
ACCOUNT_WINDOW = timedelta(minutes=15)
#: Consecutive failures that lock an account, and for how long.
LOCK_AFTER = 10
LOCK_FOR = timedelta(minutes=15)
#: How long a passphrase re-entry authorises sensitive actions.
REAUTH_WINDOW = timedelta(minutes=5)
TOTP_INTERVAL = 30
#: One step of clock drift either way.
TOTP_DRIFT = 1

def account_bucket(reviewer_id: int) -> str:
    """Throttle bucket name of one account (re-authentication, passphrase change)."""
    return f"console:login:{reviewer_id}"


def username_bucket(services: Services, username: str) -> str:
    """Login throttle bucket of a typed username, existing or not, so that a hammered unknown
    name answers exactly like a hammered real one. Keyed hash: what people typed (sometimes a
    passphrase in the wrong field) never reaches the database."""
    digest = hashlib.blake2b(username.encode("utf-8"), key=services.keyring.cookie_key,
                             person=b"candor-login", digest_size=12).hexdigest()
    return f"console:login:u:{digest}"


class NextStep(StrEnum):
    """Where a freshly logged-in reviewer must go first."""

    ENROL_TOTP = "enrol"
    CHANGE_PASSPHRASE = "change"  # noqa: S105 - a step name
    READY = "ready"


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt. `token` is set on success only; `retry_after` when
    throttled. Callers commit the transaction in every case (failures are audited)."""

    token: SessionToken | None = field(default=None, repr=False)
    reviewer_id: int | None = None
    next_step: NextStep = NextStep.READY
    retry_after: int | None = None
    #: The stored public key was not this account's (someone wrote to the database): it was
    #: restored at this login and the admins alerted. The owner should be told too.
    key_restored: bool = False

    @property
    def ok(self) -> bool:
        """Whether the login succeeded."""
        return self.token is not None


@dataclass
class LoadedSession:
    """A valid session for this request: the account, its row and the unlocked key (None
    until the owner completes enrolment and so has a key pair)."""

    reviewer: Reviewer
    row: ReviewerSession
    private_key: bytes | None = field(repr=False)

    @property
    def unlocked(self) -> UnlockedReviewer:
        """The reviewer with their private key, for the casework use cases."""
        if self.private_key is None:
            raise AccessDenied("finish enrolment first: this account has no keys yet")
        return UnlockedReviewer(reviewer_id=self.reviewer.id, private_key=self.private_key)

    def next_step(self) -> NextStep:
        """Enrolment and a forced passphrase change come before anything else."""
        return next_step_of(self.reviewer)


def next_step_of(reviewer: Reviewer) -> NextStep:
    """Where the reviewer must go first after logging in."""
    if not reviewer.totp_confirmed:
        return NextStep.ENROL_TOTP
    if reviewer.must_change_passphrase or reviewer.wrapped_private_key is None:
        return NextStep.CHANGE_PASSPHRASE
    return NextStep.READY


def login_failed(session: Session, services: Services, reviewer: Reviewer | None,
                 reason: str) -> LoginResult:
    """Audit a failed login (the reason stays in the log); the generic failed result."""
    actor = Actor.reviewer(reviewer.id) if reviewer is not None else Actor.system()
    record_event(session, services.clock, AuditAction.LOGIN_FAILED, actor,
                 detail={"reason": reason})
    return LoginResult()


def normalise_code(code: str | None) -> str:
    """Digits of a TOTP code as typed (spaces and dashes dropped)."""
    return "".join(ch for ch in (code or "") if ch not in " -\u00a0")


def verify_totp(services: Services, reviewer: Reviewer, code: str | None) -> int | None:
    """The accepted time step, or None. One step of drift; a step at or before the last
    accepted one is refused, so a code cannot be used twice."""
    secret = totp_secret(services, reviewer)
    code = normalise_code(code)
    if secret is None or len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    current = math.floor(services.clock.now().timestamp() / TOTP_INTERVAL)
    for step in range(current - TOTP_DRIFT, current + TOTP_DRIFT + 1):
        expected = totp.at(step * TOTP_INTERVAL)
        if hmac.compare_digest(expected, code):
            if reviewer.totp_last_step is not None and step <= reviewer.totp_last_step:
                return None
            return step
    return None


def create_session(session: Session, services: Services, reviewer: Reviewer,
                   private_key: bytes | None) -> SessionToken:
    """A new session (always a new id) holding the private key (if the account has one yet)
    sealed under the token."""
    token = new_session_token()
    now = services.clock.now()
    session.add(ReviewerSession(
        id_hash=token.id_hash, reviewer_id=reviewer.id,
        session_tag=_session_tag(services, token.id_hash, reviewer.id),
        sealed_private_key=wrap(token.secret, private_key) if private_key is not None else None,
        created_at=now, last_seen_at=now,
        expires_at=now + timedelta(hours=services.config.reviewer_session_absolute_hours),
        reauthenticated_at=now,
    ))
    session.flush()
    return token


def _session_owner(reviewer_id: int) -> str:
    return f"session:{reviewer_id}"


def _session_tag(services: Services, id_hash: bytes, reviewer_id: int) -> bytes:
    """The MAC that makes a session row one a login here wrote (core.staff.keys' account key)."""
    return key_tag(services.keyring.account_key, _session_owner(reviewer_id), id_hash)


def load_session(session: Session, services: Services,
                 token: SessionToken | None) -> LoadedSession | None:
    """The session the cookie names, if it is still valid; expired rows are deleted."""
    if token is None:
        return None
    row = session.get(ReviewerSession, token.id_hash)
    if row is None:
        return None
    now = services.clock.now()
    idle = timedelta(minutes=services.config.reviewer_session_idle_minutes)
    reviewer = row.reviewer
    if not tag_matches(services.keyring.account_key, _session_owner(row.reviewer_id),
                       row.id_hash, row.session_tag):
        # Not made by a login here: a database writer's row (outside tester: forged sessions
        # of both admins approved an account of theirs). Never a session.
        session.delete(row)
        session.flush()
        return None
    if not standing_trusted(services.keyring, reviewer):
        # The account's record changed outside Candor since this login (a role or flag
        # flipped by SQL): its live sessions end with it, and the admins are alerted.
        key_alarm(session, services, reviewer, Actor.reviewer(reviewer.id), where="standing")
        end_sessions(session, reviewer.id)
        return None
    if now >= row.expires_at or now - row.last_seen_at > idle or not reviewer.active:
        session.delete(row)
        session.flush()
        return None
    private_key: bytes | None = None
    if row.sealed_private_key is not None:
        try:
            private_key = unwrap(token.secret, row.sealed_private_key)
        except CryptoError:
            return None
    row.last_seen_at = now
    return LoadedSession(reviewer=reviewer, row=row, private_key=private_key)


def logout(session: Session, services: Services, loaded: LoadedSession) -> None:
    """End this session at once."""
    session.delete(loaded.row)
    record_event(session, services.clock, AuditAction.LOGOUT,
                 Actor.reviewer(loaded.reviewer.id))
    session.flush()


def revoke_sessions(session: Session, services: Services, actor: Actor,
                    reviewer: Reviewer) -> int:
    """An admin ends every session of an account; audited."""
    count = end_sessions(session, reviewer.id)
    record_event(session, services.clock, AuditAction.SESSION_REVOKED, actor,
                 detail={"reviewer_id": reviewer.id, "sessions": count})
    return count


def reauth_fresh(services: Services, loaded: LoadedSession) -> bool:
    """Whether the passphrase was entered recently enough for a sensitive action."""
    return services.clock.now() - loaded.row.reauthenticated_at <= REAUTH_WINDOW


@dataclass(frozen=True)
class ReauthCheck:
    """A re-entered passphrase checked before the transaction, and the hash it was checked
    against (which must still be the account's)."""

    ok: bool
    against: str = field(repr=False)


def check_reauth_passphrase(services: Services, loaded: LoadedSession,
                            passphrase: str) -> ReauthCheck:
    """The Argon2id of a re-entered passphrase, in a kdf slot (core.kdf_slots.SlotsBusy), to
    run outside any transaction and hand to `reauthenticate` as `checked`."""
    stored = loaded.reviewer.passphrase_hash
    return ReauthCheck(services.kdf_slots.run(
        lambda: verify_passphrase(stored, passphrase, services.config.kdf)), stored)


def admit_reauth(session: Session, services: Services, loaded: LoadedSession) -> int | None:
    """Charge the per-account throttle before a re-entered passphrase costs an Argon2id.
    Returns the seconds to wait when throttled (audited), else None."""
    wait = services.throttle.take(session, account_bucket(loaded.reviewer.id),
                                  limit=ACCOUNT_LIMIT, window=ACCOUNT_WINDOW,
                                  now=services.clock.now())
    if wait is not None:
        login_failed(session, services, loaded.reviewer, "reauth-throttled")
    return wait


def finish_reauth(session: Session, services: Services, loaded: LoadedSession,
                  checked: ReauthCheck) -> bool:
    """Record a re-entry checked by `check_reauth_passphrase` (audited either way). The
    account and the session are read afresh (the request's objects keep what it read before
    its commit): a passphrase changed, or the session ended, in between does not count."""
    # Locked (FOR NO KEY UPDATE) like a login: ending the sessions waits for this, so the
    # session row cannot vanish between the check and its update.
    reviewer = session.get(Reviewer, loaded.reviewer.id, with_for_update={"key_share": True},
                           populate_existing=True)
    row = session.get(ReviewerSession, loaded.row.id_hash, populate_existing=True)
    if reviewer is None or row is None or not checked.ok \
            or reviewer.passphrase_hash != checked.against:
        login_failed(session, services, reviewer, "reauth")
        return False
    row.reauthenticated_at = services.clock.now()
    record_event(session, services.clock, AuditAction.SESSION_REAUTHENTICATED,
                 Actor.reviewer(reviewer.id))
    return True


def reauthenticate(session: Session, services: Services, loaded: LoadedSession,
                   passphrase: str) -> tuple[bool, int | None]:
    """Re-enter the passphrase for a sensitive action (throttled like logins; audited), in
    one session: its transaction stays open across the Argon2id (the console commits
    between the steps, reviewer.session.reauthenticate). Returns (accepted, seconds to wait
    when throttled)."""
    wait = admit_reauth(session, services, loaded)
    if wait is not None:
        return False, wait
    checked = check_reauth_passphrase(services, loaded, passphrase)
    return finish_reauth(session, services, loaded, checked), None


def confirm_totp(session: Session, services: Services, reviewer: Reviewer,
                 code: str | None) -> bool:
    """Finish enrolment with a code from the authenticator app; audited."""
    step = verify_totp(services, reviewer, code)
    if step is None:
        login_failed(session, services, reviewer, "totp-enrol")
        return False
    mark_totp_enrolled(session, services, reviewer, step)
    return True


def mark_totp_enrolled(session: Session, services: Services, reviewer: Reviewer,
                       step: int) -> None:
    """The authenticator is set up: `step` was a right code from its secret; audited."""
    require_standing(services.keyring, reviewer)
    reviewer.totp_confirmed = True
    reviewer.totp_last_step = step
    tag_standing(services.keyring, reviewer)
    record_event(session, services.clock, AuditAction.REVIEWER_TOTP_ENROLLED,
                 Actor.reviewer(reviewer.id), detail={"reviewer_id": reviewer.id})


def provisioning_uri(services: Services, reviewer: Reviewer) -> tuple[str, str] | None:
    """(otpauth URI, base32 secret) for the enrolment page, if the account has a secret."""
    secret = totp_secret(services, reviewer)
    if secret is None:
        return None
    uri = pyotp.TOTP(secret).provisioning_uri(name=reviewer.username, issuer_name="Candor")
    return uri, secret


def session_expiry(services: Services, row: ReviewerSession) -> datetime:
    """When the session ends if the reviewer stays idle."""
    idle = row.last_seen_at + timedelta(minutes=services.config.reviewer_session_idle_minutes)
    return min(idle, row.expires_at)
