"""The reviewer's inbox: cases they are a (non-excluded) team member of, from clear columns only.

Nothing here decrypts, and nothing reads another reviewer's memberships or a case the reviewer
is not on. Each membership (core.models.CaseMember) carries copies of its case's stage,
category and dates (the "inbox keys", kept in step by the use cases), and indexes that lead
with (reviewer_id, excluded) and continue with a filter column, a sort column and case_id. A
page then costs three queries, each reading a bounded range of the reviewer's own entries:

1. The counters (core.cases.inbox_counts): the reviewer's rows of `inbox_counts`, one per
   (assigned, status, category) - a few hundred at most - summed per (status, category) in SQL
   and aggregated in Python into the counts by status and by category (each with the other
   filters applied) and the total.
2. The deadline counts: "overdue" and "due within 7 days" depend on today, so they cannot be
   counters. They are computed over the reviewer's *due set*: their cases in a stage that still
   owes a deadline (received: the acknowledgement; not final and neither feedback_given nor
   follow_up: the feedback) whose deadline is past or within 7 days, found as ranges of the
   (status, acknowledge_due) and (status, feedback_due) indexes of their memberships (one range
   per owing stage; finished cases are never read). Grouped by (status, category, overdue), so
   that with a due filter active the counts by status and by category come from here too.
3. The rows:
   * no due filter, sorted by received_on, feedback_due or acknowledge_due: the page is one
     contiguous range of one membership index - (status, sort) with a stage filter, else
     (category, received_on) with a category filter, else (sort) - read with LIMIT/OFFSET, and
     only its case ids are joined to `cases`. Filters the index does not lead with are checked
     on the entries read. "Assigned to me" without another filter merges the LEAD and
     INVESTIGATOR ranges of the (role, received_on) index, each cut at OFFSET + LIMIT.
   * with a due filter: the due set (as in 2), filtered and sorted.
   * sorted by reference or reporter activity (not copied to memberships): the reviewer's
     matching memberships, their cases fetched by primary key and sorted.

The cost of a page is therefore OFFSET + LIMIT index entries (divided by the share of a filter
the index does not lead with), or the reviewer's due set, whatever the size of the archive.

"Assigned to me" narrows the inbox to cases where the reviewer's membership role is one of
the assigned roles (lead, technical, HR, legal, other: explicitly put on the team), as opposed
to INTAKE (routed to them by category).

The case-cycle filters (priority, "cases I lead", "reporter not satisfied", "corrective
actions due") read the memberships' role and copies of the case's columns. With one active,
the counts come from the matching memberships grouped in SQL, not the counters: the cost is
then the number of matching cases, which these filters keep small. Sorting by priority reads
the matching memberships like the reference sort. The page's leads: one query
(core.cases.inbox_lookups). Deadlines and the due set: core.cases.inbox_deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Select,
    and_,
    any_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.cases.inbox_counts import NO_CATEGORY
from core.cases.inbox_deadlines import DUE_SOON_DAYS, due_set, due_soon, indexed, overdue
from core.cases.inbox_lookups import page_leads
from core.cases.inbox_types import (
    MAX_PAGE,
    PER_PAGE,
    Due,
    InboxFilter,
    InboxPage,
    InboxRow,
    Sort,
)
from core.models import (
    Case,
    CaseMember,
    CaseStatus,
    Category,
    InboxCount,
    MemberRole,
)
from core.models.enums import ASSIGNED_ROLES, PRIORITY_ORDER

__all__ = ["MAX_PAGE", "PER_PAGE", "Due", "InboxFilter", "InboxPage", "InboxRow", "Sort",
           "inbox_page"]


def _member_terms(reviewer_id: int, assigned_only: bool,
                  extra: list[ColumnElement[bool]] | None = None) -> list[ColumnElement[bool]]:
    terms = [CaseMember.reviewer_id == reviewer_id, CaseMember.excluded.is_(False)]
    if assigned_only:
        terms.append(CaseMember.role.in_(ASSIGNED_ROLES))
    return [*terms, *(extra or [])]


def _cycle_terms(filt: InboxFilter, today: date) -> list[ColumnElement[bool]]:
    """The case-cycle filters, on the memberships' copies (see the module docstring)."""
    terms: list[ColumnElement[bool]] = []
    if filt.priority is not None:
        terms.append(CaseMember.priority == filt.priority)
    if filt.leading:
        terms.append(CaseMember.role == MemberRole.LEAD)
    if filt.not_satisfied:
        terms.append(CaseMember.review_requested.is_(True))
    if filt.actions_due:
        terms.append(CaseMember.actions_due <= today + timedelta(days=DUE_SOON_DAYS))
    return terms


