"""The one streamed-upload path of both apps (web.streamed_forms): the CSRF token before
anything, the text validated before the first file is stored, every chosen file handed to
`store` or the whole post refused with a human message and the text given back."""

from __future__ import annotations

import time
from typing import Any

import itsdangerous.timed
import pytest
from flask import Flask
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect, generate_csrf
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from core.errors import InvalidInput
from tests.web.multipart_helpers import BOUNDARY, MiB, build, field, file, header
from web.streamed_forms import FileLimits, read_form_with_files, read_text_fields


class NoteForm(FlaskForm):
    class Meta:
        csrf = False

    body = TextAreaField(validators=[InputRequired(), Length(max=50)])


@pytest.fixture
def app(make_app) -> Flask:
    app = make_app()
    csrf = CSRFProtect(app)
    app.config["stored"] = stored = []

    @app.get("/token")
    def token() -> str:
        return generate_csrf()

    def store(form: NoteForm, part: Any) -> str:
        assert form.body.data  # validated before the first file
        data = b"".join(part.chunks())
        if part.filename == "refused-by-core.bin":
            raise InvalidInput("too much", field="attachments")
        if part.filename == "bad-by-core.bin":
            raise InvalidInput("no", field="body")
        stored.append((part.filename, data))
        return part.filename

    @app.post("/note")
    @csrf.exempt
    def note() -> Any:
        post = read_form_with_files(lambda data: NoteForm(formdata=data), store,
                                    FileLimits(total_bytes=1 * MiB, files=2))
        return {"valid": post.valid, "files": post.files, "error": post.error,
                "dropped": post.files_dropped, "body": post.form.body.data,
                "errors": post.form.body.errors, "too_large": post.too_large}, post.status

    @app.post("/text")
    @csrf.exempt
    def text() -> Any:
        form, chosen = read_text_fields(lambda data: NoteForm(formdata=data))
        return {"body": form.body.data, "file_chosen": chosen}

    return app


def send(client: Any, parts: list[tuple], path: str = "/note", token: str | None = None) -> Any:
    token = token if token is not None else client.get("/token").get_data(as_text=True)
    return client.post(path, data=build([field("csrf_token", token), *parts]),
                       content_type=f"multipart/form-data; boundary={BOUNDARY}")


def test_valid_text_and_files_are_stored_in_order(app: Flask) -> None:
    """Positive control: an empty file input is skipped, the chosen files are stored."""
    response = send(app.test_client(), [field("body", "hello"), file("attachments", "", b""),
                                        file("attachments", "a.txt", b"A"),
                                        file("attachments", "b.txt", b"B" * 300_000)])
    assert response.status_code == 200, response.json
    assert response.json["valid"] and response.json["files"] == ["a.txt", "b.txt"]
    assert app.config["stored"] == [("a.txt", b"A"), ("b.txt", b"B" * 300_000)]


def test_invalid_text_stores_no_file_and_says_so(app: Flask) -> None:
    response = send(app.test_client(), [field("body", "x" * 51),
                                        file("attachments", "a.txt", b"A")])
    assert response.status_code == 400
    assert response.json["dropped"] and not response.json["valid"]
    assert response.json["body"] == "x" * 51 and response.json["errors"]
    assert app.config["stored"] == []


@pytest.mark.parametrize("token", ["", "forged"])
def test_a_bad_csrf_token_is_refused_before_anything(app: Flask, token: str) -> None:
    response = send(app.test_client(), [field("body", "hello"),
                                        file("attachments", "a.txt", b"A")], token=token)
    assert response.status_code == 400
    assert b"hello" not in response.data
    assert app.config["stored"] == []


def test_an_expired_token_gives_the_text_back_and_stores_nothing(app: Flask,
                                                                monkeypatch) -> None:
    client = app.test_client()
    token = client.get("/token").get_data(as_text=True)
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                        lambda self: int(time.time()) + 2 * 24 * 3600)
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    response = send(client, [field("body", "kept"), file("attachments", "a.txt", b"A")],
                    token=token)
    assert response.status_code == 400
    assert response.json["body"] == "kept" and not response.json["valid"]
    assert "open for more than a day" in response.json["error"]
    assert app.config["stored"] == []


