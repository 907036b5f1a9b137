"""Language selection and the safe redirect helper."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string, request

from web.i18n import current_language, html_lang, safe_next, switch_language


@pytest.fixture
def app(make_app) -> Flask:
    app = make_app()

    @app.get("/")
    def index() -> str:
        return render_template_string(
            '<html lang="{{ html_lang() }}">{{ current_language() }}</html>'
        )

    @app.get("/language/<code>")
    def language(code: str):
        return switch_language(code, request.args.get("next"))

    return app


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("zh-CN", "zh_CN"),
        ("zh", "zh_CN"),
        ("zh-Hans", "zh_CN"),
        ("zh-SG", "zh_CN"),
        ("zh-Hans-CN,zh;q=0.9", "zh_CN"),
        ("zh_CN", "zh_CN"),
        ("en-US,en;q=0.9", "en"),
        ("en-GB", "en"),
        ("fr", "en"),
        ("fr-FR,de;q=0.5", "en"),
        ("", "en"),
        ("en;q=0.5, zh-CN;q=0.9", "zh_CN"),
        ("zh-CN;q=0.3, en;q=0.8", "en"),
        ("fr, zh;q=0.5", "zh_CN"),
    ],
)
def test_accept_language(app: Flask, accept: str, expected: str) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    body = app.test_client().get("/", headers=headers).get_data(as_text=True)
    assert body.endswith(f">{expected}</html>")
    assert f'lang="{expected.replace("_", "-")}"' in body


def test_explicit_choice_wins_over_accept_language(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/language/zh_CN?next=/somewhere?x=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/somewhere?x=1"
    body = client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert 'lang="zh-CN"' in body

    client.get("/language/en")
    body = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="en"' in body


def test_unknown_language_is_ignored(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/language/xx?next=//evil.example")
    assert response.headers["Location"] == "/"
    body = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="zh-CN"' in body


def test_helpers_in_request_context(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "zh"}):
        assert current_language() == "zh_CN"
        assert html_lang() == "zh-CN"


def test_default_must_be_offered(tmp_path) -> None:
    from web.i18n import init_babel

    with pytest.raises(ValueError, match="default"):
        init_babel(Flask("x"), translations_dir=str(tmp_path), languages=("en",), default="fr")


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example",
        "//evil.example/path",
        "http://x",
        "https://evil.example/",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/ok\r\nSet-Cookie: x=1",
        " /leading-space",
        "relative/path",
        "data:text/html,hi",
    ],
)
def test_safe_next_rejects(target: str | None) -> None:
    assert safe_next(target) == "/"
    assert safe_next(target, default="/start") == "/start"


@pytest.mark.parametrize("target", ["/", "/report/new", "/status?step=2", "/a/b#part"])
def test_safe_next_allows_same_site_paths(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(("accept", "names", "sentences"), [
    ("en", "Ann, Bo", "One. Two."),
    ("zh-CN", "Ann、Bo", "一。二。"),
])
def test_lists_and_sentences_follow_the_language(app: Flask, accept: str, names: str,
                                                  sentences: str) -> None:
    """Outside tester: an ASCII comma between Chinese names and a space between Chinese
    sentences read as typos."""
    parts = ("One.", "Two.") if accept == "en" else ("一。", "二。")
    with app.test_request_context("/", headers={"Accept-Language": accept}):
        shown = render_template_string("{{ ['Ann', 'Bo']|join_names }}|{{ sentences(a, b) }}",
                                       a=parts[0], b=parts[1])
    assert shown == f"{names}|{sentences}"


@pytest.mark.parametrize(("accept", "shown"), [
    ("en", "Stage: open | Cases (3) | alice (&lt;b&gt;)"),
    ("zh-CN", "Stage：open | Cases（3） | alice（&lt;b&gt;）"),
])
def test_labels_and_asides_follow_the_language(app: Flask, accept: str, shown: str) -> None:
    """Outside tester: ASCII colons and parentheses in the Chinese console ("阶段已变更: ",
    "案件 (1)"). An aside is escaped like any other value."""
    with app.test_request_context("/", headers={"Accept-Language": accept}):
        text = render_template_string(
            "Stage{{ colon() }}open | Cases{{ bracketed(3) }} | alice{{ bracketed(x) }}",
            x="<b>")
    assert text == shown
