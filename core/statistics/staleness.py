"""Which statistics months a transaction changed: SQLAlchemy session events mark the month
cells of core.statistics.month_cells stale when a transaction that wrote a case, a decision, a
corrective action or a follow-up commits, whichever use case wrote it.

* ``before_flush`` notes the cases written through the ORM (their ids, or their months for
  new ones) in ``session.info``.
* ``do_orm_execute`` notes a bulk INSERT, UPDATE or DELETE through the session on those
  tables (tests and repairs write so): it marks every month, as which ones is unknown.
* ``before_commit`` flushes, finds the months of the noted cases and upserts their
  ``statistics_months`` rows as stale, in month order, just before the commit: the row lock
  is held for the commit only, and waits for a recount of the month in progress
  (core.statistics.month_cells.refresh_months), so that a change is never lost between a
  count and its storing.

Statements that bypass the session (``connection.execute``, plain SQL) are not seen: call
`mark_all_stale` after them. Importing this module installs the listeners (core.db does).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from core.models import ActionUpdate, Case, CorrectiveAction, Decision, StatisticsMonth
from core.models.upsert import cast_table, conflict_insert

#: Execution options of a bulk statement that rewrites rows unchanged (core.operations.restamp):
#: it marks no month.
UNCHANGED = {"candor_statistics_unchanged": True}
_CASES = "candor.statistics.case_ids"
_MONTHS = "candor.statistics.months"
_EVERY_MONTH = "candor.statistics.every_month"
_TRACKED = (Case, Decision, CorrectiveAction, ActionUpdate)
_TRACKED_TABLES = frozenset(cast_table(model).name for model in _TRACKED)


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


@event.listens_for(Session, "before_flush")
def _note_written_cases(session: Session, _context: Any, _instances: Any) -> None:
    case_ids: set[int] = session.info.setdefault(_CASES, set())
    months: set[date] = session.info.setdefault(_MONTHS, set())
    dirty = session.dirty  # a new set at each access: taken once, not per object
    for obj in (*session.new, *dirty, *session.deleted):
        if isinstance(obj, Case):
            if obj in dirty and not session.is_modified(obj, include_collections=False):
                continue  # only a collection changed (a message appended): no statistic
            if obj.received_on is not None:
                months.add(_first_of_month(obj.received_on))
            history = inspect(obj).attrs.received_on.history
            months.update(_first_of_month(d) for d in history.deleted if d is not None)
        elif isinstance(obj, Decision | CorrectiveAction | ActionUpdate) and (
                obj.case_id is not None):
            case_ids.add(obj.case_id)


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
    session.flush()  # what the commit would flush: its cases are noted too
    case_ids: set[int] = session.info.pop(_CASES, set())
    months: set[date] = session.info.pop(_MONTHS, set())
    if session.info.pop(_EVERY_MONTH, False):
        mark_all_stale(session)
    if case_ids:
        ids = sorted(case_ids)
        for start in range(0, len(ids), 500):
            months.update(_first_of_month(d) for d in session.execute(
                select(Case.received_on).where(Case.id.in_(ids[start:start + 500]))
                .distinct()).scalars())
    if months:
        mark_stale(session, months)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_commit")
def _forget(session: Session) -> None:
    for key in (_CASES, _MONTHS, _EVERY_MONTH):
        session.info.pop(key, None)


def mark_stale(session: Session, months: set[date]) -> None:
    """Mark those months (first days) stale, in the caller's transaction, in month order.

    A month already stale is not written again (fewer row versions, and on PostgreSQL no new
    transaction id on the row to date the change by), but its row is still locked: a recount
    in progress is waited for, and the month is then marked stale again."""
    table = cast_table(StatisticsMonth)
    for month in sorted(months):
        session.execute(conflict_insert(session, table)
                        .values(month=month, stale=True)
                        .on_conflict_do_update(index_elements=["month"],
                                               set_={"stale": True},
                                               where=table.c.stale.is_(False)))


def mark_all_stale(session: Session) -> None:
    """Mark every computed month stale (after writes that bypassed the ORM)."""
    session.execute(update(StatisticsMonth).values(stale=True)
                    .execution_options(synchronize_session=False))
