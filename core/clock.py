"""Time, injected so that tests can move it and so submitter times are coarsened in one place."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class DatePrecision(StrEnum):
    """How coarsely the dates of a reporter's actions are stored (setting
    `submitter_date_precision`).

    Nothing coarser than a week: deadlines run from the stored date (the start of the period),
    and from the first of the month a 7-day acknowledgement deadline would be past before many
    reports arrive.
    """

    DAY = "day"
    #: The Monday of the ISO week.
    WEEK = "week"

    @property
    def days(self) -> int:
        """Length of one period in days."""
        return 7 if self is DatePrecision.WEEK else 1

    def start_of(self, day: date) -> date:
        """The first day of the period holding `day` (what is stored for it)."""
        return day - timedelta(days=day.weekday()) if self is DatePrecision.WEEK else day

    def last_day(self, stored: date) -> date:
        """The latest real day that a stored date (a period's first day) may stand for."""
        return stored + timedelta(days=self.days - 1)


@dataclass
class Clock:
    """Source of the current time. `now` is replaceable in tests; `precision` comes from the
    configuration (core.services.build_services)."""

    now: Callable[[], datetime] = field(default=utc_now)
    precision: DatePrecision = DatePrecision.DAY
    #: The organisation's time zone (setting `timezone`): its calendar day is "today".
    zone: tzinfo = UTC

    def today(self) -> date:
        """Today's date in the organisation's time zone (staff actions, deadlines,
        reminders and housekeeping)."""
        return self.now().astimezone(self.zone).date()

    def statistics_day(self) -> date:
        """The first day of the reporter period (day or week) holding today: the statistics
        count the changes made before it, so that they date a report no closer than its
        stored date does (core.statistics.recount)."""
        return self.precision.start_of(self.today())

    def first_open_period(self, grace: timedelta) -> date:
        """The first reporter period (day or week, in the organisation's time zone) that did
        not end at least `grace` ago: everything dated before it is over for good."""
        return self.precision.start_of((self.now() - grace).astimezone(self.zone).date())

    def submitter_day(self) -> date:
        """The date to record for a reporter's action: today, or the Monday of this week at
        week precision; never anything finer, which could be matched against network logs."""
        return self.precision.start_of(self.today())


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the month's last day (31 Jan + 1 = 28 Feb)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
