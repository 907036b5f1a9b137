"""Staff login in three steps, so that no transaction is open while Argon2id runs.

1. `admit_login` (a short transaction): the login throttles, and a snapshot of the account.
2. `check_passphrase` (no database): the passphrase's Argon2id and the private key's unwrap,
   queued for a slot (core.kdf_slots) like the portal's receipt codes.
3. `finish_login` (a second transaction): TOTP, failure counting, the session and the audit
   event, against the account as it is then. If its passphrase or key changed in between,
   the login fails like a wrong passphrase.

On SQLite a transaction holds the database's write lock: two Argon2ids inside it (verify, then
unwrap) stopped every other request, reporters' included, for their length. `authenticate`
runs the three steps in one session, for scripts and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.models import Reviewer
from core.services import Services
from core.staff import authentication as limits  # its throttle and lock settings
from core.staff.accounts import USERNAME_PATTERN
from core.staff.authentication import (
    LoginResult,
    create_session,
    login_failed,
    mark_totp_enrolled,
    next_step_of,
    username_bucket,
    verify_totp,
)
from core.staff.enrolment_codes import renew_keys_while_waiting
from core.staff.keys import (
    key_alarm,
    public_key_trusted,
    standing_trusted,
    tag_public_key,
    tag_standing,
)
from core.staff.passphrases import hash_passphrase, needs_rehash, verify_passphrase
from crypto.errors import DecryptionError
from crypto.kdf import KdfProfile
from crypto.keys import generate_keypair
from crypto.recovery import public_key_of
from crypto.reviewer_keys import unwrap_private_key, wrap_private_key, wrapped_key_profile

_DUMMY_HASHES: dict[object, str] = {}
_DUMMY_WRAPPED: dict[object, bytes] = {}


@dataclass(frozen=True)
class LoginAttempt:
    """What the first step found. `retry_after` set: throttled, stop here. `reviewer_id`
    None: no such account (the passphrase is still checked against a dummy, for timing)."""

    reviewer_id: int | None = None
    passphrase_hash: str | None = field(default=None, repr=False)
    wrapped_private_key: bytes | None = field(default=None, repr=False)
    locked: bool = False
    retry_after: int | None = None


@dataclass(frozen=True)
class PassphraseCheck:
    """The second step's outcome: whether the passphrase matched, the unwrapped private key,
    and the hash and wrapping to store if the Argon2id cost changed since they were made."""

    ok: bool
    private_key: bytes | None = field(default=None, repr=False)
    new_hash: str | None = field(default=None, repr=False)
    new_wrapping: bytes | None = field(default=None, repr=False)


def admit_login(session: Session, services: Services, username: str) -> LoginAttempt:
    """Step 1: charge the global and the per-username throttles and read the account."""
    now = services.clock.now()
    wait = services.throttle.take(session, limits.GLOBAL_BUCKET, limit=limits.GLOBAL_LIMIT,
                                  window=limits.GLOBAL_WINDOW, now=now)
    if wait is not None:
        login_failed(session, services, None, "throttled")
        return LoginAttempt(retry_after=wait)
    name = (username or "").strip().lower()[:64]
    # A name no account can have is not looked up: it may hold characters the database
    # refuses (PostgreSQL text cannot contain NUL).
    reviewer = (session.execute(select(Reviewer).where(Reviewer.username == name)
                                ).scalar_one_or_none()
                if USERNAME_PATTERN.fullmatch(name) else None)
    wait = services.throttle.take(session, username_bucket(services, name),
                                  limit=limits.ACCOUNT_LIMIT, window=limits.ACCOUNT_WINDOW,
                                  now=now)
    if wait is not None:
        login_failed(session, services, reviewer, "throttled")
        return LoginAttempt(retry_after=wait)
    if reviewer is None:
        return LoginAttempt()
    return LoginAttempt(
        reviewer_id=reviewer.id, passphrase_hash=reviewer.passphrase_hash,
        wrapped_private_key=reviewer.wrapped_private_key,
        locked=reviewer.locked_until is not None and reviewer.locked_until > now)


def check_passphrase(services: Services, attempt: LoginAttempt,
                     passphrase: str) -> PassphraseCheck:
    """Step 2, outside any transaction: Argon2id in a slot (core.kdf_slots.SlotsBusy if none
    frees in time). Unknown and locked accounts spend the same time on a dummy hash."""
    profile = services.config.kdf

    def work() -> PassphraseCheck:
        # Every outcome costs the same two Argon2ids (verify, then unwrap): a right passphrase
        # with a wrong TOTP code must take no longer than a wrong one, nor a real account than
        # an unknown one, or timing would confirm a passphrase without its second factor.
        if attempt.passphrase_hash is None or attempt.locked:
            verify_passphrase(_dummy_hash(profile), passphrase, profile)
            _try_unwrap(_dummy_wrapped(profile), passphrase)
            return PassphraseCheck(ok=False)
        ok = verify_passphrase(attempt.passphrase_hash, passphrase, profile)
        wrapped = attempt.wrapped_private_key
        private_key = _try_unwrap(wrapped if wrapped is not None else _dummy_wrapped(profile),
                                  passphrase)
        if not ok or (wrapped is not None and private_key is None):
            return PassphraseCheck(ok=False)
        if wrapped is None:
            private_key = None
        # The cost changed since the hash and the wrapping were made: redo both now, while
        # the passphrase is at hand (and still outside the transaction).
        new_hash = (hash_passphrase(passphrase, profile)
                    if needs_rehash(attempt.passphrase_hash, profile) else None)
        new_wrapping = (wrap_private_key(private_key, passphrase, profile)
                        if wrapped is not None and private_key is not None
                        and wrapped_key_profile(wrapped) != profile else None)
        return PassphraseCheck(ok=True, private_key=private_key, new_hash=new_hash,
                               new_wrapping=new_wrapping)

    return services.kdf_slots.run(work)


def refuse_busy(session: Session, services: Services, attempt: LoginAttempt) -> None:
    """Audit a login turned away because no kdf slot freed in time (its throttles are
    already charged), like any other failure."""
    reviewer = (session.get(Reviewer, attempt.reviewer_id)
                if attempt.reviewer_id is not None else None)
    login_failed(session, services, reviewer, "busy")


def finish_login(session: Session, services: Services, attempt: LoginAttempt,
                 check: PassphraseCheck, code: str | None) -> LoginResult:
    """Step 3: TOTP, the failure count and lock, the session and the audit event."""
    # Reloaded, locked: the session may still hold the row as step 1 read it (objects outlive
    # commits here), and two logins must not both count, or both use one TOTP code. FOR NO KEY
    # UPDATE on PostgreSQL (key_share): a plain FOR UPDATE also blocks every insert that
    # references the account (a foreign key takes FOR KEY SHARE), and such a transaction,
    # holding the audit log's head, deadlocked with this one waiting for the head.
    reviewer = (session.get(Reviewer, attempt.reviewer_id, with_for_update={"key_share": True},
                            populate_existing=True)
                if attempt.reviewer_id is not None else None)
    if reviewer is None:
        return login_failed(session, services, None, "credentials")
    now = services.clock.now()
    if attempt.locked or (reviewer.locked_until is not None and reviewer.locked_until > now):
        # The same generic failure as a wrong passphrase: a lock must not reveal that the
        # account exists.
        return login_failed(session, services, reviewer, "locked")
    # Checked against the hash read in step 1: a passphrase changed meanwhile does not count.
    passphrase_ok = (check.ok and reviewer.passphrase_hash == attempt.passphrase_hash
                     and reviewer.wrapped_private_key == attempt.wrapped_private_key)
    # An account with keys needs a code even while its authenticator is being set up again
    # (after a TOTP reset): from the new secret the operator handed over, which the console
    # never shows it. Otherwise the passphrase alone would open its cases. A new account
    # (no keys yet) enrols with its one-time passphrase on the enrolment page.
    if passphrase_ok and not standing_trusted(services.keyring, reviewer):
        # The account's standing is not as Candor set it: someone wrote to the database (a
        # known passphrase hash copied onto it, a flag flipped). Refused like a wrong
        # passphrase, and the admins alerted.
        key_alarm(session, services, reviewer, Actor.reviewer(reviewer.id), where="standing")
        return login_failed(session, services, reviewer, "credentials")
    needs_code = reviewer.totp_confirmed or reviewer.wrapped_private_key is not None
    step = verify_totp(services, reviewer, code) if passphrase_ok and needs_code else None
    if not passphrase_ok or (needs_code and step is None) or not reviewer.active:
        reviewer.failed_logins = (reviewer.failed_logins or 0) + 1
        if reviewer.failed_logins >= limits.LOCK_AFTER:
            reviewer.locked_until = now + limits.LOCK_FOR
        reason = ("inactive" if not reviewer.active else
                  "credentials" if not passphrase_ok else "totp")
        return login_failed(session, services, reviewer, reason)
    if step is not None:
        reviewer.totp_last_step = step
        if not reviewer.totp_confirmed:  # a right code from the handed-over secret
            mark_totp_enrolled(session, services, reviewer, step)
    if check.new_hash is not None:
        reviewer.passphrase_hash = check.new_hash
        tag_standing(services.keyring, reviewer)
    if check.new_wrapping is not None:
        reviewer.wrapped_private_key = check.new_wrapping
    # Waiting for approval: the key pair is given up, and the owner chooses a passphrase of
    # their own before their enrolment code is shown (core.staff.enrolment_codes).
    renewed = renew_keys_while_waiting(reviewer)
    private_key = None if renewed else check.private_key
    restored = private_key is not None and _check_public_key(
        session, services, reviewer, private_key)
    reviewer.failed_logins = 0
    reviewer.locked_until = None
    token = create_session(session, services, reviewer, private_key)
    detail: dict[str, bool] = {"totp": step is not None}
    if renewed:
        detail["keys_given_up"] = True
    record_event(session, services.clock, AuditAction.LOGIN_SUCCEEDED,
                 Actor.reviewer(reviewer.id), detail=detail)
    return LoginResult(token=token, reviewer_id=reviewer.id, next_step=next_step_of(reviewer),
                       key_restored=restored)


def authenticate(session: Session, services: Services, username: str, passphrase: str,
                 code: str | None) -> LoginResult:
    """Check a username, passphrase and TOTP code; on success open a new session.

    The three steps in one session (its transaction stays open across the Argon2id: the
    console's login view runs them in two transactions instead). Before TOTP enrolment the
    code is not asked for of a new account (no keys): the session that opens can only enrol
    (NextStep). An account with keys whose TOTP was reset needs a code from the new secret,
    and a right one enrols it. Unknown users,
    wrong passphrases, wrong or replayed codes, locked and deactivated accounts all yield the
    same failed result.
    """
    attempt = admit_login(session, services, username)
    if attempt.retry_after is not None:
        return LoginResult(retry_after=attempt.retry_after)
    return finish_login(session, services, attempt,
                        check_passphrase(services, attempt, passphrase), code)


def _dummy_hash(profile: KdfProfile) -> str:
    if profile not in _DUMMY_HASHES:
        _DUMMY_HASHES[profile] = hash_passphrase("candor dummy passphrase", profile)
    return _DUMMY_HASHES[profile]


def _dummy_wrapped(profile: KdfProfile) -> bytes:
    if profile not in _DUMMY_WRAPPED:
        _DUMMY_WRAPPED[profile] = wrap_private_key(generate_keypair().private_key,
                                                   "candor dummy passphrase", profile)
    return _DUMMY_WRAPPED[profile]


def _try_unwrap(wrapped: bytes, passphrase: str) -> bytes | None:
    try:
        return unwrap_private_key(wrapped, passphrase)
    except DecryptionError:
        return None


def _check_public_key(session: Session, services: Services, reviewer: Reviewer,
                      private_key: bytes) -> bool:
    """The stored public key must be the one of the private key the owner just unwrapped,
    with a valid tag. Otherwise someone wrote to the database: raise the alarm for the admins
    and restore the owner's real public key (they proved it with passphrase and TOTP).
    Whether the alarm was raised."""
    real = public_key_of(private_key)
    if reviewer.public_key == real and public_key_trusted(services.keyring, reviewer):
        return False
    alarm = reviewer.public_key_tag is not None or reviewer.public_key != real
    if alarm:
        key_alarm(session, services, reviewer, Actor.reviewer(reviewer.id), where="login")
    # (No tag and the right key: an account from before tags, authenticated now.)
    reviewer.public_key = real
    tag_public_key(services.keyring, reviewer)
    return alarm
