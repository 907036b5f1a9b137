"""Intake routes that Candor itself wrote: a tag, under the instance account key, over each
row of `category_intake` (which case handlers receive a category's new reports).

New reports are sealed to a category's intake handlers. Without the tag, a database writer
who inserted a route (their own handler account, or a colleague the reporter should not
reach) got every new report of that category sealed to it, past the second admin who
approves routing in the console. A route whose tag fails receives nothing, is not offered
again in the console's routing form (so an admin cannot approve it unawares), and is listed
on the admin dashboard and by `candor category list` until an admin routes the category
again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from core.categories.lookup import active_categories, get_category
from core.errors import InvalidInput
from core.keyring import Keyring
from core.models import Category, Reviewer, Role, category_intake
from core.staff.keys import may_hold_case_keys
from crypto.key_tags import key_tag, tag_matches

_FACT = b"intake"


def _owner(category_id: int, reviewer_id: int) -> str:
    return f"intake:{category_id}:{reviewer_id}"


def _write_tag(session: Session, keyring: Keyring, category_id: int, reviewer_id: int) -> None:
    session.execute(update(category_intake).where(
        and_(category_intake.c.category_id == category_id,
             category_intake.c.reviewer_id == reviewer_id))
        .values(route_tag=key_tag(keyring.account_key, _owner(category_id, reviewer_id),
                                  _FACT)))


def set_intake(session: Session, keyring: Keyring, category_code: str,
               reviewers: list[Reviewer]) -> Category:
    """Name the reviewers who receive new cases of a category, each route tagged. The use
    cases around it (core.categories.admin.route_intake, the console's approved change) check
    enrolment and audit."""
    category = get_category(session, category_code)
    for reviewer in reviewers:
        if reviewer.role is not Role.REVIEWER or not reviewer.active:
            raise InvalidInput(f"{reviewer.username} cannot receive cases.", field="reviewers")
    category.intake_reviewers = list(reviewers)
    session.flush()
    for reviewer in category.intake_reviewers:
        _write_tag(session, keyring, category.id, reviewer.id)
    return category


@dataclass(frozen=True)
class IntakeRoutes:
    """Every route on record, sorted by whether Candor wrote it."""

    #: category id -> the ids of the handlers routed to it by Candor.
    trusted: dict[int, frozenset[int]]
    #: (category id, reviewer id) of the routes whose tag fails: a database writer's.
    tampered: tuple[tuple[int, int], ...]

    def of(self, category: Category) -> frozenset[int]:
        """The handlers Candor routed this category to."""
        return self.trusted.get(category.id, frozenset())

    def planted_in(self, category: Category) -> bool:
        """Whether the category has a route Candor did not write."""
        return any(category_id == category.id for category_id, _ in self.tampered)


def read_routes(session: Session, keyring: Keyring) -> IntakeRoutes:
    """Read and check every route (one query: the table holds a row per routed handler)."""
    trusted: dict[int, set[int]] = {}
    tampered: list[tuple[int, int]] = []
    for category_id, reviewer_id, tag in session.execute(
            select(category_intake.c.category_id, category_intake.c.reviewer_id,
                   category_intake.c.route_tag)
            .order_by(category_intake.c.category_id, category_intake.c.reviewer_id)):
        if tag_matches(keyring.account_key, _owner(category_id, reviewer_id), _FACT, tag):
            trusted.setdefault(category_id, set()).add(reviewer_id)
        else:
            tampered.append((category_id, reviewer_id))
    return IntakeRoutes(trusted={c: frozenset(r) for c, r in trusted.items()},
                        tampered=tuple(tampered))


def routed_handlers(category: Category, routes: IntakeRoutes) -> list[Reviewer]:
    """The category's intake handlers on a route Candor wrote (enrolled or not)."""
    ids = routes.of(category)
    return [r for r in category.intake_reviewers if r.id in ids]


def receiving_intake(category: Category, routes: IntakeRoutes) -> list[Reviewer]:
    """The category's intake case handlers who actually receive its new reports: on a route
    Candor wrote, active, approved and enrolled (core.staff.keys.may_hold_case_keys). One
    named as intake who has not logged in and chosen a passphrase yet receives nothing."""
    return [r for r in routed_handlers(category, routes) if may_hold_case_keys(r)]


def unrouted_categories(session: Session, keyring: Keyring) -> list[Category]:
    """Active categories whose new reports reach no case handler: admins must fix these."""
    routes = read_routes(session, keyring)
    return [c for c in active_categories(session) if not receiving_intake(c, routes)]


@dataclass(frozen=True)
class TamperedRoute:
    """A route on record that Candor did not write, as the dashboard names it."""

    category_code: str
    username: str


def tampered_routes(session: Session, routes: IntakeRoutes) -> list[TamperedRoute]:
    """The routes whose tag fails, by category code and username."""
    named = []
    for category_id, reviewer_id in routes.tampered:
        category = session.get(Category, category_id)
        reviewer = session.get(Reviewer, reviewer_id)
        if category is not None and reviewer is not None:
            named.append(TamperedRoute(category.code, reviewer.username))
    return named


def tag_untagged_routes(session: Session, keyring: Keyring) -> int:
    """After migration 0019 (`candor db upgrade`, which holds the key): tag every route as it
    stands then. Returns how many."""
    rows = session.execute(select(category_intake.c.category_id, category_intake.c.reviewer_id)
                           .where(category_intake.c.route_tag.is_(None))).all()
    for category_id, reviewer_id in rows:
        _write_tag(session, keyring, category_id, reviewer_id)
    return len(rows)
