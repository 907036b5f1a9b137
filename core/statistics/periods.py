"""Reporting periods of the dashboard: a year, a quarter or a month.

A period is a half-open range of days [start, end), so that consecutive periods never share a
day and "received in the period" is one index range on `cases.received_on`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

#: The years a period may name: wide enough for any archive, narrow enough to refuse typos.
MIN_YEAR = 2000
MAX_YEAR = 2999

# ASCII digits only: int() would read "２０２６" or "٢٠٢٦" as 2026 too (outside tester).
_PATTERN = re.compile(r"(?P<year>\d{4})(?:-(?:[Qq](?P<quarter>\d)|(?P<month>\d{1,2})))?",
                      re.ASCII)


class FuturePeriod(ValueError):
    """A period that begins after today: it has no cases yet, and a report of it would look
    like one of a quiet period."""


class OutOfRange(ValueError):
    """A period written the right way whose year, quarter or month does not exist here:
    `part` says which ("year", "quarter" or "month"), `number` what was written."""

    def __init__(self, message: str, part: str, number: int) -> None:
        super().__init__(message)
        self.part = part
        self.number = number


@dataclass(frozen=True, order=True)
class Period:
    """Days from `start` (inclusive) to `end` (exclusive), named by `label` ("2026",
    "2026-Q4" or "2026-11")."""

    start: date
    end: date
    label: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end


def _month_start(year: int, month: int) -> date:
    """The first day of `month` of `year`, where month 13 is January of the next year."""
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def month_period(year: int, month: int) -> Period:
    """The calendar month `month` (1-12) of `year`."""
    return Period(_month_start(year, month), _month_start(year, month + 1),
                  f"{year:04d}-{month:02d}")


def quarter_period(year: int, quarter: int) -> Period:
    """Quarter `quarter` (1-4) of `year`."""
    first = 3 * (quarter - 1) + 1
    return Period(_month_start(year, first), _month_start(year, first + 3),
                  f"{year:04d}-Q{quarter}")


def year_period(year: int) -> Period:
    """The calendar year `year`."""
    return Period(date(year, 1, 1), date(year + 1, 1, 1), f"{year:04d}")


def parse_period(text: str, today: date | None = None) -> Period:
    """The period named by `text`: "2026" (a year), "2026-Q4" (a quarter, Q1-Q4) or "2026-11"
    (a month). ValueError, with a message fit to show to the user, for anything else;
    FuturePeriod (a ValueError) for a period that begins after `today`, when given."""
    period = _parse(text)
    if today is not None and period.start > today:
        raise FuturePeriod(f"the period {period.label} has not begun yet (today is "
                           f"{today.isoformat()})")
    return period


def _parse(text: str) -> Period:
    cleaned = text.strip()
    match = _PATTERN.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"'{text}' is not a period: write a year (2026), a quarter (2026-Q4) "
                         "or a month (2026-11)")
    year = int(match["year"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise OutOfRange(f"the year {year} is outside {MIN_YEAR}-{MAX_YEAR}", "year", year)
    if match["quarter"] is not None:
        quarter = int(match["quarter"])
        if not 1 <= quarter <= 4:
            raise OutOfRange(f"there is no quarter Q{quarter}: quarters are Q1 to Q4",
                             "quarter", quarter)
        return quarter_period(year, quarter)
    if match["month"] is not None:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise OutOfRange(f"there is no month {month}: months are 01 to 12", "month", month)
        return month_period(year, month)
    return year_period(year)


def months_in(period: Period) -> list[Period]:
    """The calendar months that `period` covers, in order (any day of a month counts it)."""
    months = []
    year, month = period.start.year, period.start.month
    while _month_start(year, month) < period.end:
        months.append(month_period(year + (month - 1) // 12, (month - 1) % 12 + 1))
        month += 1
    return months


def month_of(day: date) -> Period:
    """The calendar month holding `day`."""
    return month_period(day.year, day.month)


def recent_months(today: date, count: int) -> list[Period]:
    """The `count` calendar months ending with the month of `today`, oldest first (the window
    an early-warning rule compares, e.g. with `core.statistics.figures.monthly_counts`)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    last = today.year * 12 + today.month - 1  # months since year 0, zero-based
    return [month_period(m // 12, m % 12 + 1) for m in range(last - count + 1, last + 1)]


def previous_period(period: Period) -> Period:
    """The period of the same kind just before `period` (2026-Q4 → 2026-Q3, 2026 → 2025,
    2026-01 → 2025-12), for the review report's comparison. The period before the first one
    a user may name (2000 → 1999) is fine: it simply holds no case."""
    months = len(months_in(period))
    start = period.start.year * 12 + period.start.month - 1 - months  # zero-based months
    year, month = start // 12, start % 12 + 1
    if months == 12:
        return year_period(year)
    if months == 3:
        return quarter_period(year, (month - 1) // 3 + 1)
    return month_period(year, month)