def _filter_terms(filt: InboxFilter) -> list[ColumnElement[bool]]:
    """The stage and category filters, on the memberships' copies."""
    terms = []
    if filt.status is not None:
        terms.append(CaseMember.status == filt.status)
    if filt.category_id is not None:
        terms.append(CaseMember.category_id == filt.category_id)
    return terms


def _from_memberships(query: Select[*tuple[Any, ...]], terms: list[ColumnElement[bool]],
                      postgres: bool) -> Select[*tuple[Any, ...]]:
    """Drive `query` (over cases) from the reviewer's memberships matching `terms`, then fetch
    each case by primary key. SQLite plans the join that way; PostgreSQL would rather hash-join
    against a scan of all cases, so there the case ids are collected first (an uncorrelated
    subquery, evaluated once) and looked up with `id = ANY(...)`."""
    if postgres:
        ids = select(func.array_agg(CaseMember.case_id)).where(*terms).scalar_subquery()
        # The cast makes ANY(...) take one array value, not the rows of a subquery.
        return query.where(Case.id == any_(cast(ids, ARRAY(BigInteger))))
    return query.join(CaseMember, and_(CaseMember.case_id == Case.id, *terms))


def _case_order(sort: Sort, cols: Any) -> tuple[Any, ...]:
    """ORDER BY terms over `cols` (cases, or a subquery with the same column names)."""
    case_id = cols.id if hasattr(cols, "id") else cols.case_id
    match sort:
        case Sort.NEWEST:
            return (cols.received_on.desc(), case_id.desc())
        case Sort.OLDEST:
            return (cols.received_on.asc(), case_id.asc())
        case Sort.FEEDBACK_DUE:
            return (cols.feedback_due.asc(), case_id.asc())
        case Sort.ACKNOWLEDGE_DUE:
            return (cols.acknowledge_due.asc(), case_id.asc())
        case Sort.REFERENCE:
            return (cols.reference.asc(),)
        case Sort.ACTIVITY:
            return (cols.submitter_active_on.desc().nulls_last(), case_id.desc())
        case Sort.PRIORITY:
            rank = case(*((cols.priority == p, i) for i, p in enumerate(PRIORITY_ORDER)),
                        else_=len(PRIORITY_ORDER))
            return (rank, cols.received_on.desc(), case_id.desc())


#: The membership column each indexed sort walks.
_SORT_COLUMN = {Sort.NEWEST: "received_on", Sort.OLDEST: "received_on",
                Sort.FEEDBACK_DUE: "feedback_due", Sort.ACKNOWLEDGE_DUE: "acknowledge_due"}


def _cycle_index(filt: InboxFilter) -> tuple[str, ColumnElement[bool]] | None:
    """The membership index (and its term) whose range is the page when the only filter is
    one case-cycle filter with an index of its own and the sort is by date."""
    if (filt.sort not in (Sort.NEWEST, Sort.OLDEST) or filt.status is not None
            or filt.category_id is not None or filt.assigned_to_me or filt.actions_due):
        return None
    chosen = [(name, term) for wanted, name, term in (
        (filt.leading, "ix_case_members_reviewer_role", CaseMember.role == MemberRole.LEAD),
        (filt.priority is not None, "ix_case_members_reviewer_priority_received",
         CaseMember.priority == filt.priority),
        (filt.not_satisfied, "ix_case_members_reviewer_review_received",
         CaseMember.review_requested.is_(True))) if wanted]
    return chosen[0] if len(chosen) == 1 else None


