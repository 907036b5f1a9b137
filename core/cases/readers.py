"""Who can read a case, and who a new report would reach: shown to the case team and to the
reporter (before sending and afterwards), so that nobody reads in secret.

A reader is named by their public name: the display name an admin gave the account, or its
username when it has none (SECURITY.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.exclusions import reporter_exclusion_count
from core.cases.grants import current_epoch
from core.categories.intake_routes import read_routes, receiving_intake
from core.errors import NotFound
from core.intake.submission import identity_custodians
from core.keyring import Keyring
from core.models import Case, CaseGrant, Category, KeyKind, Recipient, Reviewer


def public_name(reviewer: Reviewer) -> str:
    """How a case handler is named to reporters."""
    return reviewer.display_name or reviewer.username


@dataclass(frozen=True)
class Reader:
    """A case handler a report reaches (id: for the reporter's "leave out" choice)."""

    id: int
    name: str


@dataclass(frozen=True)
class CaseReaders:
    """Who holds the keys of a case now."""

    #: Hold the current case key: read the report and the thread.
    team: tuple[str, ...]
    #: Hold the identity key (custodians, and those whose reveal request was approved).
    identity: tuple[str, ...]
    #: Handlers the reporter left out (how many, not who).
    left_out: int
    #: The organisation recovery key (kept offline) holds every key.
    recovery: bool


def case_readers_by_id(session: Session, case_id: int) -> CaseReaders:
    """case_readers of the case with this id (NotFound if none)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no such case")
    return case_readers(session, case)


def case_readers(session: Session, case: Case) -> CaseReaders:
    """The readers of `case`, from its grants (not from any list that could disagree)."""
    rows = session.execute(
        select(CaseGrant.key_kind, CaseGrant.epoch, CaseGrant.recipient, Reviewer)
        .outerjoin(Reviewer, Reviewer.id == CaseGrant.reviewer_id)
        .where(CaseGrant.case_id == case.id)).all()
    team: set[str] = set()
    identity: set[str] = set()
    recovery = False
    for kind, epoch, recipient, reviewer in rows:
        if recipient is Recipient.RECOVERY:
            recovery = True
        elif reviewer is not None and reviewer.active:
            if kind is KeyKind.CASE and epoch == current_epoch(case, KeyKind.CASE):
                team.add(public_name(reviewer))
            elif kind is KeyKind.IDENTITY:
                identity.add(public_name(reviewer))
    return CaseReaders(team=tuple(sorted(team)), identity=tuple(sorted(identity)),
                       left_out=reporter_exclusion_count(case), recovery=recovery)


@dataclass(frozen=True)
class IntakeReaders:
    """Who a new report would reach: each category's handlers, and the identity custodians
    (who receive the identity of a confidential report, and nothing else)."""

    by_category: dict[str, tuple[Reader, ...]]
    custodians: tuple[Reader, ...]
    recovery: bool


def intake_readers(session: Session, keyring: Keyring) -> IntakeReaders:
    """For the submission form: the readers of each active category."""
    categories = session.execute(
        select(Category).where(Category.active.is_(True)).order_by(Category.position)
    ).scalars()
    routes = read_routes(session, keyring)
    by_category = {
        c.code: tuple(Reader(r.id, public_name(r))
                      for r in sorted(receiving_intake(c, routes), key=public_name))
        for c in categories
    }
    custodians = tuple(Reader(r.id, public_name(r))
                       for r in sorted(identity_custodians(session), key=public_name))
    return IntakeReaders(by_category=by_category, custodians=custodians,
                         recovery=keyring.recovery_public_key is not None)
