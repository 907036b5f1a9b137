"""Early warnings for the dashboard and the admins' digest: categories and root causes whose
last complete month rose well above their own previous months (core.statistics.early_warning
says how). From clear columns only, like every statistic.

An alert's figures are exact counts, shown beside tables that hide small cells. They are
shown only where they give nothing away that the month's own dashboard (all categories and
channels) hides (outside tester: "6 cases in 2026-12" beside a grid of "x" and "<3" gave the
"<3" away by subtraction): the flagged month's count must be shown exactly there, and the
months before must hold none or at least 3 cases. Otherwise the alert is shown without its
figures (Alert.figures_shown)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Case
from core.statistics.early_warning import DEFAULT_RULE, Rise, RiseRule, detect_rises
from core.statistics.figures import Details, dashboard_figures, monthly_counts
from core.statistics.periods import Period, months_in, recent_months
from core.statistics.suppression import MIN_COUNT

Kind = Literal["category", "root_cause"]


@dataclass(frozen=True, slots=True)
class Alert:
    """A flagged rise: what rose (a category code or a root cause), in which month, and the
    figures behind the flag."""

    kind: Kind
    month: Period
    rise: Rise
    #: Whether the counts, expected count and p-value may be shown (module docstring).
    figures_shown: bool = True


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
    return _month_alerts(session, last_complete_month(today), first, rule)


def period_alerts(session: Session, period: Period, today: date,
                  rule: RiseRule = DEFAULT_RULE) -> list[Alert]:
    """The rises of every complete month of `period` (months not over by `today` are still
    filling up), each against the months before it, oldest month first: the "recurring
    themes" of the periodic review. Four queries per month, at most 48 for a year."""
    first = session.scalar(select(func.min(Case.received_on)))
    if first is None:
        return []
    this_month = today.replace(day=1)
    return [alert for month in months_in(period) if month.end <= this_month
            for alert in _month_alerts(session, month.start, first, rule)]


def _month_alerts(session: Session, month_day: date, first: date,
                  rule: RiseRule) -> list[Alert]:
    """The rises of the month holding `month_day` against the `rule.history` months before
    it, counting no month before the one after `first` (the first report's)."""
    months = [m for m in recent_months(month_day, rule.history + 1) if m.start > first]
    if len(months) <= rule.min_history:
        return []
    alerts: list[Alert] = []
    kinds: tuple[Kind, ...] = ("category", "root_cause")
    # Read whether or not something rises: the same queries for every month.
    shown = dashboard_figures(session, months[-1], today=months[-1].end).details
    for kind in kinds:
        series = monthly_counts(session, months, kind)
        alerts += [Alert(kind, months[-1], rise,
                         _discloses_nothing(shown, kind, months[-1], rise, rule))
                   for rise in detect_rises(series, rule)]
    return alerts


def _discloses_nothing(shown: Details | None, kind: Kind, month: Period, rise: Rise,
                       rule: RiseRule) -> bool:
    """Whether the alert's figures are safe beside the month's own dashboard `shown`: its
    count is shown exactly there, and its history is no small cell (0 or at least 3 cases)."""
    if shown is None:  # fewer than 3 cases in the month: the dashboard shows only "<3"
        return False
    try:
        cell = (shown.by_category_month.cell(rise.key, month.label) if kind == "category"
                else shown.by_root_cause[rise.key])
    except (KeyError, ValueError):  # a category the grid does not list
        return False
    history_cases = round(rise.expected * rise.history)
    history_is_small = 0 < history_cases < MIN_COUNT and rise.expected > rule.floor
    return cell.value == rise.latest and not history_is_small
