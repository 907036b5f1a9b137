"""A report post with the honeypot filled in is refused at its first file: the text fields
before it are known then, so the rest of the body (the bot's upload) is never read, and
nothing is encrypted, stored, charged to the budget or derived with Argon2id. The check after
the body stays for a post without files."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.services import Services
from tests.portal.conftest import (
    blob_files,
    counts,
    csrf_token,
    multipart_body,
    receipt_of,
    report_fields,
)
from tests.write_lock_probe import PausingInput, probe_every_argon2id

#: Much larger than the parser's reads (web.uploads.FILE_READ_SIZE, 1 MiB).
LARGE_FILE = b"MZ" * (8 * 1024 * 1024)  # 16 MiB
REFUSAL = "Your report could not be sent."


def _without_tokens(page: str) -> str:
    """`page` without its CSRF token and its one-time form token (a post without one gets a
    fresh one: core.intake.submission_tokens)."""
    blanked, found = re.subn(r'(name="(?:csrf_token|once)" value=")[^"]*"', r'\1"', page)
    assert found == 2, "no CSRF or form token on the page"
    return blanked


SPAM = ("website", "http://spam.example")


def _body(token: str, *, before: list[tuple[str, str]] = (),
          files: list[tuple[str, bytes]] = ()) -> tuple[bytes, str]:
    """A report's body as a browser sends it: the CSRF token, the report's text, the fields
    in `before`, then the files."""
    return multipart_body([("csrf_token", token), *report_fields().items(), *before],
                          [("attachments", name, content) for name, content in files])


def _post_counted(client: FlaskClient, body: bytes, content_type: str) -> tuple[Any, int]:
    """POST /report with `body`; the response and how many bytes of the body were read."""
    stream = PausingInput(body, pause_at=len(body))
    stream.release.set()  # never paused: only its `position` is wanted
    response = client.post("/report", input_stream=stream, content_type=content_type,
                           content_length=len(body))
    return response, stream.position


@pytest.fixture
def one_report_a_minute(make_portal: Callable[..., Flask], services: Services,
                        monkeypatch: pytest.MonkeyPatch) -> Flask:
    """A portal whose budget allows a single report in the (frozen) minute: a refused post
    that charged it would make the next genuine report busy."""
    moment = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)
    monkeypatch.setattr(services.clock, "now", lambda: moment)
    return make_portal(submissions_per_minute=1)


def test_honeypot_before_the_files_stops_the_body_at_the_first_file(
    one_report_a_minute: Flask, services: Services, database_url: str,
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = one_report_a_minute.test_client()
    token = csrf_token(client.get("/report").text)
    before = counts(session_factory, services)
    argon2id = probe_every_argon2id(services, database_url, monkeypatch)
    body, content_type = _body(token, before=[SPAM],
                               files=[("spam.exe", LARGE_FILE), ("more.exe", LARGE_FILE)])

    refused, read = _post_counted(client, body, content_type)

    assert refused.status_code == 400
    assert REFUSAL in refused.text
    assert 'id="receipt-code"' not in refused.text
    # Stopped at the first file: at most a few of the parser's reads, not the 32 MiB sent.
    assert read < 4 * 1024 * 1024, (read, len(body))
    assert counts(session_factory, services) == before  # no case, audit event or blob
    assert blob_files(services) == []
    assert argon2id == []
    # The very page the check after the body gives (the text back, the same message).
    late, _read = _post_counted(client, *_body(token, before=[SPAM]))
    assert late.status_code == 400
    # (CSRF tokens carry the second they were made: two pages a second apart differ there.)
    assert _without_tokens(refused.text) == _without_tokens(late.text)

    # Nothing was charged: the minute's one report still goes through, with its files.
    body, content_type = _body(token, files=[("evidence.txt", b"evidence " * 1000)])
    sent, read = _post_counted(client, body, content_type)
    assert sent.status_code == 200, sent.text
    assert receipt_of(sent.text)
    assert read == len(body)
    after = counts(session_factory, services)
    assert (after.cases, after.attachments) == (before.cases + 1, before.attachments + 1)
    assert blob_files(services) != []
    # Positive control: the budget is spent now.
    assert client.post("/report", data=body, content_type=content_type).status_code == 429


@pytest.mark.parametrize("files", [[], [("", b"")]], ids=["no file part", "empty file input"])
def test_honeypot_without_files_is_refused_after_the_body(
    one_report_a_minute: Flask, services: Services, database_url: str,
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
    files: list[tuple[str, bytes]],
) -> None:
    # No file to stop at (a browser sends an empty file input when none is chosen): the
    # check after the body refuses it, as before.
    client = one_report_a_minute.test_client()
    token = csrf_token(client.get("/report").text)
    before = counts(session_factory, services)
    argon2id = probe_every_argon2id(services, database_url, monkeypatch)
    body, content_type = _body(token, before=[SPAM], files=files)

    refused, read = _post_counted(client, body, content_type)

    assert refused.status_code == 400
    assert REFUSAL in refused.text
    assert 'id="receipt-code"' not in refused.text
    assert read == len(body)
    assert counts(session_factory, services) == before
    assert argon2id == []
    sent = client.post("/report", data=_body(token)[0], content_type=content_type)
    assert sent.status_code == 200, sent.text  # the budget was not charged


def test_a_report_with_large_files_is_read_to_the_end_and_stored(
    client: FlaskClient, services: Services, session_factory: sessionmaker[Session],
) -> None:
    token = csrf_token(client.get("/report").text)
    before = counts(session_factory, services)
    body, content_type = _body(token, files=[("a.bin", LARGE_FILE), ("b.txt", b"notes")])

    sent, read = _post_counted(client, body, content_type)

    assert sent.status_code == 200, sent.text
    assert receipt_of(sent.text)
    assert read == len(body)
    after = counts(session_factory, services)
    assert (after.cases, after.attachments) == (before.cases + 1, before.attachments + 2)
    assert len(blob_files(services)) >= 2
