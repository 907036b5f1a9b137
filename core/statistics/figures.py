"""The dashboard's figures for one period (issue #16), from clear columns only.

Everything here is read from the columns kept in clear for statistics (dates at day
precision, category, channel, stage, scope decision, satisfaction, the findings, root causes
and sanction and recognition types of decisions, the due dates and states of corrective
actions); nothing is decrypted and no case key is touched.

Cost: the figures are added up from the month cells of core.statistics.month_cells (counts
per month of receipt, kept and recomputed only for months whose cases changed, and only on a
later day: core.statistics.recount), not from the cases: a view reads at most a few hundred
rows per month of its period, however many cases it covers. `dashboard_figures` runs three
queries on clean months (the categories, the view's cells, the grid's cells) and one to see
which are stale; a stale month costs three more that read its cases once, and the writing of
its cells.

Every figure leaves as a suppressed `Cell` (core.statistics.suppression); a view whose total
is below 3 cases shows only that total ("<3" or "0").

Every table of a view is added up from the same cells, so its rows always add up to the
view's total. Months recomputed under PostgreSQL's default isolation (read committed) may
miss a change committed while they were counted; that change marked the month stale again,
and the next view counts it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import utc_now
from core.models import Category, RootCause, Satisfaction
from core.statistics.month_cells import (
    DONE_LATE,
    DONE_ON_TIME,
    LATE,
    NO_ANSWER,
    NO_CATEGORY_ID,
    NO_DECISION,
    NOT_DUE,
    NOT_OWED,
    ON_TIME,
    OPEN_NOT_DUE,
    OPEN_OVERDUE,
    OVERDUE,
    PENDING,
    UNSPECIFIED,
    month_counts,
)
from core.statistics.periods import Period, months_in
from core.statistics.recount import refresh_months, statistics_day
from core.statistics.suppression import (
    HIDDEN,
    MIN_CASES_P90,
    MIN_COUNT,
    TOO_FEW_P90,
    Cell,
    Grid,
    Table,
    share_cell,
    statistic_cell,
)
from core.statistics.year_views import (
    ACTION_ROWS,
    DEADLINE_ROWS,
    OVERLAPPING,
    PARTITIONS,
    YearViews,
    figure_key,
    year_views,
)

#: Row keys besides the enum values and category codes (none of them can be a category code).
NO_CATEGORY = "(none)"
__all__ = ["ACTION_ROWS", "DEADLINE_ROWS", "DONE_LATE", "DONE_ON_TIME", "LATE", "NOT_DUE",
           "NOT_OWED", "NO_ANSWER", "NO_CATEGORY", "NO_DECISION", "ON_TIME", "OPEN_NOT_DUE",
           "OPEN_OVERDUE", "OVERDUE", "PENDING", "UNSPECIFIED", "Deadline", "Details",
           "Durations", "Figures", "dashboard_figures", "monthly_counts", "percentile"]


@dataclass(frozen=True, slots=True)
class Durations:
    """Whole days from receipt to an event, over the cases that reached it: the median and
    the 90th percentile (nearest rank), "n<3" over fewer than 3 cases ("n<10" for the 90th
    percentile over fewer than 10), "x" both when the deadline's on-time or late count is
    hidden."""

    median: Cell
    p90: Cell


@dataclass(frozen=True, slots=True)
class Deadline:
    """How a deadline went. `table`: cases met on time, late, still open past the deadline,
    open and not yet due, and not owed (the case ended without it: referred, not admissible,
    closed); the rows add up to the view's cases. `share_met`: on time / (on time + late +
    overdue), open overdue cases counting as missed."""

    table: Table
    share_met: Cell


@dataclass(frozen=True, slots=True)
class Details:
    """The blocks of a view with at least 3 cases. Tables are keyed by codes (enum values,
    category codes and the constants of this module); the view names them. Counts are of
    cases, except `actions` (corrective actions of the view's cases)."""

    #: Rows: category codes in display order (and NO_CATEGORY if any case has none);
    #: columns: months of the period ("2026-11").
    by_category_month: Grid
    by_channel: Table               # Channel values
    by_scope: Table                 # ScopeDecision values and PENDING
    by_finding: Table               # latest decision version: Finding values and NO_DECISION
    by_root_cause: Table            # RootCause values, UNSPECIFIED and NO_DECISION
    by_sanction: Table              # SanctionType values; a case may count in several rows
    by_recognition: Table           # RecognitionType values; idem
    time_to_acknowledge: Durations
    time_to_feedback: Durations     # to the first feedback (the outcome)
    acknowledgement: Deadline
    feedback: Deadline
    actions: Table                  # ACTION_ROWS, total = the actions of the view's cases
    actions_share_on_time: Cell     # done on time / (done + open overdue)
    satisfaction: Table             # SATISFIED, NOT_SATISFIED, NO_ANSWER
    share_satisfied: Cell           # satisfied / those who answered


@dataclass(frozen=True, slots=True)
class Figures:
    """The dashboard of one view: cases received in `period`. `details` is None when the view
    has fewer than 3 cases, or when its number is hidden ("x": another period's "<3" could
    be worked out from it, core.statistics.year_views): then only `total` may be shown
    ("<3", "0" or "x"). `as_of`: the changes made before this day are counted
    (core.statistics.recount)."""

    period: Period
    today: date
    total: Cell
    details: Details | None
    as_of: date


def _category_ids(session: Session) -> list[tuple[int, str, bool]]:
    """(id, code, active) of every category, in display order."""
    rows = session.execute(select(Category.id, Category.code, Category.active)
                           .order_by(Category.position, Category.id))
    return [(int(i), str(code), bool(active)) for i, code, active in rows]


def percentile(histogram: Counter[int], percent: int) -> int | None:
    """The nearest-rank `percent` percentile (1-100) of values given as {value: how many}:
    the smallest value with at least `percent` % of the values at or below it; None if
    there are none. The median is the 50th (the lower middle value of an even count)."""
    n = sum(histogram.values())
    if n == 0:
        return None
    rank, seen = max(1, -(-percent * n // 100)), 0  # ceil in integers: no float rounding
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable")


def _durations(histogram: Counter[int], parts: Sequence[Cell]) -> Durations:
    """Median and 90th percentile of the days in `histogram`; both "x" when one of `parts`
    (the on-time and late counts the days are of) is hidden: a deadline splits the days, so
    where the percentiles fall would tell a hidden "<3" (second reader: the 90th percentile
    was 2 days with one late case and 9 with two). The 90th percentile needs
    MIN_CASES_P90 cases: below, it is one case's own figure, the slowest."""
    n = sum(histogram.values())
    if any(part.suppressed for part in parts):  # before "n<3": that would bound them too
        return Durations(Cell(None, HIDDEN), Cell(None, HIDDEN))
    p90 = (statistic_cell(percentile(histogram, 90), n) if n >= MIN_CASES_P90
           else Cell(None, TOO_FEW_P90))
    return Durations(statistic_cell(percentile(histogram, 50), n), p90)


def _table(year: YearViews, label: str, measure: str, rows: Sequence[str],
           total: tuple[str, str, str] | None) -> Table:
    """A table of the view `label` as the year's linked figures show it."""
    figures = year.figures
    return Table(tuple((row, figures.cell(figure_key(label, measure, row))) for row in rows),
                 figures.cell(total) if total is not None else None)


def _deadline_block(year: YearViews, label: str, name: str) -> tuple[Deadline, Durations]:
    """How one deadline went in the view: met, missed, open by due day, not owed."""
    counts = year.counts[label].counts[name]
    table = _table(year, label, name, DEADLINE_ROWS, (label, "cases", ""))
    missed_or_met = counts[ON_TIME] + counts[LATE] + counts[OVERDUE]
    share = share_cell(counts[ON_TIME], missed_or_met,
                       [table[ON_TIME], table[LATE], table[OVERDUE]])
    histogram = year.counts[label].days.get(f"{name}_days", Counter())
    return Deadline(table, share), _durations(histogram, [table[ON_TIME], table[LATE]])


def _actions(year: YearViews, label: str) -> tuple[Table, Cell]:
    """Corrective actions of the view's cases by outcome."""
    counts = year.counts[label].actions
    table = _table(year, label, "action", ACTION_ROWS, (label, "actions", ""))
    due = counts[DONE_ON_TIME] + counts[DONE_LATE] + counts[OPEN_OVERDUE]
    share = share_cell(counts[DONE_ON_TIME], due,
                       [table[DONE_ON_TIME], table[DONE_LATE], table[OPEN_OVERDUE]])
    return table, share


def _grid(year: YearViews, period: Period, categories: list[tuple[int, str, bool]]) -> Grid:
    """Cases by category and month: active categories, and any other with cases in the
    period's year; "(none)" if a case of the year has no category. The same rows in every
    view of the year: a row left out where it has no case would tell a 0 that another view
    hides (second reader)."""
    label, figures = period.label, year.figures
    counts = year.counts[str(period.start.year)].by_category
    rows = [(code, cid) for cid, code, active in categories if active or counts[cid]]
    if counts[NO_CATEGORY_ID]:
        rows.append((NO_CATEGORY, NO_CATEGORY_ID))
    columns = [m.label for m in months_in(period)]
    return Grid(
        row_keys=tuple(code for code, _cid in rows), column_keys=tuple(columns),
        cells=tuple(tuple(figures.cell((month, "category", str(cid))) for month in columns)
                    for _code, cid in rows),
        row_totals=tuple(figures.cell((label, "category", str(cid))) for _code, cid in rows),
        column_totals=tuple(figures.cell((month, "cases", "")) for month in columns),
        total=figures.cell((label, "cases", "")))


def dashboard_figures(session: Session, period: Period, *,
                      today: date | None = None) -> Figures:
    """The figures of the cases received in `period`, suppressed for display together with
    every other view of its year (core.statistics.year_views: no view can be subtracted from
    another). `today` decides which open cases are overdue: pass the organisation's day
    (`services.clock.today()`); default, today in UTC. Four queries on months whose cells
    are clean, whatever the number of cases (core.statistics.month_cells)."""
    today = today or utc_now().date()
    categories = _category_ids(session)
    # The categories every view of the year shows (_grid): the active ones, and any with
    # cases in the year (year_views adds those). A row shown nowhere is 0 for anyone.
    year = year_views(session, period.start.year, today,
                      [cid for cid, _code, active in categories if active])
    label = period.label
    view = year.counts[label]
    total = year.figures.cell((label, "cases", ""))
    if view.total < MIN_COUNT or total.suppressed:
        # Too few cases to show anything but their number ("<3"), or a number hidden so that
        # another period's "<3" cannot be worked out ("x"): tables would add up to it.
        return Figures(period, today, total, None, statistics_day(session, today))
    answers = view.counts["answer"]
    satisfaction = _table(year, label, "answer",
                          [*(s.value for s in Satisfaction), NO_ANSWER], (label, "cases", ""))
    share_satisfied = share_cell(
        answers[Satisfaction.SATISFIED.value], view.total - answers[NO_ANSWER],
        [satisfaction[Satisfaction.SATISFIED.value],
         satisfaction[Satisfaction.NOT_SATISFIED.value]])
    acknowledgement, to_ack = _deadline_block(year, label, "ack")
    feedback, to_feedback = _deadline_block(year, label, "feedback")
    actions, actions_share = _actions(year, label)
    details = Details(
        by_category_month=_grid(year, period, categories),
        by_channel=_table(year, label, "channel", PARTITIONS["channel"], (label, "cases", "")),
        by_scope=_table(year, label, "scope", PARTITIONS["scope"], (label, "cases", "")),
        by_finding=_table(year, label, "finding", PARTITIONS["finding"], (label, "cases", "")),
        by_root_cause=_table(year, label, "cause", PARTITIONS["cause"], (label, "cases", "")),
        by_sanction=_table(year, label, "sanction", OVERLAPPING["sanction"], None),
        by_recognition=_table(year, label, "recognition", OVERLAPPING["recognition"], None),
        time_to_acknowledge=to_ack, time_to_feedback=to_feedback,
        acknowledgement=acknowledgement, feedback=feedback, actions=actions,
        actions_share_on_time=actions_share, satisfaction=satisfaction,
        share_satisfied=share_satisfied)
    return Figures(period, today, total, details, statistics_day(session, today))


def monthly_counts(session: Session, months: Sequence[Period],
                   key: Literal["category", "root_cause"] = "category", *,
                   today: date | None = None) -> dict[str, list[int]]:
    """Cases received in each of `months` (calendar months, e.g. from
    core.statistics.periods.recent_months), per category code or per root cause of the
    case's latest decision: {key: [count per month, in the order of `months`]}, with every
    category (NO_CATEGORY only if it has cases) or every RootCause value as a key.

    The counts are EXACT, not suppressed: they are for rules such as
    core.statistics.early_warning, never for display. By receipt month for both keys, like
    the dashboard, so a recent month's root causes keep growing as decisions are recorded.
    From the month cells (core.statistics.month_cells): three queries on clean months, whatever
    the number of cases. Changes are counted from the day after them, like the dashboard's
    (core.statistics.recount.statistics_day; `today` for a session without one)."""
    index = {m.label: i for i, m in enumerate(months)}
    if not months or any(months_in(m) != [m] for m in months):
        raise ValueError("monthly_counts needs calendar months")
    if key not in ("category", "root_cause"):
        raise ValueError("key must be 'category' or 'root_cause'")
    names: dict[int, str] = {}
    if key == "category":
        names = {cid: code for cid, code, _active in _category_ids(session)}
        series = {code: [0] * len(months) for code in names.values()}
    else:
        series = {cause.value: [0] * len(months) for cause in RootCause}
    starts = [m.start for m in months]
    refresh_months(session, starts, statistics_day(session, today))
    for month, category_id, measure_key, n in month_counts(session, starts, key):
        position = index[f"{month.year:04d}-{month.month:02d}"]
        name = (names.get(category_id, NO_CATEGORY) if key == "category" else measure_key)
        series.setdefault(name, [0] * len(months))[position] += n
    return series
