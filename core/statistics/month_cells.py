"""The statistics' month cells: every fact the dashboard counts, per month of receipt, counted
once from the clear columns and kept (core.models.statistics), so that a view reads a few
dozen rows per month however many cases the months hold.

A case contributes, in the month it was received:

* ``cases`` (key ""), ``channel``, ``scope`` (its scope decision or PENDING), ``answer`` (its
  satisfaction answer or NO_ANSWER);
* for each deadline (``ack``, ``feedback``): ON_TIME or LATE and ``<deadline>_days`` (whole
  days from receipt) once met; while still owed, ``<deadline>_open_due`` keyed by the due day,
  so that "overdue" is decided by the day of the view, not of the count; else NOT_OWED;
* of its latest decision: ``finding`` and ``cause`` (NO_DECISION without one, UNSPECIFIED
  without a root cause), one ``sanction`` and one ``recognition`` per type;
* per corrective action: ``action`` DONE_ON_TIME or DONE_LATE, or ``action_open_due`` keyed by
  its due day.

Measures with many keys (days taken, due days: HISTOGRAMS) are stored as one row per month
holding every key with its count, so that a busier month is not more rows. Each fact is
counted for the whole month (level 0); the cases also per category (level 1), for the grid of
categories by month. (Levels 2 and 3, per channel and per category and channel, served the
dashboard's filters until 2026-12-07: core.statistics.year_views says why they went. A month
counted before keeps them until it is counted again; nothing reads them.)

A month is counted again from its cases when a view finds it stale, but not on the day of
its latest change: core.statistics.recount says when and why (the figures stand as of the
start of today), core.statistics.staleness how changes are noticed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Integer, and_, case, cast, extract, func, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from core.cases.inbox_deadlines import AWAITING_ACK, AWAITING_FEEDBACK
from core.models import (
    ActionStatus,
    Case,
    CorrectiveAction,
    Decision,
    StatisticsCell,
)
from core.statistics.periods import Period

#: Row keys besides the enum values and category codes (none of them can be a category code).
PENDING = "pending"          # no scope decision yet
NO_DECISION = "no_decision"  # no decision recorded
UNSPECIFIED = "unspecified"  # a decision without a root cause
NO_ANSWER = "no_answer"      # the reporter gave no satisfaction answer
ON_TIME, LATE, OVERDUE, NOT_DUE, NOT_OWED = "on_time", "late", "overdue", "not_due", "not_owed"
DONE_ON_TIME, DONE_LATE, OPEN_OVERDUE, OPEN_NOT_DUE = (
    "done_on_time", "done_late", "open_overdue", "open_not_due")
_OPEN = "open"

#: The levels of a cell: the whole month, or its cases per category.
ALL_CASES, PER_CATEGORY = 0, 1
#: The unused dimensions of a cell.
ANY_CATEGORY, ANY_CHANNEL = -1, ""
#: A case without a category, as a cell's category.
NO_CATEGORY_ID = 0
#: Measures with many keys (days, due days): one cell per month holds all of them, key
#: HISTOGRAM and `histogram` "key:count;key:count...", so that a busier month (more distinct
#: values) does not mean more rows to read.
HISTOGRAMS = frozenset({"ack_days", "feedback_days", "ack_open_due", "feedback_open_due",
                        "action_open_due"})
HISTOGRAM = "*"


#: One counted fact of a month, before it is spread over the levels: (month, category id,
#: channel, measure, key). A plain tuple: a recount makes one per group of cases and fact.
Fact = tuple[date, int, str, str, str]


class CellKey(NamedTuple):
    """A stored cell's key."""

    month: date
    level: int
    category_id: int
    channel: str
    measure: str
    key: str


def _days(later: Any, earlier: Any, dialect: str) -> ColumnElement[int]:
    """Whole days from `earlier` to `later`, computed by the database."""
    if dialect == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return cast(later - earlier, Integer)  # PostgreSQL: date - date is an integer


def latest_decisions(dialect: str) -> tuple[Any, Any, tuple[Any, ...]]:
    """(what to join to cases, the ON clause, its finding, root cause, sanction and
    recognition columns) for the latest version of each case's decision. PostgreSQL: a
    LATERAL subquery, one index lookup per case (its planner would anti-join the whole
    decisions table for NOT EXISTS); SQLite runs the NOT EXISTS per case by itself."""
    fields = (Decision.finding, Decision.root_cause, Decision.sanction_types,
              Decision.recognition_types)
    if dialect == "postgresql":
        latest = (select(*fields).where(Decision.case_id == Case.id)
                  .order_by(Decision.version.desc()).limit(1).lateral())
        return latest, true(), tuple(latest.c)
    later = aliased(Decision)
    newest = ~select(later.id).where(later.case_id == Decision.case_id,
                                     later.version > Decision.version).exists()
    return Decision, and_(Decision.case_id == Case.id, newest), fields


