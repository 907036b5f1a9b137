"""The statistics page (issue #16) in a real browser, JavaScript on: a case handler opens it
from the navigation, reads the current quarter's figures (a category of one case shown as
"<3"), every chart image loads, the page raises no script error and no request fails; the
period is narrowed to a month; the CSV is downloaded through its link; then the console is
switched to Chinese and the quarter's review report downloaded as PDF through its link.
Screenshots: artifacts/e2e/statistics-*; the report: artifacts/e2e/review-zh_CN.pdf."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import update

from core.db import transaction
from core.models import Case, CaseMember, Reviewer
from core.staff.accounts import totp_secret
from core.statistics.periods import months_in, parse_period
from tests.core.factories import (
    ReviewerHandle,
    add_reviewer,
    as_if_changed_yesterday,
    seed_categories,
    submit,
)
from tests.e2e.test_console_browser import ARGS, ARTIFACTS, CHROMIUM
from tests.e2e.test_key_custody_browser import console_url  # noqa: F401 - fixture
from tests.reviewer.test_review_report import pdf_text

#: Cases to seed: (category, index of the month in the quarter, count). An index past the
#: months already begun (early in a quarter) falls back to the current month, so the total
#: is the same whatever today is. "communication" has one case: its cells show "<3".
PLAN = (("it_fault", 0, 6), ("it_fault", 1, 5), ("security", 0, 4), ("security", 2, 4),
        ("environment", 1, 4), ("environment", 2, 3), ("communication", 0, 1))
TOTAL = sum(count for _, _, count in PLAN)
CATEGORIES = sorted({category for category, _, _ in PLAN})
CHARTS = 5
TITLE = {"en": "Statistics", "zh_CN": "统计"}
GRID_CAPTION = {"en": "Cases by category and month", "zh_CN": "按类别和月份的案件"}
#: The whole test, browser included, must end well within this (each step times out sooner).
BUDGET_SECONDS = 180
STEP_TIMEOUT_MS = 15_000


def _seed(session_factory, services) -> dict[str, int]:
    """The planned cases, received on the first day of their month; their count per month
    label of the current quarter."""
    today = services.clock.today()
    quarter = parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    begun = [m for m in months_in(quarter) if m.start <= today]
    per_month: dict[str, int] = {}
    for category, index, count in PLAN:
        month = begun[min(index, len(begun) - 1)]
        ids = [submit(session_factory, services, category=category).case_id
               for _ in range(count)]
        with transaction(session_factory) as s:  # the date the statistics read, and its copy
            s.execute(update(Case).where(Case.id.in_(ids)).values(received_on=month.start))
            s.execute(update(CaseMember).where(CaseMember.case_id.in_(ids))
                      .values(received_on=month.start))
        per_month[month.label] = per_month.get(month.label, 0) + count
    as_if_changed_yesterday(session_factory)  # the page counts changes of earlier days
    return per_month


def _login(browser, url: str, session_factory, services, handle: ReviewerHandle):
    """A new context with JavaScript ON (so that script errors would show), logged in."""
    with session_factory() as s:
        secret = totp_secret(services, s.get(Reviewer, handle.id))
    context = browser.new_context(java_script_enabled=True, locale="en-GB",
                                  accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("#username", handle.username)
    page.fill("#passphrase", handle.passphrase)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#login-submit")
    page.wait_for_url("**/cases")
    return context, page


def _watch(page) -> list[str]:
    """Every script error, console error, failed request and error response of the page."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(
        f"console error: {message.text}"))
    page.on("requestfailed", lambda request: problems.append(
        f"request failed: {request.url} ({request.failure})"))
    page.on("response", lambda response: response.status >= 400 and problems.append(
        f"HTTP {response.status}: {response.url}"))
    return problems


def _images(page) -> list[dict]:
    """The page's images once loaded: source, complete, natural width."""
    page.wait_for_load_state("load")
    return page.evaluate("""() => Array.from(document.images).map(img => ({
        src: img.getAttribute('src'), complete: img.complete, width: img.naturalWidth}))""")


