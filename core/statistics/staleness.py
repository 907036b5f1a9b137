"""Which statistics months a transaction changed: SQLAlchemy session events date and mark the
month cells of core.statistics.month_cells when a transaction writes a case, a decision, a
corrective action or a follow-up, whichever use case wrote it.

* ``before_flush`` finds the months of the cases written through the ORM and, the first time
  a transaction touches a month, holds it (core.statistics.recount.hold_for_change) before
  anything of the change is written: a month whose cells miss changes of earlier days is
  counted first, and the month's row is dated today, so that views show the change only from
  tomorrow. "Today" is the organisation's statistics day, the start of its reporter period
  (core.statistics.recount.statistics_day).
* ``do_orm_execute`` notes a bulk INSERT, UPDATE or DELETE through the session on those
  tables (tests and repairs write so): it marks every month, as which ones is unknown.
* ``before_commit`` flushes (its months are held too) and marks every month after a bulk
  write. Nothing else is marked at commit: the hold already dated and marked the months, and
  one found dated today needs nothing more (views do not count it today). Not locking a
  month at commit keeps the order every transaction takes locks in: a month's row first
  (at its hold, which waits for a count of the month in progress, so that no change is lost
  between a count and its storing), then the inbox counters and the audit log's head.

Statements that bypass the session (``connection.execute``, plain SQL) are not seen: call
`mark_all_stale` after them; such writes are counted at the next view, of whatever day.
Importing this module installs the listeners (core.db does).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from core.models import ActionUpdate, Case, CorrectiveAction, Decision, StatisticsMonth
from core.models.upsert import cast_table, conflict_insert
from core.statistics.recount import hold_for_change, statistics_day

#: Execution options of a bulk statement that rewrites rows unchanged (core.operations.restamp):
#: it marks no month.
UNCHANGED = {"candor_statistics_unchanged": True}
_HELD = "candor.statistics.held"  # held in the current transaction or savepoint
_DAY = "candor.statistics.day"
_EVERY_MONTH = "candor.statistics.every_month"
_TRACKED = (Case, Decision, CorrectiveAction, ActionUpdate)
_TRACKED_TABLES = frozenset(cast_table(model).name for model in _TRACKED)


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


@event.listens_for(Session, "before_flush")
def _hold_written_months(session: Session, _context: Any, _instances: Any) -> None:
    written: set[date] = set()
    case_ids: set[int] = set()
    dirty = session.dirty  # a new set at each access: taken once, not per object
    for obj in (*session.new, *dirty, *session.deleted):
        if isinstance(obj, Case):
            if obj in dirty and not session.is_modified(obj, include_collections=False):
                continue  # only a collection changed (a message appended): no statistic
            if obj.received_on is not None:
                written.add(_first_of_month(obj.received_on))
            history = inspect(obj).attrs.received_on.history
            written.update(_first_of_month(d) for d in history.deleted if d is not None)
        elif isinstance(obj, Decision | CorrectiveAction | ActionUpdate) and (
                obj.case_id is not None):
            case_ids.add(obj.case_id)
    ids = sorted(case_ids)
    for start in range(0, len(ids), 500):  # the cases are stored: their months are too
        written.update(_first_of_month(d) for d in session.execute(
            select(Case.received_on).where(Case.id.in_(ids[start:start + 500]))
            .distinct()).scalars())
    _hold(session, written)


def hold_case_month(session: Session, case: Case) -> None:
    """Hold the month of `case` as its first change of the day would, now: call it where a
    use case locks a case it is about to change, before the audit log's head. A month's row
    is then always locked before the head (the order of a change flushed before its audit
    event), and two staff transactions cannot deadlock on the two."""
    if case.received_on is not None:
        _hold(session, {_first_of_month(case.received_on)})


def _hold(session: Session, written: set[date]) -> None:
    """Hold the months of this transaction not held yet; the day of the first hold is the day
    its changes are dated (a transaction flushed before midnight and committed after it is
    dated by its flush)."""
    held: set[date] = session.info.setdefault(_HELD, set())
    if not written - held:
        return
    day = session.info.setdefault(_DAY, statistics_day(session))
    hold_for_change(session, written - held, day)
    held.update(written)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if state.execution_options.get("candor_statistics_unchanged"):
        return
    tables = {mapper.local_table.name for mapper in state.all_mappers
              if hasattr(mapper.local_table, "name")}
    if tables & _TRACKED_TABLES:
        state.session.info[_EVERY_MONTH] = True


@event.listens_for(Session, "before_commit")
def _mark_changed_months(session: Session) -> None:
    session.flush()  # what the commit would flush: its months are held too
    if session.info.pop(_EVERY_MONTH, False):
        mark_all_stale(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_held(session: Session, previous: Any) -> None:
    # A savepoint rolled back undoes the holds made in it: the next flush holds again (a
    # month held before the savepoint reads as marked today).
    if previous.nested:
        session.info.pop(_HELD, None)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    # Only at the end of the whole transaction: a savepoint's release or rollback fires the
    # commit and rollback events too.
    if transaction.parent is None and not transaction.nested:
        for key in (_EVERY_MONTH, _HELD, _DAY):
            session.info.pop(key, None)


def mark_stale(session: Session, months: set[date], today: date) -> None:
    """Mark those months (first days) stale and changed `today`, in the caller's transaction,
    in month order (for repairs, tests and benches: the use cases' changes are held instead,
    core.statistics.recount.hold_for_change).

    A month already so marked is not written again (fewer row versions, and on PostgreSQL no
    new transaction id on the row to date the change by), but its row is still locked: a
    count in progress is waited for, and the month is then marked stale again."""
    table = cast_table(StatisticsMonth)
    for month in sorted(months):
        session.execute(conflict_insert(session, table)
                        .values(month=month, stale=True, changed_on=today)
                        .on_conflict_do_update(
                            index_elements=["month"],
                            set_={"stale": True, "changed_on": today},
                            where=or_(table.c.stale.is_(False), table.c.changed_on.is_(None),
                                      table.c.changed_on < today)))


def mark_all_stale(session: Session) -> None:
    """Mark every counted month stale (after writes that bypassed the ORM). Their day is
    unknown, so each month is counted at the next view, or on the next day if a change
    through the ORM already dated it today. Repairs and tests write so, not the use cases
    that reporters' actions go through."""
    session.execute(update(StatisticsMonth).values(stale=True)
                    .execution_options(synchronize_session=False))
