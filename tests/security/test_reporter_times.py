"""No store dates a reporter's action finer than the configured precision.

A reporter submits with a file, logs in, downloads it and replies with another file through
the portal, at a known, odd moment. Then every column of every table (audit queue, throttle
buckets and follow-up sessions included) and every blob file's time is searched for that
moment: at day precision no time of day may appear, at week precision not even the day.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session, sessionmaker

from core.clock import DatePrecision
from core.services import Services
from tests.portal import conftest as portal_fixtures
from tests.portal.conftest import login_via, receipt_of, reply_via, submit_report_via

intake_reviewer = portal_fixtures.intake_reviewer
make_portal = portal_fixtures.make_portal

#: A Wednesday afternoon, in the week of Monday 3 March 2031 (far from the real clock, which
#: dates the fixtures' staff accounts).
MOMENT = datetime(2031, 3, 5, 17, 43, 29, 512000, tzinfo=UTC)
MONDAY = date(2031, 3, 3)


def _every_value(session_factory: sessionmaker[Session]) -> str:
    """All non-binary values of all tables, as text (dates, times, numbers, JSON)."""
    values = []
    with session_factory() as s:
        for table in inspect(s.connection()).get_table_names():
            for row in s.execute(text(f"select * from {table}")):  # noqa: S608 - own names
                values += [f"{table}: {v}" for v in row
                           if not isinstance(v, (bytes, memoryview)) and v is not None]
    return "\n".join(values)


def _moment_needles(precision: DatePrecision) -> dict[str, str]:
    stamp = MOMENT.timestamp()
    needles = {
        "time of day": "17:43",
        "hour": "2031-03-05 17",
        "iso hour": "2031-03-05T17",
        "epoch seconds": str(int(stamp)),
        "epoch minutes": str(int(stamp) // 60),
        "epoch hours": str(int(stamp) // 3600),
    }
    if precision is DatePrecision.WEEK:
        needles["day"] = "2031-03-05"
        needles["day number"] = str(MOMENT.toordinal())
    return needles


@pytest.mark.parametrize("precision", list(DatePrecision))
def test_reporter_actions_leave_no_finer_time(
    make_portal: Callable[..., Flask], session_factory, services: Services, intake_reviewer,
    precision: DatePrecision,
) -> None:
    assert MOMENT.date().weekday() == 2 and precision.start_of(MOMENT.date()) in (
        MOMENT.date(), MONDAY)
    services.clock.now = lambda: MOMENT
    services.clock.precision = precision
    client = make_portal(submitter_date_precision=precision).test_client()

    submitted = submit_report_via(client, files=[("evidence.txt", b"first file")])
    assert submitted.status_code == 200, submitted.text
    assert login_via(client, receipt_of(submitted.text)).status_code == 303
    case_page = client.get("/case").text
    file_link = re.search(r'href="(/case/files/\d+)"', case_page)
    assert file_link, "the reporter's own file is listed"
    assert client.get(file_link.group(1)).data == b"first file"
    assert reply_via(client, "More detail.", [("more.txt", b"second file")]).status_code == 303

    stored = _every_value(session_factory)
    # The scan sees the reporter's rows: the stored date of their actions is there.
    assert str(precision.start_of(MOMENT.date())) in stored
    for label, needle in _moment_needles(precision).items():
        assert needle not in stored, f"{label} of the reporter's action is stored"
    midnight = datetime.combine(precision.start_of(MOMENT.date()), datetime.min.time(),
                                tzinfo=UTC).timestamp()
    blob_times = {p.stat().st_mtime for p in services.config.blob_dir.rglob("*") if p.is_file()}
    assert blob_times == {midnight}
