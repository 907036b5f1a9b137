"""The case page suggests a category from the report's text, says which words weighed most,
and lets a member use it in one click (audited as a category change); nothing is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.cases.content import ReportContent
from core.db import transaction
from core.models import AuditEvent, Case
from tests.core.factories import submit
from tests.reviewer.conftest import World, login_client

PHISHING = ReportContent(summary="有人发了钓鱼邮件",
                         description="我的密码被盗，电脑中了病毒。Phishing email, malware.")


def _case(session_factory: Any, services: Any, world: World, report: ReportContent) -> int:
    case_id = submit(session_factory, services, category="it_fault", report=report).case_id
    return case_id


def test_a_suggestion_is_shown_with_its_words_and_can_be_used(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    case_id = _case(session_factory, services, world, PHISHING)
    client = login_client(app, session_factory, services, world.on_case)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="category-suggestion"' in page and "钓鱼" in page
    used = client.post(f"/cases/{case_id}/category", data={
        "csrf_token": _token(page), "cat-category": "security"})
    assert used.status_code == 303
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None and case.category is not None
        assert case.category.code == "security"
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "case:category",
                                                  AuditEvent.case_id == case_id)).first()
    again = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="category-suggestion"' not in again  # it is the case's category now


def test_no_suggestion_without_telling_words(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    case_id = _case(session_factory, services, world, ReportContent(summary="Please read this."))
    client = login_client(app, session_factory, services, world.on_case)
    assert 'id="category-suggestion"' not in client.get(f"/cases/{case_id}").get_data(
        as_text=True)


def test_a_retired_category_is_not_suggested(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    from core.categories.admin import set_category_active

    case_id = _case(session_factory, services, world, PHISHING)
    with transaction(session_factory) as s:
        set_category_active(s, services, "security", False)
    client = login_client(app, session_factory, services, world.on_case)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="category-suggestion"' not in page


def test_suggestions_learn_from_the_categories_a_handler_confirms(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """The organisation's own category has no keyword rules; once the team confirms it on a
    few cases, the next case of the kind gets it suggested, and the page says it learned."""
    from core.categories.admin import add_category

    with transaction(session_factory) as s:
        add_category(s, services, code="canteen", name_en="Canteen and catering",
                     name_zh="食堂与餐饮")
    client = login_client(app, session_factory, services, world.on_case)
    for n in range(3):
        case_id = _case(session_factory, services, world, ReportContent(
            summary=f"The canteen served spoiled noodles ({n})",
            description="Canteen kitchen hygiene, cold noodles."))
        page = client.get(f"/cases/{case_id}").get_data(as_text=True)
        assert 'id="category-hint"' in page
        assert client.post(f"/cases/{case_id}/category", data={
            "csrf_token": _token(page), "cat-category": "canteen"}).status_code == 303
        confirmed = client.get(f"/cases/{case_id}").get_data(as_text=True)
        assert 'id="category-suggestion"' not in confirmed  # confirmed: no more suggestion
    fresh = _case(session_factory, services, world, ReportContent(
        summary="Spoiled noodles in the canteen", description="Kitchen hygiene."))
    page = client.get(f"/cases/{fresh}").get_data(as_text=True)
    assert 'id="category-suggestion"' in page and "Canteen and catering" in page
    assert "confirmed on 3 cases of yours" in page
    with session_factory() as s:
        learned = s.execute(select(AuditEvent).where(
            AuditEvent.action == "case:category:learn")).scalars().all()
    assert learned and all(e.reviewer_id == world.on_case.id for e in learned)
    other = login_client(app, session_factory, services, world.not_on_case)
    assert other.get(f"/cases/{fresh}").status_code in (403, 404)


def _token(page: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)

