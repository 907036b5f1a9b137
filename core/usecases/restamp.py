"""Re-stamping: take away, from the rows reporters wrote, PostgreSQL's record of when.

Every PostgreSQL row carries `xmin`, the id of the transaction that wrote it, readable by any
role that may SELECT the table. Transaction ids grow in order, and staff audit events carry
exact times, so a reporter's message row with an xmin between two staff events is dated to
the minute. Rewriting such rows unchanged gives them the xmin of this (housekeeping)
transaction instead. `candor cleanup` does it daily for the periods that have ended.

SQLite has no such column; there the rewrite only costs a little time.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from core.audit import REPORTER_EVENT_GRACE
from core.clock import Clock
from core.models import Attachment, Author, Case, CaseGrant, CaseMember, InboxCount, Message

#: How far back each run reaches, so that a few missed daily runs lose nothing.
RESTAMP_WINDOW = timedelta(days=14)


def ended_reporter_periods(clock: Clock) -> tuple[date, date]:
    """[since, until): the dates of reporter records whose day (week) ended at least
    REPORTER_EVENT_GRACE ago, within RESTAMP_WINDOW."""
    until = clock.precision.start_of((clock.now() - REPORTER_EVENT_GRACE).date())
    return until - RESTAMP_WINDOW, until


def restamp_reporter_rows(session: Session, clock: Clock) -> int:
    """Rewrite, unchanged, the rows reporters wrote in recently ended periods (cases, their
    grants and memberships, reporter messages, attachments) and the inbox counters they
    bumped. Returns the number of rows rewritten."""
    since, until = ended_reporter_periods(clock)
    received = select(Case.id).where(Case.received_on >= since, Case.received_on < until)
    rewritten = 0
    statements = [
        update(Case).where(or_(
            Case.received_on.between(since, until - timedelta(days=1)),
            Case.submitter_active_on.between(since, until - timedelta(days=1)),
        )).values(id=Case.id),
        update(CaseGrant).where(CaseGrant.case_id.in_(received)).values(id=CaseGrant.id),
        update(CaseMember).where(CaseMember.case_id.in_(received))
        .values(excluded=CaseMember.excluded),
        update(Message).where(Message.author == Author.SUBMITTER, Message.created_on >= since,
                              Message.created_on < until).values(id=Message.id),
        update(Attachment).where(Attachment.created_on >= since, Attachment.created_on < until)
        .values(id=Attachment.id),
    ]
    for statement in statements:
        rewritten += int(getattr(session.execute(statement), "rowcount", 0) or 0)
    rewritten += _restamp_inbox_counts(session)
    return rewritten


def _restamp_inbox_counts(session: Session) -> int:
    # One row at a time, in the key order of core.inbox_counts.apply_deltas: a concurrent
    # staff transaction bumping counters then never waits on this one in the opposite order.
    counts = InboxCount.__table__
    assert isinstance(counts, Table)
    keys = session.execute(select(counts.c.reviewer_id, counts.c.assigned, counts.c.status,
                                  counts.c.category_id)).all()
    for reviewer_id, assigned, status, category_id in sorted(
            keys, key=lambda k: (k[0], k[1], str(k[2]), k[3])):
        session.execute(update(counts).where(
            counts.c.reviewer_id == reviewer_id, counts.c.assigned == assigned,
            counts.c.status == status, counts.c.category_id == category_id,
        ).values(count=counts.c.count))
    return len(keys)
