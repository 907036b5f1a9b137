"""The whole loop in a real browser with JavaScript off: a reporter submits through the portal
with an attachment, a case handler logs in to the console with TOTP, opens the case, downloads
the attachment and replies, and the reporter reads the reply in the portal. No request leaves
the two local servers."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from core.models import Case, Reviewer
from core.services import Services
from core.staff.accounts import totp_secret
from tests.core.factories import seed_categories
from tests.reviewer.conftest import new_account

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EVIDENCE = b"2026-11-02 09:14 VPN session dropped\n" * 50


def _serve(app) -> tuple[str, object]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture
def servers(config, services: Services) -> Iterator[tuple[str, str]]:
    import portal
    import reviewer

    dev = replace(config, insecure_dev_cookies=True)
    services.config = dev
    portal_app = portal.create_app(dev, services=services)
    console_app = reviewer.create_app(dev, services=services)
    portal_url, portal_server = _serve(portal_app)
    console_url, console_server = _serve(console_app)
    yield portal_url, console_url
    portal_server.shutdown()  # type: ignore[attr-defined]
    console_server.shutdown()  # type: ignore[attr-defined]


def _browser(playwright):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI")
        pytest.skip("chromium is not installed")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


@pytest.mark.e2e
def test_report_reply_loop_across_both_apps(servers, session_factory, services, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    portal_url, console_url = servers
    handler = new_account(session_factory, services, "hana")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    evidence = tmp_path / "vpn-drops.log"
    evidence.write_bytes(EVIDENCE)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    allowed = {urlsplit(portal_url).netloc, urlsplit(console_url).netloc}
    foreign: list[str] = []

    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        reporter = browser.new_context(java_script_enabled=False, accept_downloads=True)
        staff = browser.new_context(java_script_enabled=False, accept_downloads=True)
        for context in (reporter, staff):
            context.on("request", lambda r: foreign.append(r.url)
                       if urlsplit(r.url).netloc not in allowed else None)

        # 1. The reporter submits with an attachment and notes the receipt code.
        page = reporter.new_page()
        page.goto(portal_url + "/report")
        page.check("input[name=category][value=it_fault]")
        page.fill("#summary", "VPN drops every hour")
        page.fill("#what_happened", "Since the November update the VPN disconnects hourly.")
        page.set_input_files("#attachments", str(evidence))
        page.click("#send-report")
        page.wait_for_selector("#receipt-code")
        receipt = page.inner_text("#receipt-code")
        assert re.fullmatch(r"(\d{4} ){6}\d{4}", receipt)
        page.screenshot(path=str(ARTIFACTS / "loop-01-receipt.png"), full_page=True)

        with session_factory() as s:
            reference = s.execute(select(Case.reference)).scalar_one()
            secret = totp_secret(services, s.get(Reviewer, handler.id))

        # 2. The case handler logs in with TOTP, opens the case, downloads the file, replies.
        console = staff.new_page()
        console.goto(console_url + "/login")
        console.fill("#username", "hana")
        console.fill("#passphrase", handler.passphrase)
        console.fill("#code", pyotp.TOTP(secret).now())
        console.click("#login-submit")
        console.wait_for_url("**/cases")
        console.click(f"text={reference}")
        console.wait_for_selector("#report-summary")
        assert console.inner_text("#report-summary") == "VPN drops every hour"
        with console.expect_download() as download_info:
            console.click(".file-link")
        download = download_info.value
        assert download.suggested_filename == "vpn-drops.log"
        assert Path(download.path()).read_bytes() == EVIDENCE
        console.check("#kind-1")  # information, visible to the reporter
        console.fill("#body", "Thank you. We have asked the network team to check the logs.")
        console.click("#reply-submit")
        console.wait_for_selector("text=We have asked the network team")
        console.screenshot(path=str(ARTIFACTS / "loop-02-console-reply.png"), full_page=True)

        # 3. The reporter comes back with the code and reads the reply.
        page.goto(portal_url + "/follow-up")
        page.fill("#receipt", receipt)
        page.click("#open-report")
        page.wait_for_selector("#stage-name")
        thread = page.inner_text("#messages ~ ol")
        assert "We have asked the network team to check the logs." in thread
        page.screenshot(path=str(ARTIFACTS / "loop-03-reporter-reads.png"), full_page=True)

        reporter.close()
        staff.close()
        browser.close()
    assert foreign == []