def _check_dashboard(page, lang: str, total: int) -> None:
    assert TITLE[lang] in page.inner_text("h1")
    assert page.inner_text("#statistics-total").strip() == str(total)
    grid = page.locator("#by-category-month")
    assert GRID_CAPTION[lang] in grid.locator("caption").inner_text()
    assert "<3" in [c.strip() for c in grid.locator("td").all_inner_texts()]
    images = _images(page)
    charts = [i for i in images if "/statistics/chart/" in (i["src"] or "")]
    # A chart is left out (with a note) only when all its cells are hidden or zero.
    notes = page.locator("[id$='-no-chart']").count()
    assert len(charts) == CHARTS - notes, images
    assert all(i["complete"] and i["width"] > 0 for i in charts), charts
    # Nothing wider than the window (charts and tables fit a 1280-pixel desktop window).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.e2e
def test_a_case_handler_reads_the_statistics_in_a_browser(console_url, session_factory,  # noqa: F811
                                                         services, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    started = time.monotonic()
    handler = add_reviewer(session_factory, services, "hana")
    seed_categories(session_factory, {code: [handler.id] for code in CATEGORIES}, services=services)
    per_month = _seed(session_factory, services)
    month, month_total = max(per_month.items(), key=lambda item: item[1])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True,
                                    timeout=STEP_TIMEOUT_MS)
        context, page = _login(browser, console_url, session_factory, services, handler)
        problems = _watch(page)
        # From the navigation, the current quarter (the default period).
        page.click("#nav-statistics")
        page.wait_for_url("**/statistics")
        _check_dashboard(page, "en", TOTAL)
        page.screenshot(path=str(ARTIFACTS / "statistics-en-01-dashboard.png"), full_page=True)
        # A month instead (a GET form).
        page.fill("#period", month)
        page.click("#statistics-show")
        page.wait_for_url(f"**/statistics?period={month}*")
        assert page.inner_text("#statistics-total").strip() == (
            str(month_total) if month_total >= 3 else "<3")
        assert month in page.inner_text("h2:has(#statistics-total)")
        charts = [i for i in _images(page) if "/statistics/chart/" in (i["src"] or "")]
        assert charts and all(i["complete"] and i["width"] > 0 for i in charts), charts
        assert all(f"period={month}" in i["src"] for i in charts)
        page.screenshot(path=str(ARTIFACTS / "statistics-en-02-month.png"), full_page=True)
        # The CSV of that month, through the link.
        with page.expect_download() as download_info:
            page.click("#statistics-csv")
        download = download_info.value
        assert download.suggested_filename == f"candor-statistics-{month}.csv"
        csv_path = tmp_path / download.suggested_filename
        download.save_as(csv_path)
        csv_text = csv_path.read_bytes().decode("utf-8-sig")
        assert "<3" in csv_text  # the single "communication" case
        # Back to the quarter, then the console in Chinese (the footer's language switch).
        page.click("#nav-statistics")
        page.wait_for_url("**/statistics")
        page.click("button[name=language][value=zh_CN]")
        page.wait_for_url("**/statistics")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        _check_dashboard(page, "zh_CN", TOTAL)
        assert "下载这些数据" in page.inner_text("#statistics-csv")
        page.screenshot(path=str(ARTIFACTS / "statistics-zh_CN-01-dashboard.png"),
                        full_page=True)
        # The quarter's review report in Chinese, through its link (read back with pypdf).
        with page.expect_download() as download_info:
            page.click("#review-pdf")
        download = download_info.value
        assert download.suggested_filename.endswith("-zh.pdf")
        pdf_path = ARTIFACTS / "review-zh_CN.pdf"
        download.save_as(pdf_path)
        review_text = pdf_text(pdf_path.read_bytes())
        assert "举报处理流程定期检视" in review_text and "五、反复出现的问题" in review_text
        context.close()
        browser.close()
    # A download may be reported as an aborted navigation; nothing else may fail.
    problems = [p for p in problems
                if not (p.startswith("request failed:") and "ERR_ABORTED" in p
                        and ("/statistics/export.csv" in p or "/statistics/review.pdf" in p))]
    assert problems == []
    assert time.monotonic() - started < BUDGET_SECONDS
