"""Which accounts may receive case keys, and whether a stored public key is authentic.

A case key is sealed only to a public key that (1) exists: the owner completed enrolment and
made their key pair under a passphrase of their own; (2) carries a valid tag under the
instance account key (crypto.key_tags), so a key written into the database by someone else is
refused; (3) belongs to an active, approved case-handling account, whose standing (role,
approval, custodian role, credentials) carries a valid tag too, so that a database writer
cannot make an account eligible by flipping its columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from itertools import product

from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.errors import AccessDenied, Conflict
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


#: The standing's flags, in the order the tag covers them (the passphrase hash follows).
STANDING_FLAGS = ("active", "approved", "identity_custodian", "totp_confirmed")


def _facts_of(role: str, flags: tuple[bool, ...], passphrase_hash: str | None) -> bytes:
    return json.dumps([role, *flags, passphrase_hash], separators=(",", ":")).encode("utf-8")


def _flags(reviewer: Reviewer) -> tuple[bool, ...]:
    return tuple(bool(getattr(reviewer, name)) for name in STANDING_FLAGS)


def _standing_facts(reviewer: Reviewer) -> bytes:
    """What an account's standing tag covers: the columns that decide whether it may log in
    and what may be sealed to it. Canonical JSON: no two standings read alike."""
    return _facts_of(str(reviewer.role), _flags(reviewer), reviewer.passphrase_hash)


def standing_owner(reviewer_id: int) -> str:
    """What a reviewer's standing tag binds its facts to."""
    return f"standing:{reviewer_id}"


def tag_standing(keyring: Keyring, reviewer: Reviewer) -> None:
    """Authenticate the account's standing as Candor itself just set it: role, active,
    approved, identity custodian, TOTP enrolled and passphrase hash. Every use case that
    changes one of them calls this; a database writer cannot (outside tester: flipping
    `approved`, `role` or `identity_custodian`, or copying a known passphrase hash onto
    another account, got reports sealed to an account no second admin had approved)."""
    assert reviewer.id is not None, "flush the new account first: the tag names its id"
    reviewer.standing_tag = key_tag(keyring.account_key, standing_owner(reviewer.id),
                                    _standing_facts(reviewer))


def standing_trusted(keyring: Keyring, reviewer: Reviewer) -> bool:
    """Whether the account's standing is as Candor last set it (its tag verifies)."""
    return tag_matches(keyring.account_key, standing_owner(reviewer.id),
                       _standing_facts(reviewer), reviewer.standing_tag)


@dataclass(frozen=True)
class StandingChange:
    """What was changed outside Candor in an account's standing, as far as its tag tells."""

    #: (column, value Candor last set, value now) for each role or flag that differs; empty
    #: when no combination of them explains the tag.
    changed: tuple[tuple[str, str, str], ...]
    #: The tag matches no role and flags with the passphrase hash now stored: the hash was
    #: changed (a known passphrase copied in), or the tag itself was cleared or altered.
    passphrase_or_tag: bool


def standing_change(keyring: Keyring, reviewer: Reviewer) -> StandingChange | None:
    """None when the standing is as Candor last set it; otherwise which role or flags were
    flipped, found by trying every role and flag combination (3 x 16 tags) against the stored
    tag with the stored passphrase hash, for the operator who checks the account before
    vouching for it (`candor reviewer confirm`)."""
    if standing_trusted(keyring, reviewer):
        return None
    owner = standing_owner(reviewer.id)
    now_role, now_flags = str(reviewer.role), _flags(reviewer)
    for role in (str(r) for r in Role):
        for flags in product((False, True), repeat=len(STANDING_FLAGS)):
            if tag_matches(keyring.account_key, owner,
                           _facts_of(role, flags, reviewer.passphrase_hash),
                           reviewer.standing_tag):
                changed = [("role", role, now_role)] if role != now_role else []
                changed += [(name, _yes(was), _yes(now)) for name, was, now
                            in zip(STANDING_FLAGS, flags, now_flags, strict=True)
                            if was != now]
                return StandingChange(changed=tuple(changed), passphrase_or_tag=False)
    return StandingChange(changed=(), passphrase_or_tag=True)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


class TamperedStanding(Conflict):
    """The account's record was changed outside Candor: a change made through Candor now
    would tag, and so vouch for, what was written. The operator checks it first."""


def require_standing(keyring: Keyring, reviewer: Reviewer) -> None:
    """TamperedStanding unless the account's standing is as Candor last set it: every use case
    that re-tags it calls this first (outside tester: an approval, or the owner's own
    passphrase change, re-tagged a flag or a hash flipped by SQL and cleared the alarm)."""
    if not standing_trusted(keyring, reviewer):
        raise TamperedStanding(f"the record of {reviewer.username!r} was changed outside "
                               "Candor: the operator checks it first (`candor reviewer "
                               "confirm`)")


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
    if not public_key_trusted(keyring, reviewer) or not standing_trusted(keyring, reviewer):
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


def confirm_standing(session: Session, services: Services, reviewer: Reviewer,
                     actor: Actor | None = None) -> None:
    """The operator vouches for an account whose standing failed its check, as it stands now
    (`candor reviewer confirm`, after checking role, approval and custodian role): it may log
    in and receive keys again. Conflict when there is nothing to confirm. Audited."""
    if standing_trusted(services.keyring, reviewer):
        raise Conflict(f"the record of {reviewer.username!r} is as Candor set it: nothing to "
                       "confirm")
    tag_standing(services.keyring, reviewer)
    record_event(session, services.clock, AuditAction.STANDING_CONFIRMED,
                 actor or Actor.system(), detail={"reviewer_id": reviewer.id})
