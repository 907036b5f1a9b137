"""Early warnings for the dashboard and the admins' digest: categories and root causes whose
last complete month rose well above their own previous months (core.statistics.early_warning
says how). From clear columns only, like every statistic.

An alert's figures are exact counts, shown beside tables that hide small cells. An alert is
raised only where they add up counts that each month's own statistics show exactly: the
flagged month's count, and each month's of the history it is compared with (outside testers:
"6 cases in 2026-12" beside a grid of "x" and "<3" gave the "<3" away by subtraction, and
"0.7 expected from the 6 months before" a sum of hidden months). Before 2026-12-07 such an
alert was shown without its figures; but whether it appears at all, with the rule printed
beside it, narrowed the hidden months down to the few histories that flag (second reader:
it pinned a "<3" to 2 and a neighbouring "x" to 6). So the rule is applied to figures
everyone can read, and says nothing more than they do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Case
from core.statistics.early_warning import DEFAULT_RULE, Rise, RiseRule, detect_rises
from core.statistics.figures import Figures, dashboard_figures, monthly_counts
from core.statistics.periods import Period, months_in, recent_months

Kind = Literal["category", "root_cause"]


@dataclass(frozen=True, slots=True)
class Alert:
    """A flagged rise: what rose (a category code or a root cause), in which month, and the
    figures behind the flag."""

    kind: Kind
    month: Period
    rise: Rise


def last_complete_month(today: date) -> date:
    """A day of the month before `today`'s: the current month is still filling up, and
    comparing it would hide a rise until the month ends anyway."""
    return today.replace(day=1) - timedelta(days=1)


def recent_alerts(session: Session, today: date, rule: RiseRule = DEFAULT_RULE) -> list[Alert]:
    """The rises of the last complete month against the `rule.history` months before it, for
    categories, then root causes (strongest first within each). Four queries.

    Months before the instance's first report, and the month it came in (partly empty), are
    not history: a new instance's first busy month would otherwise rise above zeros."""
    first = session.scalar(select(func.min(Case.received_on)))
    if first is None:
        return []
    return _month_alerts(session, last_complete_month(today), first, rule, today)


def period_alerts(session: Session, period: Period, today: date,
                  rule: RiseRule = DEFAULT_RULE) -> list[Alert]:
    """The rises of every complete month of `period` (months not over by `today` are still
    filling up), each against the months before it, oldest month first: the "recurring
    themes" of the periodic review. Four queries per month, at most 48 for a year, and the
    month statistics of the months an alert covers (module docstring)."""
    first = session.scalar(select(func.min(Case.received_on)))
    if first is None:
        return []
    this_month = today.replace(day=1)
    shown: MonthFigures = {}  # shared: neighbouring months' alerts cover the same months
    return [alert for month in months_in(period) if month.end <= this_month
            for alert in _month_alerts(session, month.start, first, rule, today, shown)]


#: Each month's own statistics (all categories and channels), by month label.
MonthFigures = dict[str, Figures]


def _month_alerts(session: Session, month_day: date, first: date, rule: RiseRule, today: date,
                  shown: MonthFigures | None = None) -> list[Alert]:
    """The rises of the month holding `month_day` against the `rule.history` months before
    it, counting no month before the one after `first` (the first report's). Whether their
    figures may be shown is judged on each month's statistics as of `today`, as the
    dashboard and the review report beside the alert show them (the overdue counts, and so
    what suppression hides, depend on the day)."""
    months = [m for m in recent_months(month_day, rule.history + 1) if m.start > first]
    if len(months) <= rule.min_history:
        return []
    kinds: tuple[Kind, ...] = ("category", "root_cause")
    rises = [(kind, rise) for kind in kinds
             for rise in detect_rises(monthly_counts(session, months, kind, today=today), rule)]
    if not rises:
        return []
    figures = shown if shown is not None else {}
    for month in months:
        if month.label not in figures:
            figures[month.label] = dashboard_figures(session, month, today=today)
    return [Alert(kind, months[-1], rise) for kind, rise in rises
            if _discloses_nothing(figures, kind, months, rise.key)]


def _discloses_nothing(figures: MonthFigures, kind: Kind, months: list[Period],
                       key: str) -> bool:
    """Whether the alert's figures (its month's count, and the sum of the months before) add
    up only counts shown exactly on each month's own statistics: then they tell nothing the
    statistics hide. A month of no case at all shows its 0."""
    for month in months:
        month_figures = figures[month.label]
        if month_figures.total.value == 0:
            continue
        details = month_figures.details
        if details is None:  # 1 or 2 cases in the month: it shows only "<3"
            return False
        try:
            cell = (details.by_category_month.cell(key, month.label) if kind == "category"
                    else details.by_root_cause[key])
        except (KeyError, ValueError):  # no row: a category without cases that month
            continue
        if cell.suppressed:
            return False
    return True
