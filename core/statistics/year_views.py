"""Every view of a year, suppressed together, so that no view can be subtracted from another.

The dashboard shows a year, a quarter or a month. The views share their cases: a quarter's
cases by finding are its three months' added up, and the year's its four quarters'. Each view
suppressed on its own (as before 2026-12-07) let one view be subtracted from another: a
quarter's "substantiated" minus two of its months' gave the third month's, which that month's
own view hid as "<3". So the figures of the seventeen views of a year (twelve months, four
quarters, the year) are suppressed as one set (core.statistics.suppression.LinkedFigures):
each figure is named once, whichever views show it, and every sum between them is a line,
within a view (a table adds up to the view's cases) and across views (a quarter's figure is
its months', the year's its quarters'). A figure is hidden in every view or in none.

Years share no case (a view never spans two), so each year is suppressed alone. Everything is
read from the month cells (core.statistics.month_cells): two queries for the twelve months,
whatever the number of cases.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from core.models import (
    Channel,
    Finding,
    RecognitionType,
    RootCause,
    SanctionType,
    Satisfaction,
    ScopeDecision,
)
from core.statistics.cells import MIN_COUNT
from core.statistics.linked import LinkedFigures
from core.statistics.month_cells import (
    DONE_LATE,
    DONE_ON_TIME,
    LATE,
    NO_ANSWER,
    NO_DECISION,
    NOT_DUE,
    NOT_OWED,
    ON_TIME,
    OPEN_NOT_DUE,
    OPEN_OVERDUE,
    OVERDUE,
    PENDING,
    UNSPECIFIED,
    MonthCells,
    read_months,
)
from core.statistics.periods import Period, month_period, months_in, quarter_period, year_period
from core.statistics.recount import refresh_months, statistics_day

DEADLINE_ROWS = (ON_TIME, LATE, OVERDUE, NOT_DUE, NOT_OWED)
ACTION_ROWS = (DONE_ON_TIME, DONE_LATE, OPEN_OVERDUE, OPEN_NOT_DUE)

#: The partitions of a view's cases (each adds up to its total): measure -> its rows. The
#: findings and root causes share their "no decision yet" row (one figure: FIGURE_OF).
PARTITIONS: dict[str, tuple[str, ...]] = {
    "channel": tuple(c.value for c in Channel),
    "scope": (*(s.value for s in ScopeDecision), PENDING),
    "answer": (*(s.value for s in Satisfaction), NO_ANSWER),
    "finding": (*(f.value for f in Finding), NO_DECISION),
    "cause": (*(c.value for c in RootCause), UNSPECIFIED, NO_DECISION),
    "ack": DEADLINE_ROWS,
    "feedback": DEADLINE_ROWS,
}
#: Counts that add up to nothing a view shows (a case may have several sanctions).
OVERLAPPING: dict[str, tuple[str, ...]] = {
    "sanction": tuple(k.value for k in SanctionType),
    "recognition": tuple(k.value for k in RecognitionType),
}
#: Measures whose days are kept for the medians and percentiles.
DAYS = ("ack_days", "feedback_days")


@dataclass(frozen=True)
class ViewCounts:
    """The exact counts of one view (never shown as such): its cases, their categories (by
    id), every partition and count by measure and row, its corrective actions by outcome, and
    the days taken to each deadline ({days: cases})."""

    period: Period
    total: int
    by_category: Counter[int]
    counts: dict[str, Counter[str]]
    actions: Counter[str]
    days: dict[str, Counter[int]] = field(default_factory=dict)


def _month_counts(month: Period, cells: MonthCells, today: date) -> ViewCounts:
    """One month's exact counts from its cells; open deadlines and actions are overdue by
    `today`."""
    blocks = cells.blocks
    counts: dict[str, Counter[str]] = {m: Counter(blocks.get(m, {}))
                                       for m in [*PARTITIONS, *OVERLAPPING]}
    for name in ("ack", "feedback"):
        for key, n in blocks.get(f"{name}_open_due", {}).items():
            counts[name][OVERDUE if date.fromisoformat(key) < today else NOT_DUE] += n
    actions: Counter[str] = Counter(blocks.get("action", {}))
    for key, n in blocks.get("action_open_due", {}).items():
        actions[OPEN_OVERDUE if date.fromisoformat(key) < today else OPEN_NOT_DUE] += n
    days = {name: Counter({int(k): n for k, n in blocks.get(name, {}).items()}) for name in DAYS}
    return ViewCounts(month, blocks.get("cases", Counter())[""], Counter(cells.by_category),
                      counts, actions, days)


def _added(period: Period, parts: Sequence[ViewCounts]) -> ViewCounts:
    """The counts of `period` as the sum of its parts' (its months, or its quarters)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    days: dict[str, Counter[int]] = defaultdict(Counter)
    by_category: Counter[int] = Counter()
    actions: Counter[str] = Counter()
    for part in parts:
        by_category.update(part.by_category)
        actions.update(part.actions)
        for measure, found in part.counts.items():
            counts[measure].update(found)
        for name, histogram in part.days.items():
            days[name].update(histogram)
    return ViewCounts(period, sum(p.total for p in parts), by_category, dict(counts), actions,
                      dict(days))


