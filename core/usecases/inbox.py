"""The reviewer's inbox: cases they are a (non-excluded) team member of, from clear columns only.

Nothing here decrypts. A page costs a fixed number of queries whatever the number of cases:
one for the rows (LIMIT/OFFSET), one for the total, and three for the counts shown next to
the filters (by status, by category, by deadline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.models import Case, CaseMember, CaseStatus, Category
from core.models.enums import FINAL_STATUSES

#: Days before a deadline at which a case counts as "due soon".
DUE_SOON_DAYS = 7
PER_PAGE = 50
MAX_PAGE = 100_000

#: Stages in which the acknowledgement is still owed.
_AWAITING_ACK = (CaseStatus.RECEIVED,)
#: Stages in which feedback is still owed.
_AWAITING_FEEDBACK = tuple(
    s for s in CaseStatus
    if s not in FINAL_STATUSES and s not in (CaseStatus.FEEDBACK_GIVEN, CaseStatus.FOLLOW_UP)
)


class Due(StrEnum):
    """Deadline filters."""

    OVERDUE = "overdue"
    SOON = "soon"


class Sort(StrEnum):
    """Sort orders offered in the inbox."""

    NEWEST = "newest"
    OLDEST = "oldest"
    FEEDBACK_DUE = "feedback_due"
    ACKNOWLEDGE_DUE = "acknowledge_due"
    REFERENCE = "reference"
    ACTIVITY = "activity"


@dataclass(frozen=True)
class InboxFilter:
    """What the reviewer asked to see."""

    status: CaseStatus | None = None
    category_id: int | None = None
    due: Due | None = None
    assigned_to_me: bool = False
    sort: Sort = Sort.NEWEST
    page: int = 1
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox (clear columns only)."""

    id: int
    reference: str
    status: CaseStatus
    category_code: str | None
    received_on: date
    acknowledge_due: date
    feedback_due: date
    submitter_active_on: date | None
    overdue: bool
    due_soon: bool


@dataclass(frozen=True)
class InboxPage:
    """A page of rows with the counts the filter menu shows."""

    rows: list[InboxRow]
    total: int
    page: int
    per_page: int
    by_status: dict[CaseStatus, int] = field(default_factory=dict)
    by_category: dict[int, int] = field(default_factory=dict)
    by_due: dict[Due, int] = field(default_factory=dict)
    all_visible: int = 0

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def _visible(reviewer_id: int) -> ColumnElement[bool]:
    """Cases the reviewer is a non-excluded member of, driven from case_members (the
    reviewer's memberships, not every case)."""
    return Case.id.in_(select(CaseMember.case_id).where(CaseMember.reviewer_id == reviewer_id,
                                                        CaseMember.excluded.is_(False)))


def _overdue(today: date) -> ColumnElement[bool]:
    return or_(
        and_(Case.status.in_(_AWAITING_ACK), Case.acknowledge_due < today),
        and_(Case.status.in_(_AWAITING_FEEDBACK), Case.feedback_due < today),
    )


def _due_soon(today: date) -> ColumnElement[bool]:
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    return and_(
        ~_overdue(today),
        or_(and_(Case.status.in_(_AWAITING_ACK), Case.acknowledge_due <= horizon),
            and_(Case.status.in_(_AWAITING_FEEDBACK), Case.feedback_due <= horizon)),
    )


_ORDER: dict[Sort, tuple[Any, ...]] = {
    Sort.NEWEST: (Case.received_on.desc(), Case.id.desc()),
    Sort.OLDEST: (Case.received_on.asc(), Case.id.asc()),
    Sort.FEEDBACK_DUE: (Case.feedback_due.asc(), Case.id.asc()),
    Sort.ACKNOWLEDGE_DUE: (Case.acknowledge_due.asc(), Case.id.asc()),
    Sort.REFERENCE: (Case.reference.asc(),),
    Sort.ACTIVITY: (Case.submitter_active_on.desc(), Case.id.desc()),
}


def _conditions(reviewer_id: int, filt: InboxFilter, today: date,
                skip: str | None = None) -> list[ColumnElement[bool]]:
    conditions = [_visible(reviewer_id)]
    if filt.status is not None and skip != "status":
        conditions.append(Case.status == filt.status)
    if filt.category_id is not None and skip != "category":
        conditions.append(Case.category_id == filt.category_id)
    if filt.due is not None and skip != "due":
        conditions.append(_overdue(today) if filt.due is Due.OVERDUE else _due_soon(today))
    # "Assigned to me" is the membership condition itself (already applied): a reviewer only
    # ever sees cases they are a non-excluded member of.
    return conditions


def inbox_page(session: Session, reviewer_id: int, filt: InboxFilter,
               today: date) -> InboxPage:
    """One page of the reviewer's inbox, its total and the counts per filter value.

    Each count applies the other active filters, so it says how many rows picking that value
    would show.
    """
    page = min(max(1, filt.page), MAX_PAGE)
    per_page = min(max(1, filt.per_page), 200)
    where = _conditions(reviewer_id, filt, today)
    overdue, soon = _overdue(today), _due_soon(today)
    rows_query = (
        select(Case.id, Case.reference, Case.status, Category.code, Case.received_on,
               Case.acknowledge_due, Case.feedback_due, Case.submitter_active_on,
               overdue.label("overdue"), soon.label("soon"))
        .outerjoin(Category, Category.id == Case.category_id)
        .where(*where).order_by(*_ORDER[filt.sort])
        .limit(per_page).offset((page - 1) * per_page)
    )
    rows = [InboxRow(id=r[0], reference=r[1], status=r[2], category_code=r[3],
                     received_on=r[4], acknowledge_due=r[5], feedback_due=r[6],
                     submitter_active_on=r[7], overdue=bool(r[8]), due_soon=bool(r[9]))
            for r in session.execute(rows_query)]
    by_status = {CaseStatus(s): n for s, n in session.execute(
        select(Case.status, func.count()).where(*_conditions(reviewer_id, filt, today, "status"))
        .group_by(Case.status))}
    by_category = {c: n for c, n in session.execute(
        select(Case.category_id, func.count())
        .where(*_conditions(reviewer_id, filt, today, "category"))
        .group_by(Case.category_id)) if c is not None}
    due_row = session.execute(
        select(func.count(), func.sum(case((overdue, 1), else_=0)),
               func.sum(case((soon, 1), else_=0)))
        .where(*_conditions(reviewer_id, filt, today, "due"))).one()
    total = sum(by_status.values()) if filt.status is None else by_status.get(filt.status, 0)
    return InboxPage(rows=rows, total=total, page=page, per_page=per_page, by_status=by_status,
                     by_category=by_category,
                     by_due={Due.OVERDUE: int(due_row[1] or 0), Due.SOON: int(due_row[2] or 0)},
                     all_visible=int(due_row[0] or 0))
