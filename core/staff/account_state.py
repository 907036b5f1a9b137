"""What state a staff account is in, named once for every place that shows it (`candor
reviewer list`, the console's account pages).

Two questions, answered apart because they are independent: may the account act at all
(deactivated, waiting for a second admin's approval, or active), and how far its owner got
with enrolment (authenticator app confirmed, key pair made under a passphrase of their own).
An account can be both awaiting approval and not enrolled; folding them into one word would
hide one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.models import Reviewer, Role


class AccountStatus(StrEnum):
    """Whether the account may act (the words `candor reviewer list` prints)."""

    DEACTIVATED = "deactivated"
    #: Made in the console; takes effect once a second admin approves (core.staff.approvals).
    AWAITING_APPROVAL = "awaiting approval"
    ACTIVE = "active"


class Enrolment(StrEnum):
    """How far the owner got at first login (core.staff.authentication.next_step_of)."""

    #: The authenticator app is not confirmed: new account, or its TOTP was reset.
    NO_TOTP = "no TOTP yet"
    #: No key pair: the owner has not chosen their own passphrase (new or reset account).
    NO_KEYS = "no keys yet"
    COMPLETE = "complete"


@dataclass(frozen=True)
class AccountState:
    """An account's status, enrolment, and whether it is an identity custodian."""

    status: AccountStatus
    enrolment: Enrolment
    custodian: bool


def account_status(reviewer: Reviewer) -> AccountStatus:
    """Deactivated first (it overrides everything), then awaiting approval, else active."""
    if not reviewer.active:
        return AccountStatus.DEACTIVATED
    if not reviewer.approved:
        return AccountStatus.AWAITING_APPROVAL
    return AccountStatus.ACTIVE


def enrolment_of(reviewer: Reviewer) -> Enrolment:
    """The first enrolment step the owner still has to take, in the order the console asks
    for them (TOTP, then their own passphrase, which makes the key pair)."""
    if not reviewer.totp_confirmed:
        return Enrolment.NO_TOTP
    if reviewer.public_key is None or reviewer.wrapped_private_key is None:
        return Enrolment.NO_KEYS
    return Enrolment.COMPLETE


def account_state(reviewer: Reviewer) -> AccountState:
    """The account's state as shown to admins and operators (reads the row only)."""
    return AccountState(status=account_status(reviewer), enrolment=enrolment_of(reviewer),
                        custodian=reviewer.role is Role.REVIEWER and reviewer.identity_custodian)
