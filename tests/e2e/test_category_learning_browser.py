"""Category suggestions learn from the categories a handler confirms, in a real browser with
JavaScript off, in English and Chinese: the organisation's own category (no keyword rules)
is confirmed on three cases through the category form; the fourth case of the kind gets it
suggested, says it learned from three cases, and takes it in one click, after which the
suggestion is gone. Screenshots are saved in artifacts/e2e."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.cases.content import ReportContent
from core.categories.admin import add_category
from core.db import transaction
from core.models import AuditEvent, Case
from tests.core.factories import seed_categories, submit
from tests.e2e.console_login import console_login
from tests.e2e.test_cross_app import ARTIFACTS, _browser, servers  # noqa: F401 - fixture
from tests.reviewer.conftest import new_account

CANTEEN = {"en": "Canteen and catering", "zh_CN": "食堂与餐饮"}
LEARNED = {"en": "confirmed on 3 cases of yours", "zh_CN": "您的 3 个案件"}


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_suggestions_learn_from_confirmed_categories(servers, session_factory,  # noqa: F811
                                                     services, lang) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    _portal_url, console_url = servers
    hana = new_account(session_factory, services, "hana")
    seed_categories(session_factory, {"other": [hana.id]}, services=services)
    with transaction(session_factory) as s:
        add_category(s, services, code="canteen", name_en=CANTEEN["en"],
                     name_zh=CANTEEN["zh_CN"])
    cases = [submit(session_factory, services, category="other", report=ReportContent(
        summary=f"The canteen served spoiled noodles ({n})",
        description="Canteen kitchen hygiene, cold noodles. 食堂 卫生 很差。")).case_id
        for n in range(4)]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        context, page = console_login(browser, console_url, session_factory, services, hana,
                                      lang)
        for case_id in cases[:3]:
            page.goto(f"{console_url}/cases/{case_id}")
            assert page.locator("#category-hint").is_visible()
            page.select_option("#category-form select", "canteen")
            page.click("#category-submit")
            page.wait_for_load_state()
            assert page.locator("#category-suggestion").count() == 0
        page.goto(f"{console_url}/cases/{cases[3]}")
        suggestion = page.locator("#category-suggestion")
        assert suggestion.is_visible()
        text = suggestion.inner_text()
        assert CANTEEN[lang] in text and LEARNED[lang] in text, text
        page.screenshot(path=str(ARTIFACTS / f"category-learned-{lang}.png"), full_page=True)
        page.click("#category-suggestion-use")
        page.wait_for_load_state()
        assert page.locator("#category-suggestion").count() == 0
        context.close()
        browser.close()

    with session_factory() as s:
        assert all(s.get(Case, c).category.code == "canteen" for c in cases)  # type: ignore[union-attr]
        learned = s.execute(select(AuditEvent).where(
            AuditEvent.action == "case:category:learn")).scalars().all()
    assert learned and all(e.reviewer_id == hana.id for e in learned)
