"""What the admin dashboard shows: accounts per role, the number of cases, and the routing
problems (categories and cases that reach nobody). Counts and references only: admins see no
case content."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.cases.unreached import UnreachedCases, unreached_cases
from core.categories.lookup import unrouted_categories
from core.keyring import Keyring
from core.models import Case, Category, Reviewer, Role
from core.staff.keys import public_key_trusted


@dataclass(frozen=True)
class AdminOverview:
    """The dashboard's figures."""

    #: Accounts that can work: active, approved and enrolled (TOTP and a key pair of their own).
    active_accounts: dict[Role, int]
    #: Active accounts that cannot work yet: waiting for a second admin's approval, or for
    #: their owner to enrol. Counted apart so that "active case handlers" means people who
    #: can receive reports.
    waiting_accounts: int
    total_cases: int
    #: Active categories whose new reports reach no case handler.
    unrouted: list[Category]
    #: Open cases that reach nobody (core.cases.unreached).
    unreached: UnreachedCases


def admin_overview(session: Session) -> AdminOverview:
    """Counts for the admin dashboard (nothing is decrypted)."""
    ready = and_(Reviewer.approved.is_(True), Reviewer.totp_confirmed.is_(True),
                 Reviewer.public_key.is_not(None))
    counts: dict[Role, int] = {}
    waiting = 0
    for role, is_ready, n in session.execute(
            select(Reviewer.role, ready, func.count()).where(Reviewer.active.is_(True))
            .group_by(Reviewer.role, ready)).all():
        if is_ready:
            counts[Role(role)] = int(n)
        else:
            waiting += int(n)
    total = int(session.execute(select(func.count(Case.id))).scalar_one())
    return AdminOverview(active_accounts=counts, waiting_accounts=waiting, total_cases=total,
                         unrouted=unrouted_categories(session),
                         unreached=unreached_cases(session))


def untrusted_keys(session: Session, keyring: Keyring) -> list[Reviewer]:
    """Active accounts whose stored public key fails its check: someone wrote to the database
    (nothing is sealed to them until their owner's next login restores the key)."""
    return [r for r in session.execute(
        select(Reviewer).where(Reviewer.active.is_(True), Reviewer.public_key.is_not(None))
        .order_by(Reviewer.username)).scalars() if not public_key_trusted(keyring, r)]
