"""What the admin dashboard shows: accounts per role, the number of cases, and the routing
problems. Counts only: admins see no case content."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.categories.lookup import unrouted_categories
from core.keyring import Keyring
from core.models import Case, Category, Reviewer, Role
from core.staff.keys import public_key_trusted


@dataclass(frozen=True)
class AdminOverview:
    """The dashboard's figures."""

    active_accounts: dict[Role, int]
    total_cases: int
    #: Active categories whose new reports reach no case handler.
    unrouted: list[Category]


def admin_overview(session: Session) -> AdminOverview:
    """Counts for the admin dashboard (nothing is decrypted)."""
    counts = {Role(role): int(n) for role, n in session.execute(
        select(Reviewer.role, func.count()).where(Reviewer.active.is_(True))
        .group_by(Reviewer.role)).all()}
    total = int(session.execute(select(func.count(Case.id))).scalar_one())
    return AdminOverview(active_accounts=counts, total_cases=total,
                         unrouted=unrouted_categories(session))


def untrusted_keys(session: Session, keyring: Keyring) -> list[Reviewer]:
    """Active accounts whose stored public key fails its check: someone wrote to the database
    (nothing is sealed to them until their owner's next login restores the key)."""
    return [r for r in session.execute(
        select(Reviewer).where(Reviewer.active.is_(True), Reviewer.public_key.is_not(None))
        .order_by(Reviewer.username)).scalars() if not public_key_trusted(keyring, r)]
