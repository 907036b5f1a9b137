"""Response padding hides the length of same-kind pages."""

from __future__ import annotations

import pytest
from flask import Flask, Response, send_file

from web.padding import pad_html, padded_length


@pytest.fixture
def app(make_app, tmp_path) -> Flask:
    app = make_app(padding=True)
    (tmp_path / "page.html").write_text("<p>file</p>")

    @app.get("/short")
    def short() -> str:
        return "<!doctype html><p>ok</p>"

    @app.get("/long")
    def long() -> str:
        return "<!doctype html><p>" + "好" * 1000 + "</p>"

    @app.get("/json")
    def json() -> dict:
        return {"a": 1}

    @app.get("/stream")
    def stream() -> Response:
        return Response((c for c in ["<p>", "x", "</p>"]), mimetype="text/html")

    @app.get("/attachment")
    def attachment() -> Response:
        return Response(
            "<p>x</p>",
            mimetype="text/html",
            headers={"Content-Disposition": "attachment; filename=x.html"},
        )

    @app.get("/file")
    def file() -> Response:
        return send_file(tmp_path / "page.html")

    return app


def test_different_pages_have_the_same_size(app: Flask) -> None:
    client = app.test_client()
    short = client.get("/short")
    long = client.get("/long")
    assert len(short.data) == len(long.data) == 4096
    assert short.headers["Content-Length"] == "4096"
    assert short.data.startswith(b"<!doctype html><p>ok</p><!--")
    assert short.data.endswith(b"-->")


def test_error_pages_are_padded(app: Flask) -> None:
    response = app.test_client().get("/missing")
    assert response.status_code == 404
    assert len(response.data) % 4096 == 0


@pytest.mark.parametrize("path", ["/json", "/stream", "/attachment", "/file"])
def test_non_html_or_streamed_is_untouched(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert b"<!--" not in response.data


@pytest.mark.parametrize("length", [0, 1, 4088, 4089, 4090, 4096, 5000, 8185, 8192])
def test_pad_html_rounds_up(length: int) -> None:
    body = b"x" * length
    padded = pad_html(body, 4096)
    assert len(padded) % 4096 == 0
    assert len(padded) == padded_length(length, 4096)
    assert padded.startswith(body)
    assert len(padded) - length < 4096 + 7


def test_tiny_bucket_rejected(make_app) -> None:
    from web.padding import install_response_padding

    with pytest.raises(ValueError):
        install_response_padding(make_app(), bucket=8)
