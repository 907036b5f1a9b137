"""The dashboard's figures for one period (issue #16), from clear columns only.

Everything here is read from the columns kept in clear for statistics (dates at day
precision, category, channel, stage, scope decision, satisfaction, the findings, root causes
and sanction and recognition types of decisions, the due dates and states of corrective
actions); nothing is decrypted and no case key is touched.

Cost: `dashboard_figures` runs the same five queries whatever the number of cases: the
categories, then four that each read the period's cases once and group in the database,
returning at most a few thousand rows: counts per (category, month, channel, scope decision,
satisfaction), per distinct combination of the clear fields of a case's latest decision, per
(outcome and whole days taken, of both deadlines) and per corrective-action outcome. Day
differences are computed by the database (SQLite: julianday(); PostgreSQL: date subtraction).
Their time grows with the cases of the period (they are read, not kept as counters).

Every figure leaves as a suppressed `Cell` (core.statistics.suppression); a view whose total
is below 3 cases shows only that total ("<3" or "0"), after two queries.

Each table is counted by one query, so its rows always add up to its own total. Under
PostgreSQL's default isolation (read committed) a case recorded while the queries run may be
in one table and not yet in an earlier one; the tables' totals then differ by that case until
the next view. Run the call in a REPEATABLE READ transaction for one snapshot (SQLite's
transactions always are one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import Integer, and_, case, cast, extract, func, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from core.cases.inbox_deadlines import AWAITING_ACK, AWAITING_FEEDBACK
from core.clock import utc_now
from core.models import (
    ActionStatus,
    Case,
    Category,
    Channel,
    CorrectiveAction,
    Decision,
    Finding,
    RecognitionType,
    RootCause,
    SanctionType,
    Satisfaction,
    ScopeDecision,
)
from core.statistics.periods import Period, months_in
from core.statistics.suppression import (
    MIN_COUNT,
    Cell,
    Grid,
    Table,
    count_cell,
    share_cell,
    statistic_cell,
    suppress_counts,
    suppress_grid,
    suppress_partition,
)

#: Row keys besides the enum values and category codes (none of them can be a category code).
NO_CATEGORY = "(none)"
PENDING = "pending"          # no scope decision yet
NO_DECISION = "no_decision"  # no decision recorded
UNSPECIFIED = "unspecified"  # a decision without a root cause
NO_ANSWER = "no_answer"      # the reporter gave no satisfaction answer
#: Outcomes of a deadline, the rows of `Deadline.table` (they add up to the view's cases).
ON_TIME, LATE, OVERDUE, NOT_DUE, NOT_OWED = "on_time", "late", "overdue", "not_due", "not_owed"
DEADLINE_ROWS = (ON_TIME, LATE, OVERDUE, NOT_DUE, NOT_OWED)
#: Outcomes of corrective actions, the rows of `Details.actions`.
DONE_ON_TIME, DONE_LATE, OPEN_OVERDUE, OPEN_NOT_DUE = (
    "done_on_time", "done_late", "open_overdue", "open_not_due")
ACTION_ROWS = (DONE_ON_TIME, DONE_LATE, OPEN_OVERDUE, OPEN_NOT_DUE)


@dataclass(frozen=True, slots=True)
class Durations:
    """Whole days from receipt to an event, over the cases that reached it: the median and
    the 90th percentile (nearest rank), "n<3" over fewer than 3 cases."""

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


def _days(later: Any, earlier: Any, dialect: str) -> ColumnElement[int]:
    """Whole days from `earlier` to `later`, computed by the database."""
    if dialect == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return cast(later - earlier, Integer)  # PostgreSQL: date - date is an integer


def _category_ids(session: Session) -> list[tuple[int, str, bool]]:
    """(id, code, active) of every category, in display order."""
    rows = session.execute(select(Category.id, Category.code, Category.active)
                           .order_by(Category.position, Category.id))
    return [(int(i), str(code), bool(active)) for i, code, active in rows]


def _latest_decisions(dialect: str) -> tuple[Any, Any, tuple[Any, ...]]:
    """(what to join to cases, the ON clause, its finding, root cause, sanction and
    recognition columns) for the latest version of each case's decision. PostgreSQL: a
    LATERAL subquery, one index lookup per case of the view (its planner would anti-join the
    whole decisions table for NOT EXISTS); SQLite runs the NOT EXISTS per case by itself."""
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


def _durations(histogram: Counter[int]) -> Durations:
    n = sum(histogram.values())
    return Durations(statistic_cell(percentile(histogram, 50), n),
                     statistic_cell(percentile(histogram, 90), n))


def _outcome(done: Any, due: Any, owed: Iterable[Any], today: date,
             dialect: str) -> tuple[ColumnElement[str], ColumnElement[int]]:
    """How a case's deadline went (a DEADLINE_ROWS key), and the whole days from receipt to
    the event (NULL until it happens)."""
    stages = list(owed)
    state = case((and_(done.is_not(None), done <= due), ON_TIME), (done.is_not(None), LATE),
                 (and_(Case.status.in_(stages), due < today), OVERDUE),
                 (Case.status.in_(stages), NOT_DUE), else_=NOT_OWED)
    return state, case((done.is_not(None), _days(done, Case.received_on, dialect)))


def _deadline(counts: Counter[str], histogram: Counter[int]) -> tuple[Deadline, Durations]:
    table = suppress_partition([(row, counts[row]) for row in DEADLINE_ROWS])
    missed_or_met = counts[ON_TIME] + counts[LATE] + counts[OVERDUE]
    share = share_cell(counts[ON_TIME], missed_or_met,
                       [table[ON_TIME], table[LATE], table[OVERDUE]])
    return Deadline(table, share), _durations(histogram)


def _deadlines(session: Session, filters: list[ColumnElement[bool]], today: date,
               dialect: str) -> tuple[tuple[Deadline, Durations], tuple[Deadline, Durations]]:
    """One query: cases by outcome of both deadlines and the days each event took."""
    ack_state, ack_days = _outcome(Case.acknowledged_on, Case.acknowledge_due, AWAITING_ACK,
                                   today, dialect)
    fb_state, fb_days = _outcome(Case.feedback_given_on, Case.feedback_due, AWAITING_FEEDBACK,
                                 today, dialect)
    # Grouped over a subquery: PostgreSQL would not match the CASE expressions of the select
    # list to those of GROUP BY, whose parameters are bound separately.
    inner = select(ack_state.label("a"), ack_days.label("ad"), fb_state.label("f"),
                   fb_days.label("fd")).where(*filters).subquery()
    acks, feedbacks = Counter[str](), Counter[str]()
    ack_histogram, fb_histogram = Counter[int](), Counter[int]()
    columns = (inner.c.a, inner.c.ad, inner.c.f, inner.c.fd)
    for ack, ack_elapsed, fb, fb_elapsed, n in session.execute(
            select(*columns, func.count()).group_by(*columns)):
        acks[str(ack)] += n
        feedbacks[str(fb)] += n
        if ack_elapsed is not None:
            ack_histogram[int(ack_elapsed)] += n
        if fb_elapsed is not None:
            fb_histogram[int(fb_elapsed)] += n
    return _deadline(acks, ack_histogram), _deadline(feedbacks, fb_histogram)


def _actions(session: Session, filters: list[ColumnElement[bool]],
             today: date) -> tuple[Table, Cell]:
    """One query: corrective actions of the view's cases by outcome."""
    action = CorrectiveAction
    done = action.status == ActionStatus.DONE
    state = case((and_(done, action.done_on.is_not(None), action.done_on <= action.due_on),
                  DONE_ON_TIME), (done, DONE_LATE), (action.due_on < today, OPEN_OVERDUE),
                 else_=OPEN_NOT_DUE).label("state")
    inner = (select(state).join(Case, Case.id == action.case_id).where(*filters)
             .subquery())
    counts: Counter[str] = Counter({str(s): int(n) for s, n in session.execute(
        select(inner.c.state, func.count()).group_by(inner.c.state))})
    table = suppress_partition([(row, counts[row]) for row in ACTION_ROWS])
    due = counts[DONE_ON_TIME] + counts[DONE_LATE] + counts[OPEN_OVERDUE]
    share = share_cell(counts[DONE_ON_TIME], due,
                       [table[DONE_ON_TIME], table[DONE_LATE], table[OPEN_OVERDUE]])
    return table, share


