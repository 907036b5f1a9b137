"""Layout faults found by trying the portal as a new user would (issue 11), measured in a real
browser at desktop width and at 375 px, in English and Chinese; screenshots are kept in
artifacts/e2e for a person to look at.

- On the report form, each category's description sat beside its label in a ragged column
  (squeezed at 375 px): it must sit under its label, starting where the label's text starts.
- On the case page, the progress list wrapped onto two uneven rows once "waiting for your
  information" appeared: it must be one row of steps, or at narrow widths one clean column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from core.cases.casework import UnlockedReviewer, post_reviewer_message
from core.db import transaction
from core.models import MessageKind
from tests.core.factories import submit
from tests.e2e.test_portal_browser import ARGS, ARTIFACTS, CHROMIUM, LANGUAGES, require_browser
from tests.portal.conftest import LiveServer, live_server
from tests.portal.conftest import intake_reviewer as intake_reviewer  # noqa: F401 - fixture
from tests.portal.conftest import make_portal as make_portal  # noqa: F401 - fixture

WIDTHS = {"desktop": 1280, "phone": 375}


@pytest.fixture
def portal(make_portal: Callable[..., Flask]) -> Iterator[LiveServer]:  # noqa: F811
    with live_server(make_portal(insecure_dev_cookies=True)) as server:
        yield server


def _page(sync_api: Any, lang: str, width: int) -> Iterator[Any]:
    settings = LANGUAGES[lang]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(
            java_script_enabled=False, locale=settings["locale"],
            viewport={"width": width, "height": 900},
            extra_http_headers={"Accept-Language": settings["accept"]})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box


@pytest.mark.e2e
@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_category_descriptions_sit_under_their_labels(portal: LiveServer, lang: str,
                                                      width: str) -> None:
    sync_api = require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for page in _page(sync_api, lang, WIDTHS[width]):
        page.goto(portal.base + "/report")
        page.wait_for_selector("#report-form")
        page.locator("#report-form fieldset").first.screenshot(
            path=str(ARTIFACTS / f"layout-{lang}-{width}-categories.png"))
        count = page.locator("#report-form input[name=category]").count()
        assert count >= 8
        for index in range(count):
            label = _box(page, f"label[for='category-{index}']")
            hint = _box(page, f"#category-{index}-hint")
            assert hint["y"] >= label["y"] + label["height"] - 2, (index, label, hint)
            assert abs(hint["x"] - label["x"]) <= 2, (index, label, hint)
            # Not squeezed: the description may use the whole width beside the radio.
            assert hint["x"] + hint["width"] >= label["x"] + label["width"] - 2


@pytest.mark.e2e
@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_progress_is_one_even_row_or_one_column(portal: LiveServer, session_factory,
                                                services, intake_reviewer,  # noqa: F811
                                                lang: str, width: str) -> None:
    sync_api = require_browser()
    result = submit(session_factory, services)
    who = UnlockedReviewer(intake_reviewer.id, intake_reviewer.private_key)
    with transaction(session_factory) as s:
        post_reviewer_message(s, services, who, result.case_id,
                              MessageKind.CLARIFICATION_REQUEST, "Which printer?")
    for page in _page(sync_api, lang, WIDTHS[width]):
        page.goto(portal.base + "/follow-up")
        page.fill("#receipt", result.receipt_code)
        page.click("#open-report")
        page.wait_for_selector("#stage")
        page.screenshot(path=str(ARTIFACTS / f"layout-{lang}-{width}-progress.png"),
                        clip={"x": 0, "y": 0, "width": WIDTHS[width], "height": 700})
        steps = page.locator("ol.progress > li")
        boxes = [steps.nth(i).bounding_box() for i in range(steps.count())]
        assert len(boxes) == 7  # received, acknowledged, waiting, 3 to come, closed
        tops = {round(b["y"]) for b in boxes}
        lefts = {round(b["x"]) for b in boxes}
        one_row = len(tops) == 1
        one_column = len(lefts) == 1
        assert one_row or one_column, boxes
        assert one_row if width == "desktop" else one_column, boxes
        # The steps fit the list's own width (nothing sticks out of the page's column), and
        # no step's text is wider than its step (no word cut off or overflowing).
        area = _box(page, "ol.progress")
        assert all(b["x"] + b["width"] <= area["x"] + area["width"] + 1 for b in boxes)
        overflowing = page.eval_on_selector_all(
            "ol.progress > li", "items => items.filter(li => li.scrollWidth > li.clientWidth)"
            ".length")
        assert overflowing == 0
