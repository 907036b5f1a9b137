"""The console in Chinese and English; the reviewer's choice is remembered on the account."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from core.models import Reviewer
from tests.reviewer.conftest import login_client
from tests.reviewer.test_auth import csrf

CATALOG = Path(__file__).resolve().parents[2] / "reviewer" / "translations"


def test_every_string_has_a_chinese_translation():
    with open(CATALOG / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    with open(CATALOG / "messages.pot", "rb") as handle:
        template = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not (
        all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert untranslated == []
    assert {m.id for m in template if m.id} <= {m.id for m in catalog if m.id}


def test_language_choice_is_remembered(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    assert "Cases" in client.get("/cases").data.decode()
    token = csrf(client, "/cases")
    client.post("/language", data={"csrf_token": token, "language": "zh_CN", "next": "/cases"})
    page = client.get("/cases").data.decode()
    assert 'lang="zh-CN"' in page and "案件" in page and "筛选" in page
    with session_factory() as s:
        assert s.get(Reviewer, world.on_case.id).language == "zh_CN"
    # A new browser: the account's choice applies after login.
    fresh = login_client(app, session_factory, services, world.on_case)
    assert "案件" in fresh.get(f"/cases/{world.case_id}").data.decode()


def test_login_page_follows_the_browser(app):
    page = app.test_client().get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in page.data.decode()