def _decisions(session: Session, filters: list[ColumnElement[bool]],
               dialect: str) -> tuple[Table, Table, Table, Table]:
    """One query: the view's cases with the clear fields of their latest decision (NULL for
    none), grouped; the comma lists of sanction and recognition types are split here."""
    findings, causes, sanctions, recognitions = (Counter[str]() for _ in range(4))
    joined, on, fields = _latest_decisions(dialect)
    rows: Iterable[Any] = session.execute(select(*fields, func.count()).select_from(Case)
                                          .outerjoin(joined, on).where(*filters)
                                          .group_by(*fields))
    for finding, cause, sanction_list, recognition_list, n in rows:
        if finding is None:
            findings[NO_DECISION] += n
            causes[NO_DECISION] += n
            continue
        findings[str(finding)] += n
        causes[str(cause) if cause is not None else UNSPECIFIED] += n
        for kinds, counter in ((sanction_list, sanctions), (recognition_list, recognitions)):
            for kind in {k.strip() for k in (kinds or "").split(",") if k.strip()}:
                counter[kind] += n
    return (
        suppress_partition([(key, findings[key])
                            for key in [*(f.value for f in Finding), NO_DECISION]]),
        suppress_partition([(key, causes[key]) for key in
                            [*(c.value for c in RootCause), UNSPECIFIED, NO_DECISION]]),
        suppress_counts([(s.value, sanctions[s.value]) for s in SanctionType]),
        suppress_counts([(r.value, recognitions[r.value]) for r in RecognitionType]),
    )


