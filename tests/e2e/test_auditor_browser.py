"""The auditor's work in a real browser with JavaScript off, in English and Chinese: the access
log and its filters, a checkpoint signed on demand, and the signed export downloaded and
verified offline with the checkpoint the auditor kept. Screenshots: artifacts/e2e/auditor-*."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.audit.checkpoints import sign_checkpoint, verifier_key
from core.audit.verifier import verify_export
from core.cases.content import ReportContent
from core.db import transaction
from core.models import Role
from tests.core.factories import add_reviewer, seed_categories, submit
from tests.e2e.console_login import console_login
from tests.e2e.test_console_browser import ARGS, ARTIFACTS, CHROMIUM
from tests.e2e.test_key_custody_browser import console_url  # noqa: F401 - fixture

LOG_TITLE = {"en": "Access log", "zh_CN": "访问日志"}
CHECKPOINTS_TITLE = {"en": "Checkpoints", "zh_CN": "检查点"}
SECRET = "AUDITOR-CANARY report text"


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_an_auditor_reads_the_log_and_verifies_an_export(console_url, session_factory,  # noqa: F811
                                                         services, tmp_path, lang):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    ivy = add_reviewer(session_factory, services, "ivy")
    audrey = add_reviewer(session_factory, services, "audrey", Role.AUDITOR)
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    submit(session_factory, services,
           report=ReportContent(summary="Printer", description=SECRET))
    with transaction(session_factory) as s:  # the checkpoint the auditor received and kept
        kept = sign_checkpoint(s, services).row.note
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = f"auditor-{lang}"
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context, page = console_login(browser, console_url, session_factory, services,
                                      audrey, lang)
        context.set_default_timeout(15_000)
        assert page.url.endswith("/audit")
        assert LOG_TITLE[lang] in page.inner_text("h1")
        assert SECRET not in page.content()
        page.screenshot(path=str(ARTIFACTS / f"{shot}-01-log.png"), full_page=True)
        # Filter by action (a plain GET form: works without JavaScript).
        page.select_option("#action", "reviewer:add")
        page.click("#apply-filters")
        page.wait_for_load_state()
        rows = page.locator("tr.log-row")
        assert rows.count() == 2 and "reviewer:add" in rows.first.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"{shot}-02-filtered.png"), full_page=True)
        # Checkpoints: sign one now, then download the export.
        page.click("#nav-checkpoints")
        assert CHECKPOINTS_TITLE[lang] in page.inner_text("h1")
        page.click("#sign-now")
        page.wait_for_selector("#notice")
        assert page.locator("tr.checkpoint-row").count() == 2
        page.screenshot(path=str(ARTIFACTS / f"{shot}-03-checkpoints.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#download-export")
        export = tmp_path / "export.zip"
        download.value.save_as(export)
        context.close()
        browser.close()
    report = verify_export(export, key=verifier_key(services), kept=[("kept.txt", kept)])
    assert report.ok, report.problems
    assert report.checkpoints == 2 and report.kept == 1
    assert SECRET.encode() not in export.read_bytes()
