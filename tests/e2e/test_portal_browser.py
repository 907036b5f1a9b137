"""The submitter portal in a real browser (Debian Chromium, JavaScript off), in English and
in Chinese: send a report with a file, note the receipt code, log in, reply with a file, see
it in the thread. Every request the browser makes must go to the portal itself."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from crypto.receipt import normalise_receipt
from tests.portal.conftest import LiveServer, live_server
from tests.portal.conftest import intake_reviewer as intake_reviewer  # noqa: F401 - fixture
from tests.portal.conftest import make_portal as make_portal  # noqa: F401 - fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LANGUAGES = {
    "en": {
        "locale": "en-US",
        "accept": "en-US,en;q=0.9",
        "html_lang": "en",
        "sent": "Your report has been sent",
        "stage": "Stage:",
    },
    # The pages must be in Chinese, not merely labelled so.
    "zh_CN": {
        "locale": "zh-CN",
        "accept": "zh-CN,zh;q=0.9",
        "html_lang": "zh-CN",
        "sent": "您反映的问题已提交",
        "stage": "当前阶段：",
    },
}


def require_browser():  # type: ignore[no-untyped-def]
    """The Playwright sync API, or a skip (a failure in CI) when the browser is missing."""
    try:
        from playwright import sync_api
    except ImportError:
        sync_api = None
    missing = sync_api is None or not Path(CHROMIUM).exists()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"Playwright and {CHROMIUM} are required in CI")
        pytest.skip(f"Playwright or {CHROMIUM} is not installed")
    return sync_api


@pytest.fixture
def portal(make_portal: Callable[..., Flask]) -> Iterator[LiveServer]:  # noqa: F811
    with live_server(make_portal(insecure_dev_cookies=True)) as server:
        yield server


@pytest.mark.e2e
@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_portal_submit_follow_up_reply_in_browser(
    portal: LiveServer, lang: str, tmp_path: Path
) -> None:
    sync_api = require_browser()
    settings = LANGUAGES[lang]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    own_origin = f"127.0.0.1:{portal.port}"
    requests: list[str] = []

    def shot(page, step: str) -> None:  # type: ignore[no-untyped-def]
        page.screenshot(path=str(ARTIFACTS / f"portal-{lang}-{step}.png"), full_page=True)

    evidence = b"2024-05-06 10:00 VPN dropped\n" * 50
    reply_file = os.urandom(3000)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(
            java_script_enabled=False,
            accept_downloads=True,
            locale=settings["locale"],
            extra_http_headers={"Accept-Language": settings["accept"]},
        )
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        try:
            page.goto(portal.base + "/")
            assert page.get_attribute("html", "lang") == settings["html_lang"]
            shot(page, "01-landing")
            page.click("#start-report")
            page.wait_for_selector("#report-form")
            page.check("#category-0")
            page.fill("#summary", f"VPN drops ({lang})")
            page.fill("#what_happened", "It drops every hour. 每小时断开一次。")
            page.fill("#when", "Since Monday")
            page.set_input_files(
                "#report-form #attachments",
                files=[{"name": "vpn.log", "mimeType": "text/plain", "buffer": evidence}],
            )
            shot(page, "02-form")
            page.click("#send-report")
            page.wait_for_selector("#receipt-code")
            assert page.get_attribute("html", "lang") == settings["html_lang"]
            assert settings["sent"] in page.inner_text("main")
            code = page.inner_text("#receipt-code").strip()
            assert re.fullmatch(r"(\d{4} ){6}\d{4}", code)
            assert normalise_receipt(code) not in page.url
            shot(page, "03-receipt")

            page.click("#print-receipt")
            page.wait_for_selector("body.print-page")
            assert page.inner_text("#receipt-code").strip() == code
            assert normalise_receipt(code) not in page.url
            shot(page, "04-print")

            page.goto(portal.base + "/follow-up")
            page.fill("#receipt", code)
            shot(page, "05-login")
            page.click("#open-report")
            page.wait_for_selector("#stage")
            assert settings["stage"] in page.inner_text("#stage")
            assert f"VPN drops ({lang})" in page.inner_text("#report")
            assert "vpn.log" in page.inner_text("#report ~ ul.files")
            shot(page, "06-case")
            with page.expect_download() as info:
                page.click("text=vpn.log")
            assert Path(info.value.path()).read_bytes() == evidence

            page.fill("#body", "Here is another log. 这是另一份日志。")
            page.set_input_files(
                "#reply-form #attachments",
                files=[
                    {
                        "name": "second.bin",
                        "mimeType": "application/octet-stream",
                        "buffer": reply_file,
                    }
                ],
            )
            shot(page, "07-reply")
            page.click("#send-reply")
            page.wait_for_selector(".message-submitter")
            thread = page.inner_text("ol.thread")
            assert "Here is another log. 这是另一份日志。" in thread
            assert "second.bin" in thread
            assert page.get_attribute("html", "lang") == settings["html_lang"]
            shot(page, "08-thread")
            with page.expect_download() as info:
                page.click("ol.thread >> text=second.bin")
            assert info.value.suggested_filename == "second.bin"
            assert Path(info.value.path()).read_bytes() == reply_file

            page.click("#logout")
            page.wait_for_selector("#start-report")
            page.goto(portal.base + "/case")
            page.wait_for_selector("#not-recognised")
            shot(page, "09-logged-out")
        finally:
            context.close()
            browser.close()

    assert len(requests) >= 10
    foreign = [
        url
        for url in requests
        if urlsplit(url).netloc != own_origin or urlsplit(url).scheme != "http"
    ]
    assert foreign == [], foreign
    assert (ARTIFACTS / f"portal-{lang}-08-thread.png").stat().st_size > 1000