def _deadline(done: Any, due: Any, owed: Iterable[Any], dialect: str) -> tuple[Any, Any, Any]:
    """(state: ON_TIME, LATE, open or NOT_OWED; whole days from receipt once met; the due day
    while still owed) of one deadline of a case."""
    stages = list(owed)
    state = case((and_(done.is_not(None), done <= due), ON_TIME), (done.is_not(None), LATE),
                 (Case.status.in_(stages), _OPEN), else_=NOT_OWED)
    days = case((done.is_not(None), _days(done, Case.received_on, dialect)))
    open_due = case((and_(done.is_(None), Case.status.in_(stages)), due))
    return state, days, open_due


def _window(months: Sequence[date]) -> list[ColumnElement[bool]]:
    """Cases received in the calendar months starting on `months` (one range of days)."""
    first, last = min(months), max(months)
    after = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return [Case.received_on >= first, Case.received_on < after]


def _month_of(year: Any, month: Any) -> date:
    return date(int(year), int(month), 1)


def _case_facts(session: Session, window: list[ColumnElement[bool]],
                dialect: str) -> Iterable[tuple[Fact, int]]:
    """One query: the facts of the cases themselves (counts, scope, answer, deadlines)."""
    ack = _deadline(Case.acknowledged_on, Case.acknowledge_due, AWAITING_ACK, dialect)
    fb = _deadline(Case.feedback_given_on, Case.feedback_due, AWAITING_FEEDBACK, dialect)
    # Grouped over a subquery: PostgreSQL would not match the CASE expressions of the select
    # list to those of GROUP BY, whose parameters are bound separately.
    inner = select(
        extract("year", Case.received_on).label("y"), extract("month", Case.received_on)
        .label("m"), Case.category_id.label("c"), Case.channel.label("h"),
        Case.scope_decision.label("s"), Case.satisfaction.label("a"),
        ack[0].label("as"), ack[1].label("ad"), ack[2].label("ao"),
        fb[0].label("fs"), fb[1].label("fd"), fb[2].label("fo")).where(*window).subquery()
    columns = list(inner.c)
    for y, m, cat, channel, scope, answer, a_state, a_days, a_due, f_state, f_days, f_due, n in (
            session.execute(select(*columns, func.count()).group_by(*columns))):
        base = (_month_of(y, m), int(cat) if cat is not None else NO_CATEGORY_ID, str(channel))
        yield (*base, "cases", ""), n
        yield (*base, "channel", str(channel)), n
        yield (*base, "scope", str(scope) if scope is not None else PENDING), n
        yield (*base, "answer", str(answer) if answer is not None else NO_ANSWER), n
        for name, state, days, due in (("ack", a_state, a_days, a_due),
                                       ("feedback", f_state, f_days, f_due)):
            if state == _OPEN:
                yield (*base, f"{name}_open_due", _iso(due)), n
            else:
                yield (*base, name, str(state)), n
            if days is not None:
                yield (*base, f"{name}_days", str(int(days))), n


def _iso(day: Any) -> str:
    """A date from the database (SQLite may hand back a string) as YYYY-MM-DD."""
    return day.isoformat() if isinstance(day, date) else str(day)[:10]


def _decision_facts(session: Session, window: list[ColumnElement[bool]],
                    dialect: str) -> Iterable[tuple[Fact, int]]:
    """One query: the clear fields of each case's latest decision."""
    joined, on, fields = latest_decisions(dialect)
    y, m = extract("year", Case.received_on), extract("month", Case.received_on)
    keys = (y, m, Case.category_id, Case.channel, *fields)
    rows: Iterable[Any] = session.execute(select(*keys, func.count()).select_from(Case)
                                          .outerjoin(joined, on).where(*window).group_by(*keys))
    for year, month, cat, channel, finding, cause, sanctions, recognitions, n in rows:
        base = (_month_of(year, month), int(cat) if cat is not None else NO_CATEGORY_ID,
                str(channel))
        if finding is None:
            yield (*base, "finding", NO_DECISION), n
            yield (*base, "cause", NO_DECISION), n
            continue
        yield (*base, "finding", str(finding)), n
        yield (*base, "cause", str(cause) if cause is not None else UNSPECIFIED), n
        for measure, kinds in (("sanction", sanctions), ("recognition", recognitions)):
            for kind in sorted({k.strip() for k in (kinds or "").split(",") if k.strip()}):
                yield (*base, measure, kind), n


def _action_facts(session: Session, window: list[ColumnElement[bool]]) -> Iterable[
        tuple[Fact, int]]:
    """One query: corrective actions of the cases, done (on time or late) or open by due."""
    action = CorrectiveAction
    done = action.status == ActionStatus.DONE
    state = case((and_(done, action.done_on.is_not(None), action.done_on <= action.due_on),
                  DONE_ON_TIME), (done, DONE_LATE), else_=_OPEN)
    open_due = case((~done, action.due_on))
    inner = (select(extract("year", Case.received_on).label("y"),
                    extract("month", Case.received_on).label("m"),
                    Case.category_id.label("c"), Case.channel.label("h"),
                    state.label("s"), open_due.label("d"))
             .join(Case, Case.id == action.case_id).where(*window).subquery())
    columns = list(inner.c)
    rows: Iterable[Any] = session.execute(select(*columns, func.count()).group_by(*columns))
    for y, m, cat, channel, action_state, due, n in rows:
        base = (_month_of(y, m), int(cat) if cat is not None else NO_CATEGORY_ID, str(channel))
        if action_state == _OPEN:
            yield (*base, "action_open_due", _iso(due)), n
        else:
            yield (*base, "action", str(action_state)), n


