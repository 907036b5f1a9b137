"""The dashboard's figures for one period (issue #16), from clear columns only.

Everything here is read from the columns kept in clear for statistics (dates at day
precision, category, channel, stage, scope decision, satisfaction, the findings, root causes
and sanction and recognition types of decisions, the due dates and states of corrective
actions); nothing is decrypted and no case key is touched.

Cost: the figures are added up from the month cells of core.statistics.month_cells (counts
per month of receipt, kept and recomputed only for months whose cases changed), not from the
cases: a view reads at most a few hundred rows per month of its period at its filters' level,
however many cases it covers. `dashboard_figures` runs three queries on clean months (the
categories, the view's cells, the grid's cells) and one to see which are stale; a stale month
costs three more that read its cases once, and the writing of its cells.

Every figure leaves as a suppressed `Cell` (core.statistics.suppression); a view whose total
is below 3 cases shows only that total ("<3" or "0").

Every table of a view is added up from the same cells, so its rows always add up to the
view's total. Months recomputed under PostgreSQL's default isolation (read committed) may
miss a change committed while they were counted; that change marked the month stale again,
and the next view counts it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import utc_now
from core.models import (
    Category,
    Channel,
    Finding,
    RecognitionType,
    RootCause,
    SanctionType,
    Satisfaction,
    ScopeDecision,
)
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
    read_cells,
)
from core.statistics.periods import Period, months_in
from core.statistics.suppression import (
    HIDDEN,
    MIN_CASES_P90,
    MIN_COUNT,
    TOO_FEW_P90,
    Cell,
    Grid,
    Table,
    count_cell,
    share_cell,
    statistic_cell,
    suppress_counts,
    suppress_grid,
    suppress_partition,
    suppress_partitions,
)

#: Row keys besides the enum values and category codes (none of them can be a category code).
NO_CATEGORY = "(none)"
DEADLINE_ROWS = (ON_TIME, LATE, OVERDUE, NOT_DUE, NOT_OWED)
ACTION_ROWS = (DONE_ON_TIME, DONE_LATE, OPEN_OVERDUE, OPEN_NOT_DUE)
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
    """The dashboard of one view: cases received in `period`, optionally of one category and
    one channel. `details` is None when the view has fewer than 3 cases: then only `total`
    may be shown ("<3", or "0")."""

    period: Period
    category_code: str | None
    channel: Channel | None
    today: date
    total: Cell
    details: Details | None


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


def _deadline_block(cells: Mapping[str, Counter[str]], name: str,
                    today: date) -> tuple[Deadline, Durations]:
    """How one deadline went, from its cells: met, missed, open by due day, not owed."""
    counts: Counter[str] = Counter(cells.get(name, {}))
    for key, n in cells.get(f"{name}_open_due", {}).items():
        counts[OVERDUE if date.fromisoformat(key) < today else NOT_DUE] += n
    histogram: Counter[int] = Counter()
    for key, n in cells.get(f"{name}_days", {}).items():
        histogram[int(key)] += n
    table = suppress_partition([(row, counts[row]) for row in DEADLINE_ROWS])
    missed_or_met = counts[ON_TIME] + counts[LATE] + counts[OVERDUE]
    share = share_cell(counts[ON_TIME], missed_or_met,
                       [table[ON_TIME], table[LATE], table[OVERDUE]])
    return Deadline(table, share), _durations(histogram, [table[ON_TIME], table[LATE]])


def _actions(cells: Mapping[str, Counter[str]], today: date) -> tuple[Table, Cell]:
    """Corrective actions of the view's cases by outcome, from their cells."""
    counts: Counter[str] = Counter(cells.get("action", {}))
    for key, n in cells.get("action_open_due", {}).items():
        counts[OPEN_OVERDUE if date.fromisoformat(key) < today else OPEN_NOT_DUE] += n
    table = suppress_partition([(row, counts[row]) for row in ACTION_ROWS])
    due = counts[DONE_ON_TIME] + counts[DONE_LATE] + counts[OPEN_OVERDUE]
    share = share_cell(counts[DONE_ON_TIME], due,
                       [table[DONE_ON_TIME], table[DONE_LATE], table[OPEN_OVERDUE]])
    return table, share


def _measure(cells: Mapping[str, Counter[str]], measure: str) -> Counter[str]:
    return cells.get(measure) or Counter()