@dataclass(frozen=True)
class YearViews:
    """The seventeen views of a year: exact counts by period label, and their figures as
    every view may show them, suppressed together."""

    counts: Mapping[str, ViewCounts]
    figures: LinkedFigures
    #: The category ids that have a figure (every category given, and any with cases).
    category_ids: tuple[int, ...]


def count_year(months: Mapping[str, MonthCells], year: int,
               today: date) -> dict[str, ViewCounts]:
    """Exact counts of the year's twelve months, four quarters and the year itself."""
    views: dict[str, ViewCounts] = {}
    for number in range(1, 13):
        month = month_period(year, number)
        views[month.label] = _month_counts(month, months[month.label], today)
    for quarter_number in range(1, 5):
        quarter = quarter_period(year, quarter_number)
        views[quarter.label] = _added(quarter, [views[m.label] for m in months_in(quarter)])
    whole = year_period(year)
    views[whole.label] = _added(whole, [views[f"{year}-Q{q}"] for q in range(1, 5)])
    return views


def _children(year: int) -> dict[str, list[str]]:
    """Each view made of others, and those (a quarter: its months; the year: its quarters)."""
    tree = {f"{year}-Q{q}": [m.label for m in months_in(quarter_period(year, q))]
            for q in range(1, 5)}
    tree[str(year)] = list(tree)
    return tree


def _sums_of(year: int) -> list[tuple[str, list[str]]]:
    """Every way a view adds up from others: a quarter from its months, and the year from
    each mix of quarters and the months of the others (sixteen: its quarters, its months as
    the year's grid adds them, and between). Each is checked as a line of its own, so that
    a figure that no single sum of the tree pins is not pinned by two of them together (a
    year's "<3" and two months' "<3": 1 and 1)."""
    tree = _children(year)
    quarters = tree[str(year)]
    found = [(q, months) for q, months in tree.items() if q != str(year)]
    for mix in itertools.product((False, True), repeat=len(quarters)):
        found.append((str(year), [part for q, as_months in zip(quarters, mix, strict=True)
                                  for part in (tree[q] if as_months else [q])]))
    return found


def figure_key(label: str, measure: str, row: str) -> tuple[str, str, str]:
    """The name of one figure of the view `label`: the findings' and root causes' "no
    decision yet" is one figure ("decision")."""
    if measure in ("finding", "cause") and row == NO_DECISION:
        return (label, "decision", NO_DECISION)
    return (label, measure, row)


def _rows(counts: ViewCounts) -> Iterable[tuple[str, str, int]]:
    """(measure, row, count) of every figure of a view but its total and categories."""
    for measure, rows in (*PARTITIONS.items(), *OVERLAPPING.items()):
        for row in rows:
            yield measure, row, counts.counts.get(measure, Counter())[row]
    for row in ACTION_ROWS:
        yield "action", row, counts.actions[row]
    yield "actions", "", sum(counts.actions[row] for row in ACTION_ROWS)


