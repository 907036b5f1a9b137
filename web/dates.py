"""How the stored date of a reporter's action is shown: the day itself, or at week precision
"week of <Monday>", so nobody reads a week's first day as the day the reporter acted."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask_babel import gettext as _

from core.clock import DatePrecision


def reporter_day_label(day: date, precision: DatePrecision) -> str:
    """`day` (a stored reporter date) in words for the current language. Only a Monday can
    stand for a week: another day was stored before the switch to week precision."""
    if precision is DatePrecision.WEEK and day.weekday() == 0:
        label: str = _("week of %(day)s", day=day.isoformat())
        return label
    return day.isoformat()


def install_reporter_dates(app: Flask, precision: DatePrecision) -> None:
    """Give templates the `reporter_day` filter and the `reporter_dates_by_week` flag."""
    app.jinja_env.filters["reporter_day"] = lambda day: reporter_day_label(day, precision)
    app.jinja_env.globals["reporter_dates_by_week"] = precision is DatePrecision.WEEK
