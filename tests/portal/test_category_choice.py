"""The submission form follows the operator's categories: order, names, descriptions, and a
deactivated category is neither offered nor accepted."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

import portal.views.submit as submit_view
from core.categories.admin import (
    add_category,
    edit_category,
    move_category,
    set_category_active,
)
from core.categories.lookup import list_categories
from core.db import transaction
from core.services import Services
from tests.portal.conftest import counts, report_fields, submit_report_via

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def offered(html: str) -> list[str]:
    """Category codes of the form's radio buttons, in page order."""
    return re.findall(r'name="category"[^>]*value="([a-z0-9_]+)"', html) or re.findall(
        r'value="([a-z0-9_]+)"[^>]*name="category"', html)


def deactivate(session_factory: sessionmaker[Session], services: Services, code: str) -> None:
    with transaction(session_factory) as s:
        set_category_active(s, services, code, False)


def test_the_form_shows_operator_changes_in_both_languages(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services
) -> None:
    with transaction(session_factory) as s:
        add_category(s, services, code="fraud", name_en="Fraud and theft", name_zh="欺诈与盗窃",
                     description_en="Money or goods taken.", description_zh="金钱或物品被盗。",
                     position=1)
        edit_category(s, services, "other", name_en="Anything else", name_zh="其他任何事")
        move_category(s, services, "other", 2)
    page = client.get("/report")
    assert page.status_code == 200
    assert offered(page.text)[:3] == ["fraud", "other", "it_fault"]
    for text in ("Fraud and theft", "Money or goods taken.", "Anything else"):
        assert text in page.text
    zh = client.get("/report", headers=ZH)
    for text in ("欺诈与盗窃", "金钱或物品被盗。", "其他任何事"):
        assert text in zh.text


def test_a_deactivated_category_is_not_offered(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services
) -> None:
    deactivate(session_factory, services, "security")
    page = client.get("/report")
    assert "security" not in offered(page.text)
    assert "it_fault" in offered(page.text)
    assert "Security vulnerabilities and data protection" not in page.text
    assert "安全漏洞与数据保护" not in client.get("/report", headers=ZH).text


@pytest.mark.parametrize("headers", [{}, ZH])
def test_choosing_a_deactivated_category_is_refused_with_a_message(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services,
    headers: dict[str, str],
) -> None:
    """A stale form (opened before the category was deactivated) or a forged POST."""
    before = counts(session_factory, services)
    deactivate(session_factory, services, "security")
    response = submit_report_via(client, report_fields(category="security"), headers=headers)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.text
    message = re.search(r'class="error-message"[^>]*>(.*?)</p>', response.text, re.S)
    assert message
    expected = ("该类别已不再提供，请选择其他类别。" if headers else
                "This category is no longer offered. Please choose another.")
    assert expected in re.sub(r"<[^>]+>", "", message.group(1))
    after = counts(session_factory, services)
    assert (after.cases, after.grants, after.blobs) == (before.cases, before.grants, before.blobs)
    # The reporter can pick another category and send the same report.
    again = submit_report_via(client, report_fields(category="it_fault"), headers=headers)
    assert again.status_code == 200
    assert 'id="receipt-code"' in again.text


def test_a_category_deactivated_after_the_form_validated_is_refused(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race: the form still offered the category, the use case no longer accepts it."""
    monkeypatch.setattr(submit_view, "active_categories", list_categories)
    before = counts(session_factory, services)
    deactivate(session_factory, services, "security")
    response = submit_report_via(client, report_fields(category="security"),
                                 files=[("log.txt", b"x" * 1000)])
    assert response.status_code == 400
    assert "Your report could not be sent" in response.text
    after = counts(session_factory, services)
    assert (after.cases, after.attachments, after.blobs) == (before.cases, before.attachments,
                                                             before.blobs)
