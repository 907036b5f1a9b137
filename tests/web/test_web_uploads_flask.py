"""The streaming parser in a Flask app: the CSRF token is checked before any file byte, and
werkzeug never parses (or spools) the body itself."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from flask import Flask, request
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from tests.web.multipart_helpers import (
    BOUNDARY,
    MiB,
    build,
    collect,
    field,
    file,
)
from web.uploads import (
    FieldPart,
    StreamingFormParser,
    UploadError,
)

# -- Flask integration and CSRF --------------------------------------------------------------


@pytest.fixture
def upload_app(make_app, monkeypatch) -> Flask:
    import werkzeug.formparser

    def no_spooling(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("werkzeug's form parser must not run")

    # If anything touched request.form/request.files, werkzeug would parse (and spool).
    monkeypatch.setattr(werkzeug.formparser.FormDataParser, "parse", no_spooling)

    app = make_app()
    csrf = CSRFProtect(app)

    @app.get("/token")
    def token() -> str:
        return generate_csrf()

    @app.post("/upload")
    @csrf.exempt
    def upload() -> dict:
        received: dict[str, Any] = {"fields": {}, "files": []}
        try:
            for part in StreamingFormParser(
                request, max_total_bytes=10 * MiB, csrf_field="csrf_token"
            ):
                if isinstance(part, FieldPart):
                    received["fields"][part.name] = part.value
                elif part.filename:
                    size = sum(len(c) for c in part.chunks())
                    received["files"].append([part.filename, size])
        except UploadError as exc:
            return {"error": str(exc)}, exc.status_code
        return received

    return app


def post(client: Any, body: bytes) -> Any:
    return client.post(
        "/upload", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


def test_flask_upload_with_valid_csrf_token(upload_app: Flask) -> None:
    client = upload_app.test_client()
    token = client.get("/token").get_data(as_text=True)
    data = os.urandom(3 * MiB)
    body = build(
        [
            field("csrf_token", token),
            field("text", "hello"),
            file("files", "", b""),
            file("files", "doc.pdf", data),
        ]
    )
    response = post(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"fields": {"text": "hello"}, "files": [["doc.pdf", len(data)]]}


@pytest.mark.parametrize(
    "parts",
    [
        [field("csrf_token", "forged"), file("f", "a", b"1")],
        [field("text", "no token"), field("csrf_token", "late")],
        [file("f", "a", b"1")],
        [],
    ],
)
def test_flask_upload_rejects_bad_csrf(upload_app: Flask, parts: list[tuple]) -> None:
    client = upload_app.test_client()
    client.get("/token")
    response = post(client, build(parts))
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_token_from_another_session_is_rejected(upload_app: Flask) -> None:
    token = upload_app.test_client().get("/token").get_data(as_text=True)
    other = upload_app.test_client()
    other.get("/token")
    response = post(other, build([field("csrf_token", token)]))
    assert response.status_code == 400


def test_flask_upload_too_large(upload_app: Flask) -> None:
    client = upload_app.test_client()
    token = client.get("/token").get_data(as_text=True)
    body = build([field("csrf_token", token), file("f", "a", os.urandom(11 * MiB))])
    response = post(client, body)
    assert response.status_code == 413


def test_validate_csrf_token_raises_csrf_error(make_app) -> None:
    from web.csrf import validate_csrf_token

    app = make_app()
    with app.test_request_context("/"):
        token = generate_csrf()
        validate_csrf_token(token)
        with pytest.raises(CSRFError):
            validate_csrf_token("nope")
        with pytest.raises(CSRFError):
            validate_csrf_token(None)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_request_context("/"):
        validate_csrf_token("anything")  # disabled, like CSRFProtect


def test_after_streaming_werkzeug_sees_the_body_as_consumed(make_app) -> None:
    """Flask-WTF reads request.files when a form is built; after the streaming parser has
    read the body, that must give empty results, not a 400 from reading on."""
    from flask import request

    app = make_app()
    app.config["WTF_CSRF_ENABLED"] = False
    data = os.urandom(3 * MiB)
    body = build([field("a", "b"), file("f", "x.bin", data)])
    with app.test_request_context(
        "/", method="POST", input_stream=io.BytesIO(body),
        content_type=f"multipart/form-data; boundary={BOUNDARY}", content_length=len(body),
    ):
        parts = collect(StreamingFormParser(request, max_total_bytes=4 * MiB))
        assert parts[-1][-1] == data
        assert not request.form and not request.files
        assert request.get_data() == b""
