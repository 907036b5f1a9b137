"""Friendly error pages: no exception text, useful headers kept."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask, abort
from werkzeug.exceptions import TooManyRequests

SECRET = "SECRET-EXCEPTION-DETAIL-42"


@pytest.fixture
def app(make_app) -> Flask:
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError(SECRET)

    @app.get("/abort/<int:code>")
    def aborts(code: int) -> str:
        abort(code, description=SECRET)

    @app.get("/slow-down")
    def slow_down() -> str:
        raise TooManyRequests(description=SECRET, retry_after=30)

    @app.get("/slow-down-date")
    def slow_down_date() -> str:
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)
        raise TooManyRequests(retry_after=when)

    @app.get("/only-get")
    def only_get() -> str:
        return "ok"

    @app.get("/teapot")
    def teapot() -> str:
        abort(418, description=SECRET)

    return app


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/boom", 500),
        ("/abort/400", 400),
        ("/abort/403", 403),
        ("/abort/404", 404),
        ("/abort/413", 413),
        ("/abort/500", 500),
        ("/nowhere", 404),
        ("/teapot", 418),
    ],
)
def test_error_pages_hide_details(app: Flask, path: str, code: int) -> None:
    response = app.test_client().get(path)
    body = response.get_data(as_text=True)
    assert response.status_code == code
    assert response.mimetype == "text/html"
    assert SECRET not in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body
    assert body.lstrip().startswith("<!doctype html>")
    assert '<html lang="en">' in body
    assert "<h1>" in body
    assert "<script" not in body


def test_405_keeps_allow_header(app: Flask) -> None:
    response = app.test_client().post("/only-get")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_429_shows_retry_after(app: Flask) -> None:
    response = app.test_client().get("/slow-down")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    body = response.get_data(as_text=True)
    assert "try again in 30 seconds" in body
    assert SECRET not in body


def test_429_with_date(app: Flask) -> None:
    body = app.test_client().get("/slow-down-date").get_data(as_text=True)
    # 90 seconds ahead, rounded; 89 if a second passed within the request.
    assert re.search(r"try again in (89|90) seconds", body), body


def test_error_page_in_chinese_context(app: Flask) -> None:
    response = app.test_client().get("/nowhere", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)


def test_broken_template_falls_back(make_app) -> None:
    from web.errors import install_error_pages

    app = make_app(PROPAGATE_EXCEPTIONS=False)
    install_error_pages(app, template="does/not/exist.html")

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError(SECRET)

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert SECRET not in response.get_data(as_text=True)
