"""The enrolment code that a second admin must hear from an account's owner before approving
the account (made, or its passphrase reset, in the console: core.staff.approvals).

The admin who made or reset an account saw its one-time passphrase and could also reset its
authenticator, so they alone could complete enrolment in the owner's name. The code is derived
from the key pair made at enrolment (crypto.enrolment_code) and shown only in the session that
holds that key pair: the owner reads it to the approving admin outside the console, and an
owner who could not log in has no code to read.

An admin who enrolled in the owner's name could instead hand the owner their own passphrase
as if it were the one-time one. So a waiting account that logs in with a key pair gives it up
(`renew_keys_while_waiting`): the owner must choose a passphrase of their own, which makes a
new key pair and a new code. A waiting account holds nothing sealed to it, so nothing is lost.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.errors import Conflict, InvalidInput
from core.keyring import Keyring
from core.models import Reviewer
from core.services import Services
from core.staff.keys import enrolled, public_key_trusted
from crypto.enrolment_code import codes_match, enrolment_code, normalise_code
from crypto.recovery import public_key_of

__all__ = ["EnrolmentNotDone", "WrongEnrolmentCode", "code_of", "code_for_session",
           "renew_keys_while_waiting", "require_code"]


class EnrolmentNotDone(Conflict):
    """The account has no enrolled key pair that Candor vouches for: there is no code yet."""


class WrongEnrolmentCode(InvalidInput):
    """The code typed is not the one the account's owner was shown. `mistyped`: it is not a
    code at all (missing, not twelve digits, or its check digit fails: a typing error), as
    opposed to another account's or key pair's code."""

    def __init__(self, *, mistyped: bool) -> None:
        super().__init__(
            "that is not an enrolment code (twelve digits, the last a check digit): a typing "
            "error, or none given" if mistyped else
            "the enrolment code is not the one shown to the account's owner", field="code")
        self.mistyped = mistyped


def code_of(keyring: Keyring, reviewer: Reviewer) -> str | None:
    """The account's enrolment code, or None until its owner has enrolled: authenticator
    confirmed and a key pair made, whose public key carries Candor's tag (a key a database
    writer put there gives no code)."""
    if not enrolled(reviewer) or not public_key_trusted(keyring, reviewer):
        return None
    assert reviewer.public_key is not None  # enrolled() checked it
    return enrolment_code(reviewer.id, reviewer.public_key)


def code_for_session(keyring: Keyring, reviewer: Reviewer,
                     private_key: bytes | None) -> str | None:
    """The code to show in a session: only one whose private key is the enrolled key pair's
    (the session that made it), never one opened before the keys changed."""
    code = code_of(keyring, reviewer)
    if code is None or private_key is None or public_key_of(private_key) != reviewer.public_key:
        return None
    return code


def renew_keys_while_waiting(reviewer: Reviewer) -> bool:
    """At login: an account waiting for approval gives up its key pair, so that its owner
    must choose their own passphrase (making a new key pair and code) before a code is shown.
    Whoever enrolled before, and knows the passphrase, loses it with the key. Whether the
    keys were given up (the caller audits it with the login)."""
    if reviewer.approved or reviewer.wrapped_private_key is None:
        return False
    reviewer.public_key = None
    reviewer.public_key_tag = None
    reviewer.wrapped_private_key = None
    return True


def require_code(keyring: Keyring, reviewer: Reviewer, typed: str | None) -> None:
    """EnrolmentNotDone before the owner has enrolled; WrongEnrolmentCode unless `typed` is
    their code (spaces, hyphens and full-width digits allowed)."""
    expected = code_of(keyring, reviewer)
    if expected is None:
        raise EnrolmentNotDone(f"{reviewer.username!r} has not completed enrolment yet: it "
                               "can be approved once its owner has logged in and chosen a "
                               "passphrase")
    if normalise_code(typed or "") is None:
        raise WrongEnrolmentCode(mistyped=True)
    if not codes_match(expected, typed or ""):
        raise WrongEnrolmentCode(mistyped=False)


def record_wrong_code(session: Session, services: Services, reviewer: Reviewer) -> None:
    """Log the operator's approval refused for a wrong enrolment code (`candor reviewer
    approve`), as the console logs an admin's (ACCESS_REFUSED, status 403): someone other
    than the owner may have completed enrolment in their name. Never the code itself."""
    record_event(session, services.clock, AuditAction.ACCESS_REFUSED, Actor.system(),
                 detail={"endpoint": "cli:reviewer approve", "status": 403,
                         "reviewer_id": reviewer.id})
