"""Re-stamping: take away, from the rows reporters wrote, PostgreSQL's record of when.

Every PostgreSQL row carries `xmin`, the id of the transaction that wrote it, readable by any
role that may SELECT the table. Transaction ids grow in order, and staff audit events carry
exact times, so a reporter's message row with an xmin between two staff events is dated to
the minute. Rewriting such rows unchanged gives them the xmin of a housekeeping transaction
instead. `candor cleanup` does it daily for the periods that have ended.

The work is done in short transactions (a batch of cases with their rows; one counter or
notification mark at a time), so the console and the portal never wait long behind it.
SQLite has no such column; there the rewrite only costs a little time.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.audit.log import REPORTER_EVENT_GRACE
from core.clock import Clock
from core.models import (
    Attachment,
    Author,
    Case,
    CaseGrant,
    CaseMember,
    InboxCount,
    Message,
    PendingNotification,
    ReporterExclusion,
    StatisticsCell,
    StatisticsMonth,
    SubmissionToken,
)
from core.statistics.staleness import UNCHANGED

#: How far back a daily run reaches, so that a few missed runs lose nothing (`candor cleanup
#: --restamp-all` reaches back to the beginning, once after an upgrade or a longer gap).
RESTAMP_WINDOW = timedelta(days=14)
#: Cases (with their grants, memberships, reporter messages and files) per transaction.
BATCH_SIZE = 200
#: Sent-form rows per transaction: they name no case and no day, so every one is rewritten.
TOKEN_BATCH_SIZE = 5000

Transaction = Callable[[], AbstractContextManager[Session]]


def ended_reporter_periods(clock: Clock) -> tuple[date, date]:
    """[since, until): the dates of reporter records whose day (week) ended at least
    REPORTER_EVENT_GRACE ago, within RESTAMP_WINDOW."""
    until = clock.first_open_period(REPORTER_EVENT_GRACE)
    return until - RESTAMP_WINDOW, until


def restamp_reporter_rows(transaction: Transaction, clock: Clock, *,
                          whole_history: bool = False) -> int:
    """Rewrite, unchanged, the rows reporters wrote in ended periods (cases, their grants,
    memberships and reporter exclusions, reporter messages, attachments), every sent-form
    row, and the inbox counters, notification marks and statistics months their actions
    touched (with the cells of the months dated in those periods). `transaction()` opens one
    short transaction per batch. Returns the number of rows rewritten."""
    since, until = ended_reporter_periods(clock)
    lower = date.min if whole_history else since

    def in_period(column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        return and_(column >= lower, column < until)

    rewritten = 0
    last_id = 0
    while True:
        with transaction() as session:
            # Locked in id order, before their rows: staff transactions lock a case first too.
            ids = list(session.execute(
                select(Case.id)
                .where(Case.id > last_id,
                       or_(in_period(Case.received_on), in_period(Case.submitter_active_on)))
                .order_by(Case.id).limit(BATCH_SIZE).with_for_update()
            ).scalars())
            if not ids:
                break
            for statement in (
                update(Case).where(Case.id.in_(ids)).values(id=Case.id)
                .execution_options(**UNCHANGED),
                update(CaseGrant).where(CaseGrant.case_id.in_(ids)).values(id=CaseGrant.id),
                update(CaseMember).where(CaseMember.case_id.in_(ids))
                .values(excluded=CaseMember.excluded),
                update(ReporterExclusion).where(ReporterExclusion.case_id.in_(ids))
                .values(tag=ReporterExclusion.tag),
                update(Message).where(Message.case_id.in_(ids), Message.author == Author.SUBMITTER,
                                      in_period(Message.created_on)).values(id=Message.id),
                update(Attachment).where(Attachment.case_id.in_(ids),
                                         in_period(Attachment.created_on))
                .values(id=Attachment.id),
            ):
                rewritten += _rowcount(session.execute(statement))
            last_id = ids[-1]
    return (rewritten + _restamp_counters(transaction) + _restamp_notifications(transaction)
            + _restamp_statistics_months(transaction, lower, until)
            + _restamp_submission_tokens(transaction))


def _restamp_submission_tokens(transaction: Transaction) -> int:
    # A sent form's row is written by the transaction that creates its case (core.intake
    # .submission_tokens) and kept: with no day to select by, all of them, in key order.
    rewritten = 0
    last: bytes | None = None
    while True:
        with transaction() as session:
            query = select(SubmissionToken.token_hash).order_by(SubmissionToken.token_hash)
            if last is not None:
                query = query.where(SubmissionToken.token_hash > last)
            batch = list(session.execute(query.limit(TOKEN_BATCH_SIZE)).scalars())
            if not batch:
                return rewritten
            rewritten += _rowcount(session.execute(
                update(SubmissionToken)
                .where(SubmissionToken.token_hash.between(batch[0], batch[-1]))
                .values(token_hash=SubmissionToken.token_hash)))
            last = batch[-1]


def _restamp_counters(transaction: Transaction) -> int:
    # One row per transaction: a staff transaction bumping several counters (in the key order
    # of core.cases.inbox_counts.apply_deltas) waits at most for one tiny update.
    counts = InboxCount.__table__
    assert isinstance(counts, Table)
    key_columns = (counts.c.reviewer_id, counts.c.assigned, counts.c.status,
                   counts.c.category_id)
    with transaction() as session:
        keys = session.execute(select(*key_columns)).all()
    for key in keys:
        with transaction() as session:
            where = [column == value for column, value in zip(key_columns, key, strict=True)]
            session.execute(update(counts).where(*where).values(count=counts.c.count))
    return len(keys)


def _restamp_statistics_months(transaction: Transaction, lower: date, until: date) -> int:
    # A reporter's action dates its month's statistics (core.statistics.staleness) and, as the
    # day's first change to the month, may count its cells (core.statistics.recount.
    # hold_for_change): the cells of a month dated in an ended period are rewritten with its
    # row. One month per transaction (its row, then its few hundred cells, in the order
    # counting locks them), like the counters.
    with transaction() as session:
        months = session.execute(select(StatisticsMonth.month, StatisticsMonth.changed_on)).all()
    rewritten = 0
    for month, changed_on in months:
        with transaction() as session:
            session.execute(update(StatisticsMonth).where(StatisticsMonth.month == month)
                            .values(stale=StatisticsMonth.stale))
            rewritten += 1
            if changed_on is not None and lower <= changed_on < until:
                rewritten += _rowcount(session.execute(
                    update(StatisticsCell).where(StatisticsCell.month == month)
                    .values(count=StatisticsCell.count)
                    .execution_options(synchronize_session=False)))
    return rewritten


def _restamp_notifications(transaction: Transaction) -> int:
    # Marks stay until `candor notify` sends them (never, without SMTP).
    with transaction() as session:
        reviewer_ids = list(session.execute(select(PendingNotification.reviewer_id)).scalars())
    for reviewer_id in reviewer_ids:
        with transaction() as session:
            session.execute(update(PendingNotification)
                            .where(PendingNotification.reviewer_id == reviewer_id)
                            .values(reviewer_id=PendingNotification.reviewer_id))
    return len(reviewer_ids)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