def count_months(session: Session, months: Sequence[date]) -> Counter[CellKey]:
    """The cells of the calendar months starting on `months`, counted from the clear
    columns (three queries): every fact at every level. Nothing is stored."""
    dialect = session.get_bind().dialect.name
    wanted = set(months)
    window = _window(months)
    facts: Counter[tuple[date, int, str, str, str]] = Counter()
    for found in (_case_facts(session, window, dialect),
                  _decision_facts(session, window, dialect), _action_facts(session, window)):
        for fact, n in found:
            facts[fact] += int(n)
    cells: Counter[CellKey] = Counter()
    for (month, category_id, _channel, measure, key), n in facts.items():
        if month not in wanted:
            continue  # a month inside the window that is not being recounted
        cells[CellKey(month, ALL_CASES, ANY_CATEGORY, ANY_CHANNEL, measure, key)] += n
        if measure == "cases":
            cells[CellKey(month, PER_CATEGORY, category_id, ANY_CHANNEL, measure, key)] += n
    return cells


def cell_rows(cells: Counter[CellKey]) -> list[dict[str, Any]]:
    """The rows to store: one per plain cell, one per histogram (HISTOGRAMS)."""
    rows: list[dict[str, Any]] = []
    histograms: dict[tuple[date, int, int, str, str], list[str]] = {}
    for key, n in sorted(cells.items()):
        if not n:
            continue
        if key.measure in HISTOGRAMS:
            histograms.setdefault(key[:5], []).append(f"{key.key}:{n}")
        else:
            rows.append(key._asdict() | {"count": n, "histogram": None})
    for (month, level, category_id, channel, measure), parts in histograms.items():
        rows.append({"month": month, "level": level, "category_id": category_id,
                     "channel": channel, "measure": measure, "key": HISTOGRAM,
                     "count": sum(int(p.rsplit(":", 1)[1]) for p in parts),
                     "histogram": ";".join(parts)})
    return rows


class MonthCells(NamedTuple):
    """One month's cells as the dashboard reads them: {measure: {key: count}} of all its
    cases (histograms spread out), and its cases per category id (NO_CATEGORY_ID: none)."""

    blocks: defaultdict[str, Counter[str]]
    by_category: Counter[int]


def read_months(session: Session, months: Sequence[Period]) -> dict[str, MonthCells]:
    """The cells of each of `months` (calendar months) as stored, by month label ("2026-11"):
    every month of a year in two queries, each one range of an index per month. Refresh them
    first (core.statistics.recount.refresh_months)."""
    starts = [m.start for m in months]
    found = {m.label: MonthCells(defaultdict(Counter), Counter()) for m in months}
    cell = StatisticsCell
    for month, measure, key, count, histogram in session.execute(
            select(cell.month, cell.measure, cell.key, cell.count, cell.histogram).where(
                cell.level == ALL_CASES, cell.category_id == ANY_CATEGORY,
                cell.channel == ANY_CHANNEL, cell.month.in_(starts))):
        counts = found[_label(month)].blocks[measure]
        if histogram is None:
            counts[key] += count
            continue
        for part in histogram.split(";"):
            value, _colon, n = part.rpartition(":")
            counts[value] += int(n)
    for month, category_id, count in session.execute(
            select(cell.month, cell.category_id, cell.count).where(
                cell.measure == "cases", cell.level == PER_CATEGORY,
                cell.channel == ANY_CHANNEL, cell.month.in_(starts))):
        found[_label(month)].by_category[int(category_id)] += count
    return found


def _label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_counts(session: Session, months: Sequence[date],
                 key: str) -> list[tuple[date, int, str, int]]:
    """Exact counts per month (first days) as stored, for the early-warning rule (refresh
    them first: core.statistics.recount.refresh_months):
    "category": (month, category id, "", cases) for every category with cases;
    "root_cause": (month, -1, root cause, cases) for decided cases with a root cause."""
    cell = StatisticsCell
    if key == "category":
        where = [cell.level == PER_CATEGORY, cell.measure == "cases"]
    else:
        where = [cell.level == ALL_CASES, cell.measure == "cause",
                 cell.key.not_in((NO_DECISION, UNSPECIFIED))]
    return [(month, int(category_id), str(fact_key), int(count))
            for month, category_id, fact_key, count in session.execute(
                select(cell.month, cell.category_id, cell.key, cell.count)
                .where(cell.month.in_(list(months)), *where))]
