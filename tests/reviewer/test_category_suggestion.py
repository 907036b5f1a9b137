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


def test_an_added_category_is_suggested_from_its_description_before_any_case(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """No case is confirmed in the organisation's own category yet: its names and description
    are what the suggestion knows it by, and nothing is decrypted for it beyond the report."""
    from core.categories.admin import add_category

    with transaction(session_factory) as s:
        add_category(s, services, code="procurement", name_en="Procurement and tenders",
                     name_zh="采购与招标",
                     description_en="Tenders, supplier selection, purchase orders and quotes.",
                     description_zh="招标、供应商选择、采购订单和报价。")
    case_id = _case(session_factory, services, world, ReportContent(
        summary="Tender never published",
        description="One supplier got the purchase order for the furniture without quotes."))
    client = login_client(app, session_factory, services, world.on_case)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Suggested category: Procurement and tenders. Words that weighed most: " in page
    assert '<input type="hidden" name="cat-category" value="procurement">' in page
    assert ("A suggestion from this category's name and description, made on this page "
            "and not stored") in page
    with session_factory() as s:
        assert s.execute(select(AuditEvent).where(
            AuditEvent.action == "case:category:learn")).first() is None
    # A default category's suggestion still says it comes from keyword rules.
    phishing = _case(session_factory, services, world, PHISHING)
    page = client.get(f"/cases/{phishing}").get_data(as_text=True)
    assert "A suggestion from keyword rules, made on this page and not stored" in page


def test_an_operators_keywords_are_what_the_suggestion_knows_a_category_by(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """`candor category edit CODE --keywords ...`: an added category with keywords is
    suggested from them (the page says keyword rules, not the description), and keywords
    added to a default category reach reports its shipped rules miss."""
    from core.categories.admin import add_category, edit_category

    with transaction(session_factory) as s:
        add_category(s, services, code="canteen", name_en="Canteen and catering",
                     name_zh="食堂与餐饮", keywords="noodles, rice, 饭菜")
    client = login_client(app, session_factory, services, world.on_case)
    meal = _case(session_factory, services, world, ReportContent(
        summary="Cold again", description="The noodles were cold and the rice undercooked."))
    page = client.get(f"/cases/{meal}").get_data(as_text=True)
    assert "Suggested category: Canteen and catering. Words that weighed most: " in page
    assert "A suggestion from keyword rules, made on this page and not stored" in page
    assert "name and description" not in page

    fumes = _case(session_factory, services, world, ReportContent(
        summary="Soldering", description="The repair workshop solders without any fume "
                                         "extraction."))
    assert 'id="category-suggestion"' not in client.get(f"/cases/{fumes}").get_data(
        as_text=True)
    with transaction(session_factory) as s:
        edit_category(s, services, "environment", keywords="fume extraction, solder fumes")
    page = client.get(f"/cases/{fumes}").get_data(as_text=True)
    assert "Suggested category: Working environment and safety." in page
    assert "fume" in page[page.index('id="category-suggestion"'):]


def _token(page: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_a_destroyed_case_keeps_no_example_and_refuses_the_category_form(
        app: Any, session_factory: Any, services: Any) -> None:
    """Retention deletes the example; saving the category afterwards is refused with the
    notice (no server error) and keeps nothing; the lead's other cases no longer learn from
    it."""
    from datetime import timedelta

    from core.models import CategoryExample
    from core.operations.retention_run import run_retention
    from tests.core.cases.retention_world import build_full_case

    full = build_full_case(session_factory, services)
    lead = login_client(app, session_factory, services, full.lead)
    form_page = lead.get(f"/cases/{full.case_id}").get_data(as_text=True)
    with session_factory() as s:
        assert s.get(CategoryExample, full.case_id) is not None
    day = services.clock.today() + timedelta(days=services.config.retention_days)
    run_retention(lambda: transaction(session_factory), services, day)
    answer = lead.post(f"/cases/{full.case_id}/category", data={
        "csrf_token": _token(form_page), "cat-category": "security"})
    assert answer.status_code in (403, 404, 409)
    assert "The content of this case was destroyed" in answer.get_data(as_text=True)
    with session_factory() as s:
        assert s.execute(select(CategoryExample)).first() is None
        case = s.get(Case, full.case_id)
        assert case is not None and case.category is not None
        assert case.category.code == "it_fault"


def test_a_tampered_example_leaves_the_page_working_and_the_alarm_committed(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """An example that fails its integrity check is skipped; the page is shown (200) and
    the GET commits the tampering alarm and the audit event of what it did decrypt."""
    from sqlalchemy import update

    from core.models import CategoryExample

    client = login_client(app, session_factory, services, world.on_case)
    confirmed = []
    for n in range(2):
        case_id = _case(session_factory, services, world, ReportContent(
            summary=f"The canteen served spoiled noodles ({n})",
            description="Canteen kitchen hygiene, cold noodles."))
        page = client.get(f"/cases/{case_id}").get_data(as_text=True)
        assert client.post(f"/cases/{case_id}/category", data={
            "csrf_token": _token(page), "cat-category": "other"}).status_code == 303
        confirmed.append(case_id)
    with transaction(session_factory) as s:
        s.execute(update(CategoryExample).where(CategoryExample.case_id == confirmed[0])
                  .values(counts_ciphertext=b"\0" * 64))
    fresh = _case(session_factory, services, world, PHISHING)
    assert client.get(f"/cases/{fresh}").status_code == 200
    with session_factory() as s:
        tampered = s.execute(select(AuditEvent).where(
            AuditEvent.action == "case:record:tampered")).scalars().all()
        learned = s.execute(select(AuditEvent).where(
            AuditEvent.action == "case:category:learn")
            .order_by(AuditEvent.position.desc())).scalars().first()
    assert [e.case_id for e in tampered] == [confirmed[0]]
    assert learned is not None and str(confirmed[1]) in learned.detail
    assert str(confirmed[0]) not in learned.detail


def test_a_suggestion_that_agrees_with_the_category_says_so(
        app: Any, world: World, session_factory: Any, services: Any) -> None:
    """Outside tester: when the suggestion was the case's category already, nothing showed,
    and the handler could not tell whether the suggester had been asked."""
    case_id = submit(session_factory, services, category="security", report=PHISHING).case_id
    client = login_client(app, session_factory, services, world.not_on_case)  # security
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="category-suggestion-agrees"' in page and "钓鱼" in page
    assert 'id="category-suggestion"' not in page and "category-suggestion-use" not in page
