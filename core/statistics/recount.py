"""When a month's cells are counted again: so that the figures stand as of the start of today.

A page that recounted a month at the first view after any change would let whoever reloads it
date a new report, or a reporter's answer, to within minutes. The rest of Candor dates
reporters to the day (core.clock), and so do the statistics:

* A change to a month's cases dates the month's row with the organisation's day
  (`changed_on`). Just before the first change of a day is written (`hold_for_change`, from
  core.statistics.staleness), a month whose cells miss changes of earlier days is counted, so
  its cells then stand exactly as of the start of that day.
* A view (`refresh_months`) counts a month again only if it was never counted, or is stale and
  its latest change was on an earlier day (or on no known day: months counted before
  migration 0021, and writes that bypassed the ORM). A month changed today keeps its cells:
  today's changes show from tomorrow, whenever the page is looked at.

So two views of one day show the same figures, and the figures of two days differ by whole
days of changes, never by when somebody looked. Locks (PostgreSQL): counting takes the
month's row exclusively, as dating it does; a change to a month already dated today takes it
shared, to its commit. So a count waits for every change in flight (one across midnight
too), and a change waits for a count in progress: none is lost between a count and its
storing. Every transaction takes a month's row before the inbox counters and the audit head.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from core.clock import utc_now
from core.models import StatisticsCell, StatisticsMonth
from core.models.upsert import cast_table, conflict_insert
from core.statistics.month_cells import cell_rows, count_months

_MONTHS = cast_table(StatisticsMonth)
_CELLS = cast_table(StatisticsCell)
#: Key of `Session.info` holding a callable that gives the organisation's statistics day
#: (core.clock.Clock.statistics_day; core.db.make_session_factory puts it there).
STATISTICS_DAY = "candor.statistics_day"


def statistics_day(session: Session, default: date | None = None) -> date:
    """The first day whose changes the figures do not count yet: the start of the
    organisation's current reporter period (its day, or its week's Monday), as the session
    was given it; without one (tests, benches), `default`, else today in UTC. Writers date
    their changes with it and views count the changes dated before it."""
    source: Callable[[], date] | None = session.info.get(STATISTICS_DAY)
    if source is not None:
        return source()
    return default or utc_now().date()


def _countable(row: tuple[bool, date | None] | None, today: date) -> bool:
    """Whether a month (its `stale` and `changed_on`, None without a row) may be counted now
    without counting a change made today."""
    if row is None:
        return True  # never counted: every ORM change since 0021 gives the month a row
    return row[0] and _dated_before(row, today)


def _dated_before(row: tuple[bool, date | None] | None, today: date) -> bool:
    """Whether a month (as `_countable` takes it) was last changed before `today`, or on no
    known day."""
    changed_on = row[1] if row is not None else None
    return changed_on is None or changed_on < today


def _marked(row: tuple[bool, date | None] | None, today: date) -> bool:
    """Whether a month is stale and dated `today` (or later): no view counts it before the
    next day, so a change to it needs nothing more."""
    return row is not None and row[0] and not _dated_before(row, today)


def _rows(session: Session, months: list[date], *, lock: bool,
          shared: bool = False) -> dict[date, tuple[bool, date | None]]:
    query = (select(StatisticsMonth.month, StatisticsMonth.stale, StatisticsMonth.changed_on)
             .where(StatisticsMonth.month.in_(months)).order_by(StatisticsMonth.month))
    if lock:
        query = query.with_for_update(read=shared)
    return {month: (bool(stale), changed_on)
            for month, stale, changed_on in session.execute(query)}


def _insert_missing(session: Session, months: list[date]) -> None:
    session.execute(conflict_insert(session, _MONTHS)
                    .values([{"month": m, "stale": True, "changed_on": None} for m in months])
                    .on_conflict_do_nothing(index_elements=["month"]))


def _count(session: Session, months: list[date]) -> None:
    """Replace the cells of `months` with a count of their cases as they stand now."""
    cells = count_months(session, months)
    session.execute(delete(StatisticsCell).where(StatisticsCell.month.in_(months))
                    .execution_options(synchronize_session=False))
    rows = cell_rows(cells)
    for start in range(0, len(rows), 5000):
        session.execute(_CELLS.insert(), rows[start:start + 5000])
    session.execute(update(StatisticsMonth).where(StatisticsMonth.month.in_(months))
                    .values(stale=False).execution_options(synchronize_session=False))


def refresh_months(session: Session, months: Iterable[date], today: date) -> int:
    """Count those of `months` (first days) that were never counted or are stale with no
    change today, in the caller's transaction; how many were. A view of counted months reads
    one row per month and writes nothing."""
    wanted = sorted(set(months))
    if not wanted:
        return 0
    kept = _rows(session, wanted, lock=False)
    if not any(_countable(kept.get(m), today) for m in wanted):
        return 0
    # Rows for the months never counted, then every row locked in month order (a writer
    # marking one waits until these cells are committed, and marks it stale again after).
    _insert_missing(session, wanted)
    locked = _rows(session, wanted, lock=True)
    due = [m for m in wanted if _countable(locked.get(m), today)]
    if due:
        _count(session, due)
    return len(due)


def hold_for_change(session: Session, months: Iterable[date], today: date) -> None:
    """Before a change to cases of `months` is written (nothing of it may be flushed yet):
    count those whose cells miss changes of earlier days, so that they stand as of the start
    of `today`, and date the months' change `today`. Months already changed today cost two
    reads, the second locking their rows shared: their cells already stand as of the start
    of the day."""
    wanted = sorted(set(months))
    if not wanted:
        return
    kept = _rows(session, wanted, lock=False)
    # A month already marked today needs nothing but a shared lock on its row (PostgreSQL),
    # held to the commit: a count of it, on a day after (a transaction crossing midnight),
    # then waits for this change instead of missing it. Writers' shared locks do not wait on
    # one another; a count's exclusive lock waits for them all.
    marked = [m for m in wanted if _marked(kept.get(m), today)]
    if marked:
        still = _rows(session, marked, lock=True, shared=True)
        marked = [m for m in marked if _marked(still.get(m), today)]
    new_today = [m for m in wanted if m not in marked]
    if not new_today:
        return
    _insert_missing(session, new_today)
    locked = _rows(session, new_today, lock=True)
    due = [m for m in new_today if _countable(locked.get(m), today)]
    if due:
        _count(session, due)
    session.execute(update(StatisticsMonth).where(
        StatisticsMonth.month.in_(new_today),
        or_(StatisticsMonth.stale.is_(False), StatisticsMonth.changed_on.is_(None),
            StatisticsMonth.changed_on < today))
        .values(stale=True, changed_on=today).execution_options(synchronize_session=False))