def link_year(views: Mapping[str, ViewCounts], year: int,
              category_ids: Iterable[int]) -> YearViews:
    """Suppress the year's views together (module docstring). A view whose own total had to
    be hidden shows nothing else: its tables would add up to it, and tables shown would say
    it is 3 or more (second reader). Its figures are then withheld and the year suppressed
    again, until no other view's total falls."""
    ids = tuple(sorted(set(category_ids).union(*(v.by_category for v in views.values()))))
    # A view of 1 or 2 cases shows only "<3"; its other figures are published nowhere. A
    # view of no case shows only its 0, which tells all of its figures anyway.
    shown = {label: counts.total >= MIN_COUNT or counts.total == 0
             for label, counts in views.items()}
    while True:
        linked = _link(views, year, ids, shown)
        fallen = [label for label, published in shown.items()
                  if published and linked.cell((label, "cases", "")).suppressed]
        if not fallen:
            return YearViews(views, linked, ids)
        for label in fallen:
            shown[label] = False


def _link(views: Mapping[str, ViewCounts], year: int, ids: tuple[int, ...],
          shown: Mapping[str, bool]) -> LinkedFigures:
    """The year's figures, with the views `shown` publishes, suppressed together."""
    linked = LinkedFigures()
    tree = _children(year)
    parents = {child: label for label, children in tree.items() for child in children}
    for label, counts in views.items():
        # A view's total is hidden only where no other figure would do (a quarter of 11
        # cases, 1 of them in October: November's 10 is hidden, or October's 1 is had by
        # subtraction), and the view then shows nothing else (link_year). The year's is
        # never needed: no sum has it as a term.
        cases = (label, "cases", "")
        linked.add(cases, counts.total, fixed=label == str(year), reluctant=True)
        linked.add((label, "actions", ""), sum(counts.actions[r] for r in ACTION_ROWS),
                   reluctant=True, published=shown[label])
        # A month's cases of a category are a cell of every grid showing that month.
        grids = [label, *([parents[label], str(year)] if label not in tree else [])]
        for category_id in ids:
            linked.add((label, "category", str(category_id)), counts.by_category[category_id],
                       published=any(shown[g] for g in grids), within=cases)
        for measure, row, count in _rows(counts):
            if measure == "actions":
                continue  # added above
            if measure == "action":  # corrective actions, not cases: their own total
                linked.add((label, measure, row), count, published=shown[label],
                           within=(label, "actions", ""))
            else:
                linked.add(figure_key(label, measure, row), count, published=shown[label],
                           within=cases)
    for label in views:
        total = (label, "cases", "")
        linked.line([(label, "category", str(c)) for c in ids], total)
        for measure, rows in PARTITIONS.items():
            linked.line([figure_key(label, measure, row) for row in rows], total)
        linked.line([(label, "action", row) for row in ACTION_ROWS], (label, "actions", ""))
    keys = dict.fromkeys([("cases", ""), *(("category", str(c)) for c in ids),
                          *(figure_key("", measure, row)[1:]
                            for measure, row, _n in _rows(views[str(year)]))])
    for label, parts in _sums_of(year):
        for measure, row in keys:
            linked.line([(part, measure, row) for part in parts], (label, measure, row),
                        composition=True)
    year_actions = sum(views[str(year)].actions[row] for row in ACTION_ROWS)
    for label in views:
        for terms in _workflow_relations(label):
            linked.at_most(terms)
        # Corrective actions are assigned only once the case is decided (core.cases.actions).
        linked.implies([(label, "action", row) for row in ACTION_ROWS],
                       [(label, "finding", f.value) for f in Finding], year_actions)
    linked.run()
    return linked


