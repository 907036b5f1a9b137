"""The reporter's choice of readers in a real browser (JavaScript off), in English and
Chinese: the form shows who the chosen category reaches; the reporter leaves one handler out
and sends; that handler holds no key of the report, and the case page says who can read it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from core.categories.intake_routes import set_intake
from core.db import transaction
from core.models import Case, CaseGrant, Reviewer
from tests.core.factories import add_reviewer
from tests.e2e.test_portal_browser import ARGS, ARTIFACTS, CHROMIUM, LANGUAGES, require_browser
from tests.portal.conftest import LiveServer, live_server
from tests.portal.conftest import intake_reviewer as intake_reviewer  # noqa: F401 - fixture
from tests.portal.conftest import make_portal as make_portal  # noqa: F401 - fixture

#: The readers section's title in each language.
READERS_TITLE = {"en": "Who will read your report", "zh_CN": "谁会阅读您反映的问题"}


@pytest.fixture
def portal(make_portal: Callable[..., Flask]) -> Iterator[LiveServer]:  # noqa: F811
    with live_server(make_portal(insecure_dev_cookies=True)) as server:
        yield server


@pytest.mark.e2e
@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_a_reporter_leaves_a_handler_out_in_a_browser(
        portal: LiveServer, session_factory, services, intake_reviewer, lang: str  # noqa: F811
) -> None:
    sync_api = require_browser()
    settings = LANGUAGES[lang]
    suspect = add_reviewer(session_factory, services, "suspect")
    with transaction(session_factory) as s:
        s.get(Reviewer, suspect.id).display_name = "Sam Suspect"
        set_intake(s, services.keyring,
                   "it_fault", [s.get(Reviewer, i) for i in (intake_reviewer.id, suspect.id)])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(java_script_enabled=False, locale=settings["locale"],
                                      extra_http_headers={"Accept-Language": settings["accept"]})
        page = context.new_page()
        page.goto(portal.base + "/report")
        assert READERS_TITLE[lang] in page.inner_text("#readers")
        assert "Sam Suspect" in page.inner_text("#readers-it_fault")
        page.check("input[name=category][value=it_fault]")
        page.check(f"#exclude-it_fault-{suspect.id}")
        page.fill("#summary", f"Logs are edited ({lang})")
        page.fill("#what_happened", "The badge logs change overnight. 门禁日志被改动。")
        page.screenshot(path=str(ARTIFACTS / f"portal-readers-{lang}-01-form.png"),
                        full_page=True)
        page.click("#send-report")
        page.wait_for_selector("#receipt-code")
        code = page.inner_text("#receipt-code").strip()
        page.goto(portal.base + "/follow-up")
        page.fill("#receipt", code)
        page.click("#open-report")
        page.wait_for_selector("#readers")
        readers = page.inner_text("#readers")
        assert "Sam Suspect" not in readers and "intake" in readers
        assert page.locator("#readers-left-out").count() == 1
        page.screenshot(path=str(ARTIFACTS / f"portal-readers-{lang}-02-case.png"),
                        full_page=True)
        context.close()
        browser.close()
    with session_factory() as s:
        case_id = s.execute(select(Case.id)).scalar_one()
        holders = set(s.execute(select(CaseGrant.reviewer_id).where(
            CaseGrant.case_id == case_id, CaseGrant.reviewer_id.is_not(None))).scalars())
    assert suspect.id not in holders and intake_reviewer.id in holders
