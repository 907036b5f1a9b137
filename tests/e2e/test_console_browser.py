"""The console in a real browser with JavaScript off: TOTP login, case, download, reply."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pyotp
import pytest

from core.cases.content import ReportContent
from core.models import Reviewer
from core.staff.accounts import totp_secret
from tests.core.factories import seed_categories, submit
from tests.reviewer.conftest import new_account

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


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


@pytest.mark.e2e
def test_console_login_case_download_reply(console_url, session_factory, services):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    handle = new_account(session_factory, services, "erin")
    seed_categories(session_factory, {"it_fault": [handle.id]}, services=services)
    result = submit(session_factory, services,
                    report=ReportContent(summary="Broken badge reader", description="E2E"),
                    files=[("badge log.txt", b"line one\nline two\n")])
    with session_factory() as s:
        secret = totp_secret(services, s.get(Reviewer, handle.id))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(java_script_enabled=False, accept_downloads=True)
        page = context.new_page()
        page.goto(console_url + "/login")
        page.fill("#username", "erin")
        page.fill("#passphrase", handle.passphrase)
        page.fill("#code", pyotp.TOTP(secret).now())
        page.screenshot(path=str(ARTIFACTS / "console-01-login.png"))
        page.click("#login-submit")
        page.wait_for_url("**/cases")
        page.screenshot(path=str(ARTIFACTS / "console-02-inbox.png"), full_page=True)
        page.click(f"text={result.reference}")
        page.wait_for_selector("#report-summary")
        assert page.inner_text("#report-summary") == "Broken badge reader"
        page.screenshot(path=str(ARTIFACTS / "console-03-case.png"), full_page=True)
        with page.expect_download() as download_info:
            page.click(".file-link")
        download = download_info.value
        assert download.suggested_filename == "badge log.txt"
        assert Path(download.path()).read_bytes() == b"line one\nline two\n"
        page.check("#kind-1")  # information, to the reporter
        page.fill("#body", "Thank you, we are looking into it.")
        page.click("#reply-submit")
        page.wait_for_selector("text=Thank you, we are looking into it.")
        page.screenshot(path=str(ARTIFACTS / "console-04-replied.png"), full_page=True)
        context.close()
        browser.close()