def test_a_file_without_a_name_refuses_the_whole_post(app: Flask) -> None:
    """A file part with content but no name is not an empty input: refused, not skipped."""
    response = send(app.test_client(), [field("body", "kept"),
                                        file("attachments", "a.txt", b"A"),
                                        file("attachments", "", b"content")])
    assert response.status_code == 400
    assert response.json["error"] == ("One of the files came without a name, so nothing "
                                      "was sent.")
    assert response.json["body"] == "kept" and not response.json["valid"]
    assert response.json["files"] == []


def test_a_file_in_an_unexpected_field_refuses_the_whole_post(app: Flask) -> None:
    response = send(app.test_client(), [field("body", "kept"),
                                        file("other", "a.txt", b"A")])
    assert response.status_code == 400
    assert response.json["error"] and response.json["body"] == "kept"
    assert app.config["stored"] == []


def test_too_many_files_are_refused(app: Flask) -> None:
    response = send(app.test_client(), [field("body", "hi"),
                                        *[file("attachments", f"{n}.txt", b"x") for n in "abc"]])
    assert response.status_code == 413 and response.json["body"] == "hi"
    assert len(app.config["stored"]) == 2  # the third was refused before a byte of it
    assert response.json["too_large"]  # the page may state the file limits


@pytest.mark.parametrize(("parts", "message"), [
    ([field("body", "x" * (128 * 1024 + 1))], "longer than the 32768 characters allowed"),
    ([field("body", "hi"), *[field(f"f{n}", "v") for n in range(30)]],
     "more fields than it should"),
], ids=["field-too-long", "too-many-fields"])
def test_a_refusal_for_the_text_is_not_about_files(app: Flask, parts: list[tuple],
                                                   message: str) -> None:
    """413 still, but `too_large` (the file limits) stays False: the text was the problem."""
    response = send(app.test_client(), [*parts, file("attachments", "a.txt", b"A")])
    assert response.status_code == 413
    assert message in response.json["error"] and not response.json["too_large"]
    assert app.config["stored"] == []


@pytest.mark.parametrize(("name", "status", "message"), [
    ("refused-by-core.bin", 413, "larger than this service accepts"),
    ("bad-by-core.bin", 400, "Please check the form"),
])
def test_a_refusal_by_core_becomes_a_message(app: Flask, name: str, status: int,
                                             message: str) -> None:
    response = send(app.test_client(), [field("body", "hi"), file("attachments", name, b"x")])
    assert response.status_code == status
    assert message in response.json["error"] and response.json["body"] == "hi"


def test_a_body_declared_too_large_keeps_its_text_and_reads_no_file(app: Flask) -> None:
    client = app.test_client()
    token = client.get("/token").get_data(as_text=True)
    huge = 4 * MiB
    head = build([field("csrf_token", token), field("body", "kept")])[:-len(BOUNDARY) - 6]
    body = head + header(file("attachments", "big.bin", b"")) + b"\0" * huge
    response = client.post("/note", data=body,
                           content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 413
    assert response.json["body"] == "kept" and "larger than the limit" in response.json["error"]
    assert app.config["stored"] == []


def test_read_text_fields_stops_at_the_first_file(app: Flask) -> None:
    response = send(app.test_client(), [field("body", "kept"),
                                        file("attachments", "a.txt", b"A")], path="/text")
    assert response.json == {"body": "kept", "file_chosen": True}
    response = send(app.test_client(), [field("body", "only text")], path="/text")
    assert response.json == {"body": "only text", "file_chosen": False}


def test_a_field_after_the_first_file_refuses_the_whole_post(app: Flask) -> None:
    # The form is built and checked at the first file: a field sent after it (a honeypot, a
    # link to the entry corrected) would otherwise be left out without anyone noticing.
    response = send(app.test_client(), [field("body", "kept"),
                                        file("attachments", "a.txt", b"A"),
                                        field("body", "late")])
    assert response.status_code == 400
    assert response.json["error"] == "The form data could not be read."
    assert response.json["body"] == "kept" and not response.json["valid"]
