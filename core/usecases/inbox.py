"""The reviewer's inbox: cases they are a (non-excluded) team member of, from clear columns only.

Nothing here decrypts. A page costs three queries whatever the number of cases, and none of
them reads every case the reviewer can see:

1. The counters (core.inbox_counts): the reviewer's rows of `inbox_counts`, one per
   (assigned, status, category) - a few hundred at most - aggregated in Python into the counts
   by status and by category (each with the other filters applied), the total, and the cost
   figures used to plan query 3. The same statement reads max(cases.id) (one index probe) as
   the size of the archive.
2. The deadline counts: "overdue" and "due within 7 days" depend on today, so they cannot be
   counters. They are computed over the *due set*: cases in a stage that still owes a deadline
   (received: the acknowledgement; not final and neither feedback_given nor follow_up: the
   feedback) whose deadline is past or within 7 days. The indexes (status, acknowledge_due) and
   (status, feedback_due) find exactly those cases, and each is checked against the reviewer's
   membership by primary key; finished cases, however many, are never read. The cost is the
   size of the due set - the open cases at or past a deadline, which a working organisation
   keeps small; a growing backlog of overdue cases makes this query slower, as it should make
   someone worry. (A reviewer with few cases is driven from their memberships instead.) The
   result is grouped by (status, category, overdue), so when a due filter is active the counts
   by status and by category come from this due set too - small by the same argument - instead
   of the counters.
3. The rows, with one of two plans chosen from the numbers of query 1:
   * archive-driven: walk the index of the sort column ((received_on, id) for the default
     "newest first", (feedback_due, id), (acknowledge_due, id), reference) and keep the cases
     the reviewer is on (membership probe by primary key) until OFFSET + LIMIT are found. Cost
     about (OFFSET + LIMIT) x cases / matching cases: a page, divided by the reviewer's share.
   * membership-driven: read the reviewer's memberships (index leading with reviewer_id),
     fetch those cases and sort them. Cost: the reviewer's visible cases. Chosen when that is
     cheaper (a reviewer on few cases, a filter matching few of them, a deep page) and always
     for the "reporter active" sort, which has no index.
   With a due filter active the rows come from the due set (as in 2) and are sorted there.

The plan is chosen here, from exact counts, not left to the database: SQLite keeps no planner
statistics unless someone runs ANALYZE, and PostgreSQL cannot estimate how many cases pass the
membership probe (it walked the whole received_on index for a "due soon" page). So each
statement leaves only the intended index usable: `_unindexed` wraps the other filter and
ORDER BY columns (`+column` on SQLite, `coalesce(column, column)` on PostgreSQL), and the
membership check is a correlated scalar subquery, one primary-key probe per case, which
neither backend turns into a scan of the reviewer's memberships.

"Assigned to me" narrows the inbox to cases where the reviewer's membership role is LEAD or
INVESTIGATOR (explicitly put on the team), as opposed to INTAKE (routed to them by category).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Integer, Select, and_, any_, case, cast, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import ReturnTypeFromArgs

from core.inbox_counts import ASSIGNED_ROLES, NO_CATEGORY
from core.models import Case, CaseMember, CaseStatus, Category, InboxCount
from core.models.enums import FINAL_STATUSES

_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])

#: Days before a deadline at which a case counts as "due soon".
DUE_SOON_DAYS = 7
PER_PAGE = 50
MAX_PAGE = 100_000
#: Below this many visible cases, the deadline counts are driven from the reviewer's
#: memberships (bounded work) rather than from the due set of the whole archive.
SMALL_INBOX = 2_000

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
    #: Only cases where the reviewer is LEAD or INVESTIGATOR (not merely INTAKE).
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
    #: Cases matching the filters other than the deadline filter.
    all_visible: int = 0

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


class _unindexed(ReturnTypeFromArgs[Any]):  # noqa: N801 - reads like a SQL function
    """The column's value unchanged, but unusable as an index key: `+column` on SQLite,
    `coalesce(column, column)` elsewhere. Pins the plan chosen in `inbox_page`."""

    name = "candor_unindexed"
    inherit_cache = True


@compiles(_unindexed)
def _unindexed_default(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"coalesce({column}, {column})"


@compiles(_unindexed, "sqlite")
def _unindexed_sqlite(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def _overdue(today: date) -> ColumnElement[bool]:
    return or_(
        and_(Case.status.in_(_AWAITING_ACK), Case.acknowledge_due < today),
        and_(Case.status.in_(_AWAITING_FEEDBACK), Case.feedback_due < today),
    )


def _due_set(today: date) -> ColumnElement[bool]:
    """Open cases whose owed deadline is past or within DUE_SOON_DAYS (indexable)."""
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    return or_(
        and_(Case.status.in_(_AWAITING_ACK), Case.acknowledge_due <= horizon),
        and_(Case.status.in_(_AWAITING_FEEDBACK), Case.feedback_due <= horizon),
    )


def _due_soon(today: date) -> ColumnElement[bool]:
    return and_(_due_set(today), ~_overdue(today))


def _member_terms(reviewer_id: int, assigned_only: bool) -> list[ColumnElement[bool]]:
    terms = [CaseMember.reviewer_id == reviewer_id, CaseMember.excluded.is_(False)]
    if assigned_only:
        terms.append(CaseMember.role.in_(ASSIGNED_ROLES))
    return terms


def _probe(reviewer_id: int, assigned_only: bool) -> ColumnElement[bool]:
    """The reviewer is an active member of the current case: one primary-key probe per case
    (a correlated scalar subquery, which neither backend turns into a scan of memberships)."""
    return select(literal(1)).where(
        CaseMember.case_id == Case.id, *_member_terms(reviewer_id, assigned_only)
    ).scalar_subquery().is_not(None)


def _from_memberships(query: _Query, reviewer_id: int, assigned_only: bool,
                      postgres: bool) -> _Query:
    """Drive `query` (over cases) from the reviewer's memberships, then fetch each case by
    primary key. SQLite plans the join that way; PostgreSQL would rather hash-join against a
    scan of all cases, so there the case ids are collected first (an uncorrelated subquery,
    evaluated once) and looked up with `id = ANY(...)`."""
    terms = _member_terms(reviewer_id, assigned_only)
    if postgres:
        ids = select(func.array_agg(CaseMember.case_id)).where(*terms).scalar_subquery()
        # The cast makes ANY(...) take one array value, not the rows of a subquery.
        return query.where(Case.id == any_(cast(ids, ARRAY(Integer))))
    return query.join(CaseMember, and_(CaseMember.case_id == Case.id, *terms))


def _order(sort: Sort, plain: bool) -> tuple[Any, ...]:
    """ORDER BY terms; `plain` False keeps them off indexes on SQLite (the rows are sorted
    after being found through another index)."""
    col: Callable[[Any], Any] = (lambda c: c) if plain else _unindexed
    match sort:
        case Sort.NEWEST:
            return (col(Case.received_on).desc(), col(Case.id).desc())
        case Sort.OLDEST:
            return (col(Case.received_on).asc(), col(Case.id).asc())
        case Sort.FEEDBACK_DUE:
            return (col(Case.feedback_due).asc(), col(Case.id).asc())
        case Sort.ACKNOWLEDGE_DUE:
            return (col(Case.acknowledge_due).asc(), col(Case.id).asc())
        case Sort.REFERENCE:
            return (col(Case.reference).asc(),)
        case Sort.ACTIVITY:
            return (col(Case.submitter_active_on).desc().nulls_last(), col(Case.id).desc())


#: Sorts whose order an index provides (archive-driven plan possible).
_INDEXED_SORTS = frozenset(Sort) - {Sort.ACTIVITY}


@dataclass(frozen=True)
class _Cell:
    status: CaseStatus
    category_id: int
    count: int
    overdue: bool = False


def _category_matches(filt: InboxFilter, category_id: int) -> bool:
    return filt.category_id is None or (category_id == filt.category_id != NO_CATEGORY)


def _status_matches(filt: InboxFilter, status: CaseStatus) -> bool:
    return filt.status is None or status is filt.status


def inbox_page(session: Session, reviewer_id: int, filt: InboxFilter,
               today: date) -> InboxPage:
    """One page of the reviewer's inbox, its total and the counts per filter value.

    Each count applies the other active filters, so it says how many rows picking that value
    would show. See the module docstring for how each part avoids reading every visible case.
    """
    page = min(max(1, filt.page), MAX_PAGE)
    per_page = min(max(1, filt.per_page), 200)
    mine = filt.assigned_to_me
    postgres = session.get_bind().dialect.name == "postgresql"

    # 1. Counters (+ the archive size, for planning the row query: ids are sequential, so
    # max(id) is the number of cases ever created, an overestimate that only ever favours the
    # bounded membership-driven plan).
    counter_query = (
        select(InboxCount.status, InboxCount.category_id, InboxCount.count,
               select(func.max(Case.id)).scalar_subquery())
        .where(InboxCount.reviewer_id == reviewer_id, InboxCount.count != 0))
    if mine:
        counter_query = counter_query.where(InboxCount.assigned.is_(True))
    archive_size = 0
    cells: list[_Cell] = []
    for status, category_id, count, max_id in session.execute(counter_query):
        cells.append(_Cell(CaseStatus(status), int(category_id), int(count)))
        archive_size = int(max_id or 0)
    visible = sum(c.count for c in cells)

    # 2. Deadline counts over the due set, grouped so that every filter can be applied here.
    overdue = _overdue(today)
    overdue_flag = case((overdue, 1), else_=0).label("overdue_flag")
    due_query = (select(Case.status, Case.category_id, overdue_flag, func.count())
                 .where(_due_set(today))
                 .group_by(Case.status, Case.category_id, overdue_flag))
    if visible <= SMALL_INBOX:
        due_query = _from_memberships(due_query, reviewer_id, mine, postgres)
    else:
        due_query = due_query.where(_probe(reviewer_id, mine))
    due_cells = [_Cell(CaseStatus(s), NO_CATEGORY if c is None else int(c), int(n), bool(o))
                 for s, c, o, n in session.execute(due_query)]

    def due_matches(cell: _Cell) -> bool:
        return filt.due is None or cell.overdue is (filt.due is Due.OVERDUE)

    source = cells if filt.due is None else due_cells
    by_status: dict[CaseStatus, int] = {}
    by_category: dict[int, int] = {}
    for cell in source:
        if filt.due is not None and not due_matches(cell):
            continue
        if _category_matches(filt, cell.category_id):
            by_status[cell.status] = by_status.get(cell.status, 0) + cell.count
        if _status_matches(filt, cell.status) and cell.category_id != NO_CATEGORY:
            by_category[cell.category_id] = by_category.get(cell.category_id, 0) + cell.count
    total = sum(n for s, n in by_status.items() if _status_matches(filt, s))
    by_due = {Due.OVERDUE: 0, Due.SOON: 0}
    for cell in due_cells:
        if _status_matches(filt, cell.status) and _category_matches(filt, cell.category_id):
            by_due[Due.OVERDUE if cell.overdue else Due.SOON] += cell.count
    all_visible = sum(c.count for c in cells
                      if _status_matches(filt, c.status)
                      and _category_matches(filt, c.category_id))

    # 3. The rows.
    offset = (page - 1) * per_page
    rows_query = (
        select(Case.id, Case.reference, Case.status, Category.code, Case.received_on,
               Case.acknowledge_due, Case.feedback_due, Case.submitter_active_on,
               overdue.label("overdue"), _due_soon(today).label("soon"))
        .select_from(Case)
        .outerjoin(Category, Category.id == Case.category_id)
        .limit(per_page).offset(offset))
    archive_cost = (offset + per_page) * archive_size / max(total, 1)
    status_col: Any  # a column, or the same wrapped by _unindexed
    category_col: Any
    if filt.due is not None:
        # From the due set (its indexes), sorted after.
        rows_query = rows_query.where(overdue if filt.due is Due.OVERDUE
                                      else _due_soon(today))
        if visible <= SMALL_INBOX:
            rows_query = _from_memberships(rows_query, reviewer_id, mine, postgres)
        else:
            rows_query = rows_query.where(_probe(reviewer_id, mine))
        status_col, category_col, plain_order = Case.status, Case.category_id, False
    elif filt.sort in _INDEXED_SORTS and archive_cost < visible:
        # Archive-driven: walk the sort index, probe memberships, stop after the page.
        rows_query = rows_query.where(_probe(reviewer_id, mine))
        plain_order = True
        # With a stage filter, (status, feedback_due) / (status, acknowledge_due) give both
        # the filter and the order; otherwise keep the filters off indexes.
        status_plain = filt.sort in (Sort.FEEDBACK_DUE, Sort.ACKNOWLEDGE_DUE)
        status_col = Case.status if status_plain else _unindexed(Case.status)
        category_col = _unindexed(Case.category_id)
    else:
        # Membership-driven: the reviewer's cases, filtered and sorted.
        rows_query = _from_memberships(rows_query, reviewer_id, mine, postgres)
        status_col, category_col = _unindexed(Case.status), _unindexed(Case.category_id)
        plain_order = False
    if filt.status is not None:
        rows_query = rows_query.where(status_col == filt.status)
    if filt.category_id is not None:
        rows_query = rows_query.where(category_col == filt.category_id)
    rows_query = rows_query.order_by(*_order(filt.sort, plain_order))
    rows = [InboxRow(id=r[0], reference=r[1], status=r[2], category_code=r[3],
                     received_on=r[4], acknowledge_due=r[5], feedback_due=r[6],
                     submitter_active_on=r[7], overdue=bool(r[8]), due_soon=bool(r[9]))
            for r in session.execute(rows_query)]
    return InboxPage(rows=rows, total=total, page=page, per_page=per_page, by_status=by_status,
                     by_category=by_category, by_due=by_due, all_visible=all_visible)