def dashboard_figures(session: Session, period: Period, *, category_code: str | None = None,
                      channel: Channel | str | None = None,
                      today: date | None = None) -> Figures:
    """The figures of the cases received in `period` (of one category and one channel, if
    given), suppressed for display. `today` decides which open cases are overdue: pass the
    organisation's day (`services.clock.today()`); default, today in UTC. An unknown category
    code or channel raises ValueError. Four queries on months whose cells are clean, whatever
    the number of cases (core.statistics.month_cells)."""
    today = today or utc_now().date()
    chosen_channel = Channel(channel) if channel is not None else None
    categories = _category_ids(session)
    ids = {code: cid for cid, code, _active in categories}
    if category_code is not None and category_code not in ids:
        raise ValueError(f"there is no category '{category_code}'")
    category_id = ids[category_code] if category_code is not None else None
    cells, grid_counts = read_cells(session, months_in(period), category_id=category_id,
                                    channel=str(chosen_channel) if chosen_channel else None)
    per_month: Counter[tuple[int | None, str]] = Counter(
        {(None if cid == NO_CATEGORY_ID else cid, month): n
         for (cid, month), n in grid_counts.items()})
    channels, scopes = _measure(cells, "channel"), _measure(cells, "scope")
    answers = _measure(cells, "answer")
    total = _measure(cells, "cases")[""]
    if total < MIN_COUNT:  # too few cases to show anything but their number ("<3")
        return Figures(period, category_code, chosen_channel, today, count_cell(total), None)

    columns = [m.label for m in months_in(period)]
    seen = {cat for cat, _m in per_month}
    rows: list[tuple[str, int | None]] = [
        (code, cid) for cid, code, active in categories
        if (category_id is None and active) or cid in seen or cid == category_id]
    if None in seen:
        rows.append((NO_CATEGORY, None))
    grid = suppress_grid([code for code, _cid in rows], columns,
                         [[per_month[(cid, col)] for col in columns] for _code, cid in rows])
    satisfaction = suppress_partition(
        [*((s.value, answers[s.value]) for s in Satisfaction), (NO_ANSWER, answers[NO_ANSWER])])
    share_satisfied = share_cell(
        answers[Satisfaction.SATISFIED.value], total - answers[NO_ANSWER],
        [satisfaction[Satisfaction.SATISFIED.value],
         satisfaction[Satisfaction.NOT_SATISFIED.value]])

    findings, causes = _measure(cells, "finding"), _measure(cells, "cause")
    sanctions, recognitions = _measure(cells, "sanction"), _measure(cells, "recognition")
    # One "no decision yet" figure in both: suppressed apart, one table's figure could give
    # back a count the other hides.
    by_finding, by_root_cause = suppress_partitions(
        [[(key, findings[key]) for key in [*(f.value for f in Finding), NO_DECISION]],
         [(key, causes[key]) for key in [*(c.value for c in RootCause), UNSPECIFIED,
                                         NO_DECISION]]],
        shared={NO_DECISION})
    by_sanction = suppress_counts([(k.value, sanctions[k.value]) for k in SanctionType])
    by_recognition = suppress_counts([(k.value, recognitions[k.value])
                                      for k in RecognitionType])
    acknowledgement, to_ack = _deadline_block(cells, "ack", today)
    feedback, to_feedback = _deadline_block(cells, "feedback", today)
    actions, actions_share = _actions(cells, today)
    details = Details(
        by_category_month=grid,
        by_channel=suppress_partition([(c.value, channels[c.value]) for c in Channel]),
        by_scope=suppress_partition(
            [*((s.value, scopes[s.value]) for s in ScopeDecision), (PENDING, scopes[PENDING])]),
        by_finding=by_finding, by_root_cause=by_root_cause, by_sanction=by_sanction,
        by_recognition=by_recognition, time_to_acknowledge=to_ack,
        time_to_feedback=to_feedback, acknowledgement=acknowledgement, feedback=feedback,
        actions=actions, actions_share_on_time=actions_share, satisfaction=satisfaction,
        share_satisfied=share_satisfied)
    return Figures(period, category_code, chosen_channel, today, count_cell(total), details)


def monthly_counts(session: Session, months: Sequence[Period],
                   key: Literal["category", "root_cause"] = "category") -> dict[str, list[int]]:
    """Cases received in each of `months` (calendar months, e.g. from
    core.statistics.periods.recent_months), per category code or per root cause of the
    case's latest decision: {key: [count per month, in the order of `months`]}, with every
    category (NO_CATEGORY only if it has cases) or every RootCause value as a key.

    The counts are EXACT, not suppressed: they are for rules such as
    core.statistics.early_warning, never for display. By receipt month for both keys, like
    the dashboard, so a recent month's root causes keep growing as decisions are recorded.
    From the month cells (core.statistics.month_cells): three queries on clean months, whatever
    the number of cases."""
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
    for month, category_id, measure_key, n in month_counts(
            session, [m.start for m in months], key):
        position = index[f"{month.year:04d}-{month.month:02d}"]
        name = (names.get(category_id, NO_CATEGORY) if key == "category" else measure_key)
        series.setdefault(name, [0] * len(months))[position] += n
    return series
