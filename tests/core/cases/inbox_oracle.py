"""A brute-force inbox for tests: every visible case loaded and filtered, counted and sorted
in Python, to compare core.cases.inbox against."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.inbox import Due, InboxFilter, InboxPage, Sort
from core.models import Case, CaseMember, CaseStatus, MemberRole
from core.models.enums import ASSIGNED_ROLES, PRIORITY_ORDER

AWAITING_ACK = {CaseStatus.RECEIVED}
AWAITING_FEEDBACK = {CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED, CaseStatus.INFO_NEEDED,
                     CaseStatus.UNDER_INVESTIGATION, CaseStatus.DECIDED}


def overdue(c: Case, today: date) -> bool:
    return ((c.status in AWAITING_ACK and c.acknowledge_due < today)
            or (c.status in AWAITING_FEEDBACK and c.feedback_due < today))


def due_soon(c: Case, today: date) -> bool:
    horizon = today + timedelta(days=7)
    return not overdue(c, today) and (
        (c.status in AWAITING_ACK and c.acknowledge_due <= horizon)
        or (c.status in AWAITING_FEEDBACK and c.feedback_due <= horizon))


def _sort_key(sort: Sort):  # type: ignore[no-untyped-def]
    far = date.max
    return {
        Sort.NEWEST: (lambda c: (c.received_on, c.id), True),
        Sort.OLDEST: (lambda c: (c.received_on, c.id), False),
        Sort.FEEDBACK_DUE: (lambda c: (c.feedback_due, c.id), False),
        Sort.ACKNOWLEDGE_DUE: (lambda c: (c.acknowledge_due, c.id), False),
        Sort.REFERENCE: (lambda c: (c.reference,), False),
        # newest activity first, cases without activity last
        Sort.ACTIVITY: (lambda c: (c.submitter_active_on is not None,
                                   c.submitter_active_on or far, c.id), True),
        # most urgent first, then newest
        Sort.PRIORITY: (lambda c: (PRIORITY_ORDER.index(c.priority),
                                   -c.received_on.toordinal(), -c.id), False),
    }[sort]


def brute_force(s: Session, reviewer_id: int, filt: InboxFilter, today: date) -> InboxPage:
    cases = {c.id: c for c in s.execute(select(Case)).scalars()}
    roles = {m.case_id: m.role for m in s.execute(select(CaseMember).where(
        CaseMember.reviewer_id == reviewer_id, CaseMember.excluded.is_(False))).scalars()}
    horizon = today + timedelta(days=7)
    visible = [c for cid, c in cases.items() if cid in roles
               and (not filt.assigned_to_me or roles[cid] in ASSIGNED_ROLES)
               and (filt.priority is None or c.priority is filt.priority)
               and (not filt.leading or roles[cid] is MemberRole.LEAD)
               and (not filt.not_satisfied or c.review_requested)
               and (not filt.actions_due or (c.actions_due is not None
                                             and c.actions_due <= horizon))]

    def keep(c: Case, skip: str = "") -> bool:
        return ((filt.status is None or skip == "status" or c.status is filt.status)
                and (filt.category_id is None or skip == "category"
                     or c.category_id == filt.category_id)
                and (filt.due is None or skip == "due"
                     or (overdue(c, today) if filt.due is Due.OVERDUE else due_soon(c, today))))

    by_status: dict[CaseStatus, int] = {}
    for c in visible:
        if keep(c, "status"):
            by_status[c.status] = by_status.get(c.status, 0) + 1
    by_category: dict[int, int] = {}
    for c in visible:
        if keep(c, "category") and c.category_id is not None:
            by_category[c.category_id] = by_category.get(c.category_id, 0) + 1
    due_base = [c for c in visible if keep(c, "due")]
    matching = [c for c in visible if keep(c)]
    key, reverse = _sort_key(filt.sort)
    matching.sort(key=key, reverse=reverse)
    start = (filt.page - 1) * filt.per_page
    rows = matching[start:start + filt.per_page]
    return InboxPage(
        rows=rows, total=len(matching), page=filt.page, per_page=filt.per_page,  # type: ignore[arg-type]
        by_status=by_status, by_category=by_category,
        by_due={Due.OVERDUE: sum(overdue(c, today) for c in due_base),
                Due.SOON: sum(due_soon(c, today) for c in due_base)},
        all_visible=len(due_base))