def _priority_page_ids(reviewer_id: int, offset: int, limit: int) -> Any:
    """A page sorted by priority without filters: one range of the (priority, received_on)
    index per priority, newest first, each cut at OFFSET + LIMIT, merged by rank."""
    branches = []
    for rank, priority in enumerate(PRIORITY_ORDER):
        branches.append(
            indexed(select(CaseMember.case_id, CaseMember.received_on,
                           literal(rank).label("rank"))
                    .where(CaseMember.reviewer_id == reviewer_id,
                           CaseMember.excluded.is_(False), CaseMember.priority == priority),
                    "ix_case_members_reviewer_priority_received")
            .order_by(CaseMember.received_on.desc(), CaseMember.case_id.desc())
            .limit(offset + limit).subquery())
    merged = union_all(*(select(b.c.case_id, b.c.received_on, b.c.rank)
                         for b in branches)).subquery()
    return (select(merged.c.case_id, merged.c.received_on, merged.c.rank)
            .order_by(merged.c.rank, merged.c.received_on.desc(), merged.c.case_id.desc())
            .limit(limit).offset(offset).subquery("page"))


def _page_ids(reviewer_id: int, filt: InboxFilter, offset: int, limit: int) -> Any:
    """The case ids (and sort key) of one page, from one range of a membership index (or the
    merge of two for "Assigned to me"), as a subquery."""
    sort_name = _SORT_COLUMN[filt.sort]
    sort_col = getattr(CaseMember, sort_name)
    columns = (CaseMember.case_id, sort_col)
    filters = _filter_terms(filt)
    by_date = filt.sort in (Sort.NEWEST, Sort.OLDEST)
    cycle = _cycle_index(filt)
    if cycle is not None:
        index, term = cycle
        return (indexed(select(*columns), index)
                .where(*_member_terms(reviewer_id, False), term)
                .order_by(*_case_order(filt.sort, CaseMember)).limit(limit).offset(offset)
                .subquery("page"))
    if filt.assigned_to_me and not filters and by_date:
        # (role, received_on): one range per assigned role, each cut at OFFSET + LIMIT.
        branches = [
            indexed(select(*columns).where(CaseMember.reviewer_id == reviewer_id,
                                            CaseMember.excluded.is_(False),
                                            CaseMember.role == role),
                     "ix_case_members_reviewer_role")
            .order_by(*_case_order(filt.sort, CaseMember)).limit(offset + limit).subquery()
            for role in ASSIGNED_ROLES]
        merged = union_all(*(select(b.c.case_id, b.c[sort_name]) for b in branches)).subquery()
        return (select(merged.c.case_id, merged.c[sort_name])
                .order_by(*_case_order(filt.sort, merged.c)).limit(limit).offset(offset)
                .subquery("page"))
    # The index whose range is the page: led by the stage filter (any sort), else by the
    # category filter (date sorts), else by the sort column alone.
    sort_suffix = {"received_on": "received", "feedback_due": "feedback",
                   "acknowledge_due": "acknowledge"}[sort_name]
    if filt.status is not None:
        index = f"ix_case_members_reviewer_status_{sort_suffix}"
    elif filt.category_id is not None and by_date:
        index = "ix_case_members_reviewer_category_received"
    else:
        index = f"ix_case_members_reviewer_{sort_suffix}"
    return (indexed(select(*columns), index)
            .where(*_member_terms(reviewer_id, filt.assigned_to_me), *filters)
            .order_by(*_case_order(filt.sort, CaseMember)).limit(limit).offset(offset)
            .subquery("page"))


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
    would show. See the module docstring for how each part reads only a bounded range of the
    reviewer's own index entries.
    """
    page = min(max(1, filt.page), MAX_PAGE)
    per_page = min(max(1, filt.per_page), 200)
    filt = replace(filt, page=page, per_page=per_page)
    mine = filt.assigned_to_me
    postgres = session.get_bind().dialect.name == "postgresql"
    extra = _cycle_terms(filt, today)

    # 1. Counters (summed over `assigned` unless only assigned cases are asked for).
    counter_query = (
        select(InboxCount.status, InboxCount.category_id, func.sum(InboxCount.count))
        .where(InboxCount.reviewer_id == reviewer_id, InboxCount.count != 0)
        .group_by(InboxCount.status, InboxCount.category_id))
    if mine:
        counter_query = counter_query.where(InboxCount.assigned.is_(True))
    if extra:
        # The counters do not know these filters: group the matching memberships instead.
        category = func.coalesce(CaseMember.category_id, NO_CATEGORY)
        counter_query = (select(CaseMember.status, category, func.count())
                         .where(*_member_terms(reviewer_id, mine, extra))
                         .group_by(CaseMember.status, category))
    cells = [_Cell(CaseStatus(status), int(category_id), int(count))
             for status, category_id, count in session.execute(counter_query)]

    # 2. Deadline counts over the reviewer's due set, grouped so that every filter applies.
    due = due_set(_member_terms(reviewer_id, mine, extra), today)
    overdue_flag = case((overdue(due.c, today), 1), else_=0).label("overdue_flag")
    due_query = (select(due.c.status, due.c.category_id, overdue_flag, func.count())
                 .group_by(due.c.status, due.c.category_id, overdue_flag))
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
    columns = (Case.id, Case.reference, Case.status, Category.code, Case.received_on,
               Case.acknowledge_due, Case.feedback_due, Case.submitter_active_on,
               overdue(Case, today).label("overdue"), due_soon(Case, today).label("soon"),
               Case.priority, Case.review_requested, Case.actions_due)
    rows_query: Select[*tuple[Any, ...]]
    if filt.due is not None:
        # From the due set, filtered and sorted.
        due = due_set(_member_terms(reviewer_id, mine, extra), today)
        picked = [overdue(due.c, today) if filt.due is Due.OVERDUE
                  else due_soon(due.c, today)]
        if filt.status is not None:
            picked.append(due.c.status == filt.status)
        if filt.category_id is not None:
            picked.append(due.c.category_id == filt.category_id)
        ids = select(due.c.case_id).where(*picked).subquery("picked")
        rows_query = (select(*columns).select_from(ids)
                      .join(Case, Case.id == ids.c.case_id)
                      .outerjoin(Category, Category.id == Case.category_id)
                      .order_by(*_case_order(filt.sort, Case)).limit(per_page).offset(offset))
    elif filt.sort is Sort.PRIORITY and not (extra or mine or _filter_terms(filt)):
        ids = _priority_page_ids(reviewer_id, offset, per_page)
        rows_query = (select(*columns).select_from(ids)
                      .join(Case, Case.id == ids.c.case_id)
                      .outerjoin(Category, Category.id == Case.category_id)
                      .order_by(ids.c.rank, ids.c.received_on.desc(), ids.c.case_id.desc()))
    elif filt.sort in _SORT_COLUMN and (not extra or _cycle_index(filt) is not None):
        # One range of one membership index; only the page's cases are read.
        ids = _page_ids(reviewer_id, filt, offset, per_page)
        rows_query = (select(*columns).select_from(ids)
                      .join(Case, Case.id == ids.c.case_id)
                      .outerjoin(Category, Category.id == Case.category_id)
                      .order_by(*_case_order(filt.sort, ids.c)))
    else:
        # Sorted by a column the memberships do not copy: the reviewer's matching cases.
        rows_query = _from_memberships(
            select(*columns).select_from(Case)
            .outerjoin(Category, Category.id == Case.category_id),
            [*_member_terms(reviewer_id, mine, extra), *_filter_terms(filt)], postgres,
        ).order_by(*_case_order(filt.sort, Case)).limit(per_page).offset(offset)
    rows = [InboxRow(id=r[0], reference=r[1], status=r[2], category_code=r[3],
                     received_on=r[4], acknowledge_due=r[5], feedback_due=r[6],
                     submitter_active_on=r[7], overdue=bool(r[8]), due_soon=bool(r[9]),
                     priority=r[10], review_requested=bool(r[11]), actions_due=r[12])
            for r in session.execute(rows_query)]
    return InboxPage(rows=rows, total=total, page=page, per_page=per_page, by_status=by_status,
                     by_category=by_category, by_due=by_due, all_visible=all_visible,
                     leads=page_leads(session, [row.id for row in rows]))