def dashboard_figures(session: Session, period: Period, *, category_code: str | None = None,
                      channel: Channel | str | None = None,
                      today: date | None = None) -> Figures:
    """The figures of the cases received in `period` (of one category and one channel, if
    given), suppressed for display. `today` decides which open cases are overdue: pass the
    organisation's day (`services.clock.today()`); default, today in UTC. An unknown category
    code or channel raises ValueError. Five queries, whatever the number of cases."""
    today = today or utc_now().date()
    chosen_channel = Channel(channel) if channel is not None else None
    dialect = session.get_bind().dialect.name
    categories = _category_ids(session)
    ids = {code: cid for cid, code, _active in categories}
    if category_code is not None and category_code not in ids:
        raise ValueError(f"there is no category '{category_code}'")
    category_id = ids[category_code] if category_code is not None else None
    filters: list[ColumnElement[bool]] = [Case.received_on >= period.start,
                                          Case.received_on < period.end]
    if category_id is not None:
        filters.append(Case.category_id == category_id)
    if chosen_channel is not None:
        filters.append(Case.channel == chosen_channel)

    # One query for the counts of the cases themselves: the grid, channels, scope decisions
    # and satisfaction (a few thousand groups at most, added up here).
    year, month = extract("year", Case.received_on), extract("month", Case.received_on)
    per_month: Counter[tuple[int | None, str]] = Counter()
    channels, scopes, answers = (Counter[str]() for _ in range(3))
    keys = (Case.category_id, year, month, Case.channel, Case.scope_decision, Case.satisfaction)
    for cat, y, m, ch, scope, satisfied, n in session.execute(
            select(*keys, func.count()).where(*filters).group_by(*keys)):
        per_month[(cat, f"{int(y):04d}-{int(m):02d}")] += n
        channels[str(ch)] += n
        scopes[str(scope) if scope is not None else PENDING] += n
        answers[str(satisfied) if satisfied is not None else NO_ANSWER] += n
    total = sum(per_month.values())
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

    by_finding, by_root_cause, by_sanction, by_recognition = _decisions(session, filters, dialect)
    (acknowledgement, to_ack), (feedback, to_feedback) = _deadlines(session, filters, today,
                                                                    dialect)
    actions, actions_share = _actions(session, filters, today)
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
    Two queries for "category", one for "root_cause", whatever the number of cases."""
    index = {m.label: i for i, m in enumerate(months)}
    if not months or any(months_in(m) != [m] for m in months):
        raise ValueError("monthly_counts needs calendar months")
    if key not in ("category", "root_cause"):
        raise ValueError("key must be 'category' or 'root_cause'")
    year, month = extract("year", Case.received_on), extract("month", Case.received_on)
    window = [Case.received_on >= min(m.start for m in months),
              Case.received_on < max(m.end for m in months)]
    names: dict[Any, str] = {}
    query: Any
    if key == "category":
        names = {cid: code for cid, code, _active in _category_ids(session)}
        series = {code: [0] * len(months) for code in names.values()}
        query = (select(Case.category_id, year, month, func.count()).where(*window)
                 .group_by(Case.category_id, year, month))
    else:
        series = {cause.value: [0] * len(months) for cause in RootCause}
        joined, on, fields = _latest_decisions(session.get_bind().dialect.name)
        cause = fields[1]
        query = (select(cause, year, month, func.count()).select_from(Case).join(joined, on)
                 .where(*window, cause.is_not(None)).group_by(cause, year, month))
    for value, y, m, n in session.execute(query):
        position = index.get(f"{int(y):04d}-{int(m):02d}")
        if position is None:
            continue  # a month inside the window that was not asked for
        name = names.get(value, NO_CATEGORY) if key == "category" else str(value)
        series.setdefault(name, [0] * len(months))[position] += int(n)
    return series
