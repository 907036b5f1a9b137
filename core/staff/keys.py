"""Which accounts may receive case keys, and whether a stored public key is authentic.

A case key is sealed only to a public key that (1) exists: the owner completed enrolment and
made their key pair under a passphrase of their own; (2) carries a valid tag under the
instance account key (crypto.key_tags), so a key written into the database by someone else is
refused; (3) belongs to an active, approved case-handling account.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.errors import AccessDenied
from core.keyring import Keyring
from core.models import ActorKind, Reviewer, Role
from core.services import Services
from crypto.key_tags import key_tag, tag_matches


class UntrustedPublicKey(AccessDenied):
    """The account's stored public key failed its check: nothing may be sealed to it."""


class CannotReceiveKeys(AccessDenied):
    """The account may not hold case keys (not enrolled, not approved, inactive, admin...)."""


def key_owner(reviewer_id: int) -> str:
    """What a reviewer's public key tag binds the key to."""
    return f"reviewer:{reviewer_id}"


def tag_public_key(keyring: Keyring, reviewer: Reviewer) -> None:
    """Authenticate the account's current public key (after its owner made or proved it)."""
    assert reviewer.public_key is not None
    reviewer.public_key_tag = key_tag(keyring.account_key, key_owner(reviewer.id),
                                      reviewer.public_key)


def public_key_trusted(keyring: Keyring, reviewer: Reviewer) -> bool:
    """Whether the stored public key exists and its tag verifies."""
    return reviewer.public_key is not None and tag_matches(
        keyring.account_key, key_owner(reviewer.id), reviewer.public_key,
        reviewer.public_key_tag)


def enrolled(reviewer: Reviewer) -> bool:
    """Whether the owner has completed enrolment (TOTP and a key pair of their own)."""
    return reviewer.totp_confirmed and reviewer.public_key is not None


def may_hold_case_keys(reviewer: Reviewer) -> bool:
    """Active, approved, enrolled case handlers (admins and auditors never hold case keys)."""
    return (reviewer.active and reviewer.role is Role.REVIEWER and reviewer.approved
            and enrolled(reviewer))


def sealing_key(keyring: Keyring, reviewer: Reviewer) -> bytes:
    """The public key to seal a case key to. CannotReceiveKeys for an account that may not
    hold one; UntrustedPublicKey when the stored key fails its tag (see key_alarm)."""
    if not may_hold_case_keys(reviewer):
        raise CannotReceiveKeys(f"{reviewer.username} cannot receive case keys yet")
    if not public_key_trusted(keyring, reviewer):
        raise UntrustedPublicKey(f"the public key of {reviewer.username} failed its check")
    assert reviewer.public_key is not None
    return reviewer.public_key


def key_alarm(session: Session, services: Services, reviewer: Reviewer,
              actor: Actor | None = None, *, where: str, day: date | None = None) -> None:
    """Record, for the admins, that an account's stored public key failed its check (or did
    not match its private key at login). The admin overview lists such accounts.

    Found during a reporter's submission (`actor` the submitter), the event is queued with the
    reporter's `day` like their own events: a staff event with an exact time would date the
    submission to the second, for whoever planted the key."""
    actor = actor or Actor.system()
    if actor.kind is ActorKind.SUBMITTER:
        record_event(session, services.clock, AuditAction.KEY_REJECTED, actor,
                     detail={"account": reviewer.username, "where": where}, day=day)
        return
    record_event(session, services.clock, AuditAction.KEY_REJECTED, actor,
                 detail={"reviewer_id": reviewer.id, "where": where})
