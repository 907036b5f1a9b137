"""core.statistics.periods: the periods the dashboard, the CSV and the review report name."""

from __future__ import annotations

from datetime import date

import pytest

from core.statistics.periods import (
    FuturePeriod,
    Period,
    month_of,
    months_in,
    parse_period,
    previous_period,
    recent_months,
)


def test_parse_period() -> None:
    assert parse_period("2026") == Period(date(2026, 1, 1), date(2027, 1, 1), "2026")
    assert parse_period(" 2026-q4 ") == Period(date(2026, 10, 1), date(2027, 1, 1), "2026-Q4")
    assert parse_period("2026-Q1") == Period(date(2026, 1, 1), date(2026, 4, 1), "2026-Q1")
    assert parse_period("2026-11") == Period(date(2026, 11, 1), date(2026, 12, 1), "2026-11")
    assert parse_period("2026-12").end == date(2027, 1, 1)
    assert parse_period("2026-2").label == "2026-02"
    assert date(2026, 12, 31) in parse_period("2026") and date(2027, 1, 1) not in parse_period(
        "2026")


@pytest.mark.parametrize("text, message", [
    ("", "not a period"), ("26", "not a period"), ("2026-Q5", "quarters are Q1 to Q4"),
    ("2026-13", "months are 01 to 12"), ("2026-00", "months are 01 to 12"),
    ("1999", "outside"), ("2026/11", "not a period"), ("2026-11-01", "not a period"),
    # Digits of other scripts, which int() would read (outside tester).
    ("２０２６", "not a period"), ("٢٠٢٦", "not a period"), ("2026-Q４", "not a period")])
def test_parse_period_refuses_with_a_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_period(text)


def test_a_period_that_has_not_begun_is_refused_when_today_is_given() -> None:
    today = date(2026, 12, 6)
    assert parse_period("2026-12", today).label == "2026-12"  # begun, not over
    assert parse_period("2026", today).label == "2026"
    for text in ("2027", "2027-Q1", "2027-01", "2999"):
        with pytest.raises(FuturePeriod, match="has not begun yet"):
            parse_period(text, today)
    assert parse_period("2999").label == "2999"  # without today: any period


def test_months() -> None:
    assert [m.label for m in months_in(parse_period("2026-Q4"))] == [
        "2026-10", "2026-11", "2026-12"]
    assert len(months_in(parse_period("2026"))) == 12
    assert months_in(parse_period("2026-02")) == [parse_period("2026-02")]
    assert month_of(date(2026, 2, 28)) == parse_period("2026-02")
    assert [m.label for m in recent_months(date(2027, 2, 10), 4)] == [
        "2026-11", "2026-12", "2027-01", "2027-02"]


@pytest.mark.parametrize("period, previous", [
    ("2026-Q4", "2026-Q3"), ("2026-Q1", "2025-Q4"), ("2026", "2025"), ("2026-01", "2025-12"),
    ("2026-11", "2026-10")])
def test_previous_period_is_the_same_kind_just_before(period: str, previous: str) -> None:
    before = previous_period(parse_period(period))
    assert before == parse_period(previous)
    assert before.end == parse_period(period).start


@pytest.mark.parametrize("period, previous", [
    ("2000", "1999"), ("2000-Q1", "1999-Q4"), ("2000-01", "1999-12")])
def test_the_first_periods_have_one_before_them(period: str, previous: str) -> None:
    """The review report of the earliest period a user may name still compares it with the
    one before (which holds no case), instead of refusing its own comparison."""
    before = previous_period(parse_period(period))
    assert before.label == previous and before.end == parse_period(period).start