def _workflow_relations(label: str) -> Iterable[list[tuple[tuple[str, str, str], int]]]:
    """What a reader knows of a view's tables from the workflow, each a relation
    sum(coefficient * figure) <= 0:

    * only an accepted case is decided (core.cases.workflow: a decision needs the
      investigation), and a sanction or recognition of any kind is part of a decision, at
      most once a case (core.statistics.month_cells);
    * a case leaves "received" acknowledged (core.cases.casework.change_status), so every
      case with a scope decision, and every case given feedback, was acknowledged;
    * a case still owed its acknowledgement is still owed its feedback;
    * feedback is given only to a decided case, and a case owes none only once referred or
      found not admissible (second reader, 2026-12-07);
    * a reporter answers whether they are satisfied only once the outcome, a referral or a
      rejection is sent, so every case with an answer was acknowledged;
    * and, usual rather than certain, a referred or rejected case owes no feedback unless it
      was reopened.
    """
    def key(measure: str, row: str) -> tuple[str, str, str]:
        return figure_key(label, measure, row)

    cases, undecided = (label, "cases", ""), key("finding", NO_DECISION)
    yield [(cases, 1), (undecided, -1), (key("scope", ScopeDecision.ACCEPTED.value), -1)]
    for measure, rows in OVERLAPPING.items():
        for row in rows:
            yield [(key(measure, row), 1), (cases, -1), (undecided, 1)]
    acknowledged = [(key("ack", ON_TIME), -1), (key("ack", LATE), -1)]
    given = [(key("feedback", ON_TIME), 1), (key("feedback", LATE), 1)]
    yield [*((key("scope", s.value), 1) for s in ScopeDecision), *acknowledged]
    yield [*given, *acknowledged]
    yield [(key("ack", OVERDUE), 1), (key("ack", NOT_DUE), 1),
           (key("feedback", OVERDUE), -1), (key("feedback", NOT_DUE), -1)]
    # Feedback is given only after a decision; a case owes none only once referred or found
    # not admissible (a reopened one owes it again).
    yield [*given, (cases, -1), (undecided, 1)]
    not_owed = [(key("feedback", NOT_OWED), 1), (key("scope", ScopeDecision.REFERRED.value), -1),
                (key("scope", ScopeDecision.NOT_ADMISSIBLE.value), -1)]
    yield not_owed
    # ... and every referred or rejected case owes none unless it was reopened, which is rare
    # enough for a reader to assume (an outside tester, 2026-12-07): where it holds, the two
    # are equal for the audit too.
    yield [(figure, -coefficient) for figure, coefficient in not_owed]
    # A reporter answers only once the outcome, a referral or a rejection is sent
    # (core.intake.outcome_answer), after the case left "received".
    yield [*((key("answer", a.value), 1) for a in Satisfaction), *acknowledged]


#: The last years suppressed, by everything they were computed from: a page computes its
#: year several times (its figures, its charts, the early warnings' months), and suppressing
#: a sparse year takes a tenth of a second (benches/dashboard.py).
_CACHE: OrderedDict[Hashable, YearViews] = OrderedDict()
_CACHE_SIZE = 16
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every year suppressed (benches/dashboard.py measures the whole work)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _inputs(months: Mapping[str, MonthCells]) -> Hashable:
    """Everything of the month cells that the year's figures depend on, hashable."""
    return tuple(
        (label, tuple(sorted((measure, tuple(sorted(counts.items())))
                             for measure, counts in cells.blocks.items())),
         tuple(sorted(cells.by_category.items())))
        for label, cells in sorted(months.items()))


def year_views(session: Session, year: int, today: date,
               category_ids: Iterable[int]) -> YearViews:
    """The year's views from its month cells (two queries after their refresh), suppressed
    together. `today` decides which open deadlines and actions are overdue. The changes counted
    are those made before the session's statistics day (core.statistics.recount), or before
    `today` for a session without one."""
    in_year = months_in(year_period(year))
    refresh_months(session, [month.start for month in in_year],
                   statistics_day(session, today))
    months = read_months(session, in_year)
    ids = tuple(sorted(set(category_ids)))
    key = (year, today, ids, _inputs(months))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    found = link_year(count_year(months, year, today), year, ids)
    with _CACHE_LOCK:
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found
