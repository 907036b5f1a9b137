"""The figures of the periodic review (定期检视, docs/PROCESS.md stage 6): the dashboard's
figures of a period, the previous period's total for comparison, and the early warnings of
the period's complete months (its recurring themes). Clear columns only, like every
statistic: nothing is decrypted, and every count is suppressed as on the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from core.statistics.alerts import Alert, period_alerts
from core.statistics.figures import Figures, dashboard_figures
from core.statistics.periods import Period, previous_period


@dataclass(frozen=True)
class Review:
    """What the review report shows: `figures` of the period (all categories and channels),
    `previous` of the period before (only its total is shown), the period's `alerts`, and the
    day the figures were taken."""

    figures: Figures
    previous: Figures
    alerts: list[Alert]
    made_on: date


def review_figures(session: Session, period: Period, today: date) -> Review:
    """The review of `period` as of `today` (a period still running is reviewed so far)."""
    return Review(figures=dashboard_figures(session, period, today=today),
                  previous=dashboard_figures(session, previous_period(period), today=today),
                  alerts=period_alerts(session, period, today), made_on=today)
