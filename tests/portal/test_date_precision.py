"""The portal at `submitter_date_precision = "week"`: the reporter reads weeks, not days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask

from core.clock import DatePrecision
from core.services import Services
from tests.portal.conftest import (
    login_via,
    only_case_id,
    post_reviewer_reply,
    receipt_of,
    reply_via,
    submit_report_via,
)

#: Saturday 28 November 2026, in the week of Monday 23 November.
SATURDAY_EVENING = datetime(2026, 11, 28, 20, 15, tzinfo=UTC)


@pytest.fixture
def weekly_portal(make_portal: Callable[..., Flask], services: Services) -> Callable[..., Flask]:
    """A portal storing reporter dates by week, on Saturday evening."""
    services.clock.now = lambda: SATURDAY_EVENING
    services.clock.precision = DatePrecision.WEEK

    def make(**changes: object) -> Flask:
        return make_portal(submitter_date_precision=DatePrecision.WEEK, **changes)

    return make


@pytest.mark.parametrize(
    ("language", "sent", "week_of", "note"),
    [
        ("en", "Sent in the week of 2026-11-23.", "week of 2026-11-23",
         "only the week of each of your actions is kept"),
        ("zh-CN", "提交于 2026-11-23 当周。", "2026-11-23 当周", "只保留您每次操作所在的那一周"),
    ],
)
def test_case_page_speaks_of_the_week(weekly_portal, session_factory, services, intake_reviewer,
                                      language, sent, week_of, note) -> None:
    client = weekly_portal().test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    receipt = receipt_of(submit_report_via(client).text)
    post_reviewer_reply(session_factory, services, intake_reviewer, only_case_id(session_factory),
                        "Could you tell us which floor?")
    assert login_via(client, receipt).status_code == 303
    assert reply_via(client, "Floor three.").status_code == 303
    page = client.get("/case").text
    assert sent in page and note in page
    # The reporter's own message is dated by its week; the case handler's by its day.
    mine = page.split("Floor three.")[0].rsplit('<li class="message', 1)[1]
    theirs = page.split("Could you tell us which floor?")[0].rsplit('<li class="message', 1)[1]
    assert week_of in mine
    assert "2026-11-28" in theirs and week_of not in theirs
    assert "2026-11-28" not in page.replace(theirs, "")


@pytest.mark.parametrize(
    ("language", "refusal"),
    [("en", "You have sent many messages this week. Please try again next week."),
     ("zh-CN", "您本周已经发送了很多消息，请下周再试。")],
)
def test_weekly_message_limit_is_explained(weekly_portal, intake_reviewer, language,
                                           refusal) -> None:
    client = weekly_portal(messages_per_case_per_day=0).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert login_via(client, receipt_of(submit_report_via(client).text)).status_code == 303
    refused = reply_via(client, "kept for next week")
    assert refused.status_code == 400
    assert refusal in refused.text
    assert "kept for next week" in refused.text


def test_day_precision_shows_the_day(make_portal, services, intake_reviewer) -> None:
    services.clock.now = lambda: SATURDAY_EVENING
    client = make_portal().test_client()
    assert login_via(client, receipt_of(submit_report_via(client).text)).status_code == 303
    page = client.get("/case").text
    assert "Sent on 2026-11-28." in page
    assert "week of" not in page


def test_days_stored_before_a_switch_to_weeks_still_read_as_days(
        make_portal, services, intake_reviewer) -> None:
    services.clock.now = lambda: SATURDAY_EVENING
    day_client = make_portal().test_client()
    receipt = receipt_of(submit_report_via(day_client).text)
    services.clock.precision = DatePrecision.WEEK
    client = make_portal(submitter_date_precision=DatePrecision.WEEK).test_client()
    assert login_via(client, receipt).status_code == 303
    page = client.get("/case").text
    assert "Sent on 2026-11-28." in page
    assert "week of" not in page
