"""Deadlines in the inbox: which stages still owe the acknowledgement or the outcome, the
"overdue" and "due soon" predicates, and the reviewer's *due set* read as index ranges of their
memberships (core.cases.inbox explains the plan)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select, union
from sqlalchemy.sql.elements import ColumnElement

from core.models import CaseMember, CaseStatus
from core.models.enums import FINAL_STATUSES

#: Days before a deadline at which a case counts as "due soon".
DUE_SOON_DAYS = 7

#: Stages in which the acknowledgement is still owed.
AWAITING_ACK = (CaseStatus.RECEIVED,)
#: Stages in which feedback is still owed.
AWAITING_FEEDBACK = tuple(
    s for s in CaseStatus
    if s not in FINAL_STATUSES and s not in (CaseStatus.FEEDBACK_GIVEN, CaseStatus.FOLLOW_UP)
)


def overdue(cols: Any, today: date) -> ColumnElement[bool]:
    """`cols`: anything with status, acknowledge_due and feedback_due columns."""
    return or_(
        and_(cols.status.in_(AWAITING_ACK), cols.acknowledge_due < today),
        and_(cols.status.in_(AWAITING_FEEDBACK), cols.feedback_due < today),
    )


def due_soon(cols: Any, today: date) -> ColumnElement[bool]:
    """Past no owed deadline, but one falls within DUE_SOON_DAYS."""
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    return and_(or_(
        and_(cols.status.in_(AWAITING_ACK), cols.acknowledge_due <= horizon),
        and_(cols.status.in_(AWAITING_FEEDBACK), cols.feedback_due <= horizon),
    ), ~overdue(cols, today))


_DUE_COLUMNS = (CaseMember.case_id, CaseMember.status, CaseMember.category_id,
                CaseMember.received_on, CaseMember.acknowledge_due, CaseMember.feedback_due)


def indexed(query: Select[*tuple[Any, ...]], index: str) -> Select[*tuple[Any, ...]]:
    """Pin the membership index `query` reads on SQLite (INDEXED BY): without planner
    statistics it may prefer an index whose prefix matches but whose range is the reviewer's
    whole inbox. PostgreSQL plans from its statistics, in which these ranges are small."""
    return query.with_hint(CaseMember, f"INDEXED BY {index}", "sqlite")


def due_set(terms: list[ColumnElement[bool]], today: date) -> Any:
    """The memberships matching `terms` (the reviewer's, and any filters) whose owed deadline
    is past or within DUE_SOON_DAYS: one (status, date) range per owing stage of the two
    indexes; UNION drops a received case found by both."""
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    return union(
        indexed(select(*_DUE_COLUMNS).where(*terms, CaseMember.status.in_(AWAITING_ACK),
                                             CaseMember.acknowledge_due <= horizon),
                 "ix_case_members_reviewer_status_acknowledge"),
        indexed(select(*_DUE_COLUMNS).where(*terms, CaseMember.status.in_(AWAITING_FEEDBACK),
                                             CaseMember.feedback_due <= horizon),
                 "ix_case_members_reviewer_status_feedback"),
    ).subquery("due")
