"""Key custody in a real browser with JavaScript off, in English and Chinese: an admin's new
account and routing change wait for a second admin, who approves them; a case handler asks for
a confidential reporter's identity, a custodian approves with the passphrase, and the handler
reveals it."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from core.cases.content import Identity, ReportContent
from core.models import Category, Reviewer, Role
from tests.core.factories import (
    ReviewerHandle,
    add_reviewer,
    seed_categories,
    strong_passphrase,
    submit,
)
from tests.e2e.console_login import console_login
from tests.e2e.test_console_browser import ARGS, ARTIFACTS, CHROMIUM

#: Text that shows each page is in the chosen language.
APPROVALS_TITLE = {"en": "Approvals", "zh_CN": "审批"}
REQUESTS_TITLE = {"en": "Identity requests", "zh_CN": "身份查看申请"}


@pytest.fixture
def console_url(config, services):
    from werkzeug.serving import make_server

    from reviewer import create_app
    dev_config = replace(config, insecure_dev_cookies=True)
    services.config = dev_config
    app = create_app(dev_config, services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["candor.database"].engine.dispose()


def _enrol_in_browser(browser, console_url: str, session_factory, services, lang: str,
                      username: str, one_time: str, shot: str) -> str:
    """The owner's first login: the authenticator from the key on the page, their own
    passphrase; returns the enrolment code their waiting page shows."""
    with session_factory() as s:
        account_id = s.execute(select(Reviewer.id).where(
            Reviewer.username == username)).scalar_one()
    handle = ReviewerHandle(account_id, username, one_time, b"")
    context, page = console_login(browser, console_url, session_factory, services, handle,
                                  lang)
    page.wait_for_selector("#totp-secret")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#enrol-submit")
    page.wait_for_selector("#passphrase-form")
    own = strong_passphrase("newbie")
    page.fill("#current", one_time)
    page.fill("#new", own)
    page.fill("#confirm", own)
    page.click("#passphrase-submit")
    page.wait_for_selector("#enrolment-code")
    page.screenshot(path=str(ARTIFACTS / f"{shot}-00-enrolment-code.png"), full_page=True)
    code = page.inner_text("#enrolment-code").strip()
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", code), code
    context.close()
    return code


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_four_eyes_and_the_identity_request_in_a_browser(console_url, session_factory,
                                                         services, lang):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    ada = add_reviewer(session_factory, services, "ada", Role.ADMIN)
    ben = add_reviewer(session_factory, services, "ben", Role.ADMIN)
    ivy = add_reviewer(session_factory, services, "ivy")
    mel = add_reviewer(session_factory, services, "mel")
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = f"key-custody-{lang}"
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        # The first admin asks for an account and a routing change.
        first, page = console_login(browser, console_url, session_factory, services, ada, lang)
        page.goto(console_url + "/admin/reviewers/new")
        page.fill("#username", "newbie")
        page.check("input[name=role][value=reviewer]")
        page.fill("#display_name", "New Colleague")
        page.click("#new-reviewer-submit")
        page.wait_for_selector("#awaiting-approval")
        one_time = page.inner_text("#one-time-passphrase").strip()
        page.goto(console_url + "/admin/routing")
        page.check(f"#routing-it_fault input[value='{mel.id}']")
        page.click("#routing-it_fault button[type=submit]")
        page.wait_for_selector("#routing-asked")
        page.goto(console_url + "/admin/approvals")
        assert APPROVALS_TITLE[lang] in page.inner_text("h1")
        assert page.locator("button[id^=approve-]").count() == 0  # not their own requests
        first.close()
        # The new colleague enrols with the one-time passphrase, and their page shows the
        # enrolment code they read to the second admin.
        code = _enrol_in_browser(browser, console_url, session_factory, services, lang,
                                 "newbie", one_time, shot)
        # The second admin approves both, the account with the code the owner read out.
        second, page = console_login(browser, console_url, session_factory, services, ben, lang)
        page.goto(console_url + "/admin/approvals")
        page.fill("input[id^=code-]", code)
        page.screenshot(path=str(ARTIFACTS / f"{shot}-01-approvals.png"), full_page=True)
        while page.locator("button[id^=approve-]").count():
            page.locator("button[id^=approve-]").first.click()
            page.wait_for_selector("#notice")
        second.close()
        with session_factory() as s:
            assert s.execute(select(Reviewer.approved).where(
                Reviewer.username == "newbie")).scalar_one()
            category = s.execute(select(Category).where(Category.code == "it_fault")).scalar_one()
            assert sorted(r.username for r in category.intake_reviewers) == ["ivy", "mel"]
        # A confidential report now reaches both; ivy asks for the identity.
        case = submit(session_factory, services, identity=Identity(name="Wang Fang 王芳"),
                      report=ReportContent(summary="Badge reader logs are edited"))
        handler, page = console_login(browser, console_url, session_factory, services, ivy, lang)
        page.goto(f"{console_url}/cases/{case.case_id}")
        assert "keeper" in page.inner_text("#readers")
        page.click("#identity-request-link")
        page.fill("#reason", "To invite the reporter to an interview")
        page.click("#identity-request-submit")
        page.wait_for_selector("#notice")
        # The custodian approves with the passphrase.
        custodian, cpage = console_login(browser, console_url, session_factory, services,
                                         keeper, lang)
        cpage.click("#nav-identity")
        assert REQUESTS_TITLE[lang] in cpage.inner_text("h1")
        assert "To invite the reporter to an interview" in cpage.inner_text("#identity-requests")
        cpage.locator("a[id^=approve-]").first.click()
        cpage.fill("#passphrase", keeper.passphrase)
        cpage.screenshot(path=str(ARTIFACTS / f"{shot}-02-approve.png"), full_page=True)
        cpage.click("#decide-submit")
        cpage.wait_for_selector("#no-requests")
        custodian.close()
        # The handler reveals it.
        page.goto(f"{console_url}/cases/{case.case_id}")
        page.click("#reveal-link")
        page.fill("#reason", "Interview arranged")
        page.fill("#passphrase", ivy.passphrase)
        page.click("#reveal-submit")
        page.wait_for_selector("#identity")
        assert re.search("Wang Fang", page.inner_text("#identity"))
        page.screenshot(path=str(ARTIFACTS / f"{shot}-03-revealed.png"), full_page=True)
        handler.close()
        browser.close()
