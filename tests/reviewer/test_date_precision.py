"""The console at `submitter_date_precision = "week"`: reporter dates read as weeks."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from core.cases.casework import post_reviewer_message
from core.clock import DatePrecision
from core.db import transaction
from core.intake.reporter import login_submitter, post_submitter_message
from core.models import MessageKind
from reviewer import create_app
from tests.core.factories import seed_categories, submit
from tests.reviewer.conftest import login_client, new_account

#: Saturday 28 November 2026, in the week of Monday 23 November.
SATURDAY_EVENING = datetime(2026, 11, 28, 20, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "week_of", "note"),
    [("en", "week of 2026-11-23", "deadlines run from its Monday"),
     ("zh-CN", "2026-11-23 当周", "期限从该周的星期一起算")],
)
def test_inbox_and_case_page_show_the_reporters_week(config, services, session_factory,
                                                     language, week_of, note):
    services.clock.now = lambda: SATURDAY_EVENING
    services.clock.precision = DatePrecision.WEEK
    config = dataclasses.replace(config, submitter_date_precision=DatePrecision.WEEK)
    services = dataclasses.replace(services, config=config)
    alice = new_account(session_factory, services, "alice")
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    result = submit(session_factory, services)
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        post_submitter_message(s, services, access, "One more detail from the reporter.")
    with transaction(session_factory) as s:
        post_reviewer_message(s, services, alice.unlocked, result.case_id,
                              MessageKind.INFORMATION, "Thank you, we are on it.")

    app = create_app(config, services=services)
    app.config["TESTING"] = True
    client = login_client(app, session_factory, services, alice)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language

    row = client.get("/cases").text.split(result.reference)[1].split("</tr>")[0]
    # Received and "reporter active" are weeks; the deadlines are plain dates from Monday.
    assert row.count(week_of) == 2
    assert "2026-11-30" in row  # acknowledge by: Monday + 7 days
    assert "2026-11-28" not in row

    page = client.get(f"/cases/{result.case_id}").text
    assert note in page
    summary = page.split('id="case-summary"')[1].split("</dl>")[0]
    assert week_of in summary
    reporter_header = page.split("One more detail from the reporter.")[0].rsplit("<header", 1)[1]
    staff_header = page.split("Thank you, we are on it.")[0].rsplit("<header", 1)[1]
    assert week_of in reporter_header
    assert "2026-11-28" in staff_header and week_of not in staff_header
    app.extensions["candor.database"].engine.dispose()


def test_day_precision_shows_days_without_the_note(app, session_factory, services):
    services.clock.now = lambda: SATURDAY_EVENING
    alice = new_account(session_factory, services, "alice")
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    result = submit(session_factory, services)
    client = login_client(app, session_factory, services, alice)
    page = client.get(f"/cases/{result.case_id}").text
    assert "2026-11-28" in page.split('id="case-summary"')[1].split("</dl>")[0]
    assert "week of" not in page and 'id="week-precision"' not in page


def test_the_statistics_stand_as_of_the_weeks_monday(config, services, session_factory):
    """At week precision the figures count the changes of the weeks before (core.statistics.
    recount), and the page says so, on a Monday too (second reader: it said "from
    tomorrow")."""
    for moment in (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), SATURDAY_EVENING):
        services.clock.now = lambda moment=moment: moment
        services.clock.precision = DatePrecision.WEEK
        weekly = dataclasses.replace(config, submitter_date_precision=DatePrecision.WEEK)
        app = create_app(weekly, services=dataclasses.replace(services, config=weekly))
        app.config["TESTING"] = True
        alice = new_account(session_factory, services, f"alice{moment.day}")
        page = login_client(app, session_factory, services, alice).get("/statistics").text
        monday = (moment - timedelta(days=moment.weekday())).date().isoformat()
        assert (f"As of the start of {monday}: changes made this week are counted from next "
                "Monday") in page
        assert "from tomorrow" not in page
