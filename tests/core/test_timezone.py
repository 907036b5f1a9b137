"""The organisation's time zone (setting `timezone`): its calendar day is the one dates,
deadlines and reminders count in."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.clock import Clock, DatePrecision
from core.config import ConfigError, load_config
from core.models import Case
from tests.core.factories import add_reviewer, seed_categories, submit

#: 17:30 UTC on New Year's Eve is already 1 January in Shanghai (UTC+8).
EVENING_UTC = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)


def test_the_setting_takes_iana_names_and_refuses_others(tmp_path: Path) -> None:
    env = {"CANDOR_DATA_DIR": str(tmp_path)}
    assert load_config(env).timezone == "UTC"
    assert load_config({**env, "CANDOR_TIMEZONE": "Asia/Shanghai"}).timezone == "Asia/Shanghai"
    for wrong in ("Mars/Olympus", "", "../etc/passwd", "UTC+8"):
        with pytest.raises(ConfigError, match="timezone"):
            load_config({**env, "CANDOR_TIMEZONE": wrong})


def test_today_is_the_organisations_day() -> None:
    shanghai = Clock(now=lambda: EVENING_UTC, zone=ZoneInfo("Asia/Shanghai"))
    assert shanghai.today() == date(2027, 1, 1)
    assert Clock(now=lambda: EVENING_UTC).today() == date(2026, 12, 31)
    # A week-precision reporter date is the Monday of the organisation's week.
    weekly = Clock(now=lambda: EVENING_UTC, zone=ZoneInfo("Asia/Shanghai"),
                   precision=DatePrecision.WEEK)
    assert weekly.submitter_day() == date(2026, 12, 28)


def test_deadlines_count_from_the_organisations_day(session_factory, services) -> None:
    handler = add_reviewer(session_factory, services, "hana")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    shanghai = dataclasses.replace(services, clock=Clock(
        now=lambda: EVENING_UTC, zone=ZoneInfo("Asia/Shanghai")))
    result = submit(session_factory, shanghai)
    with session_factory() as s:
        case = s.get(Case, result.case_id)
        assert case.received_on == date(2027, 1, 1)
        assert case.acknowledge_due == date(2027, 1, 8)
