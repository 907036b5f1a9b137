"""Early warnings for the dashboard and the admins' digest: categories and root causes whose
last complete month rose well above their own previous months (core.statistics.early_warning
says how). From clear columns only, like every statistic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Case
from core.statistics.early_warning import DEFAULT_RULE, Rise, RiseRule, detect_rises
from core.statistics.figures import monthly_counts
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
    for kind in kinds:
        series = monthly_counts(session, months, kind)
        alerts += [Alert(kind, months[-1], rise) for rise in detect_rises(series, rule)]
    return alerts
