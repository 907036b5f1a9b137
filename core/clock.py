"""Time, injected so that tests can move it and so submitter times are coarsened in one place."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass
class Clock:
    """Source of the current time. `now` is replaceable in tests."""

    now: Callable[[], datetime] = field(default=utc_now)

    def today(self) -> date:
        """Today's date in UTC (the precision at which submitter activity is stored)."""
        return self.now().date()

    def submitter_time(self) -> datetime:
        """The time to record for a submitter's action: midnight UTC of today, never the
        exact moment, which could be matched against network logs."""
        return datetime.combine(self.today(), time.min, tzinfo=UTC)


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the month's last day (31 Jan + 1 = 28 Feb)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
