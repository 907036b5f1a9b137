"""The same journey over real HTTP: the app served by werkzeug on 127.0.0.1 in a thread,
driven with urllib, a cookie jar and hand-built multipart bodies."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from core.services import Services
from tests.portal.conftest import (
    HttpClient,
    IntakeReviewer,
    LiveServer,
    counts,
    csrf_token,
    live_server,
    only_case_id,
    post_reviewer_reply,
    receipt_of,
    report_fields,
)
from tests.portal.test_flow import FILE_LINK_RE, sample_files


@pytest.fixture
def server(make_portal: Callable[..., Flask]) -> Iterator[LiveServer]:
    # Plain-http cookies: urllib's cookie jar (rightly) never sends Secure cookies over http.
    with live_server(make_portal(insecure_dev_cookies=True)) as running:
        yield running


def links(html: str) -> dict[str, int]:
    return {name: int(file_id) for file_id, name in FILE_LINK_RE.findall(html)}


def download(http: HttpClient, file_id: int, name: str, content: bytes) -> None:
    response = http.get(f"/case/files/{file_id}")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert name in response.headers["Content-Disposition"]
    assert response.headers.get_content_type() == "application/octet-stream"
    assert int(response.headers["Content-Length"]) == len(content)
    assert hashlib.sha256(response.body).hexdigest() == hashlib.sha256(content).hexdigest()


def test_full_journey_over_http(
    server: LiveServer,
    session_factory: sessionmaker[Session],
    services: Services,
    intake_reviewer: IntakeReviewer,
) -> None:
    http = HttpClient(server.base)
    landing = http.get("/")
    assert landing.status == 200
    form = http.get("/report")
    assert form.status == 200
    reporter_files = sample_files("reporter")
    sent = http.post_multipart(
        "/report",
        [("csrf_token", csrf_token(form.text)), *report_fields(summary="Over the wire").items()],
        [("attachments", name, content) for name, content in reporter_files],
    )
    assert sent.status == 200, sent.text[:2000]
    assert sent.headers["Cache-Control"] == "no-store"
    receipt = receipt_of(sent.text)
    assert counts(session_factory, services).attachments == 4

    login_page = http.get("/follow-up")
    login = http.post_form(
        "/follow-up", [("csrf_token", csrf_token(login_page.text)), ("receipt", receipt)]
    )
    assert login.status == 303
    assert login.headers["Location"].endswith("/case")
    assert receipt.replace(" ", "") not in login.headers["Location"]
    case = http.get("/case")
    assert case.status == 200
    assert "Over the wire" in case.text
    found = links(case.text)
    for name, content in reporter_files:
        download(http, found[name], name, content)

    handler_files = sample_files("handler")
    post_reviewer_reply(
        session_factory,
        services,
        intake_reviewer,
        only_case_id(session_factory),
        "Files from the handler",
        handler_files,
    )
    case = http.get("/case")
    assert "Files from the handler" in case.text
    found = links(case.text)
    for name, content in handler_files:
        download(http, found[name], name, content)

    extra = os.urandom(5 * 1024 * 1024)
    reply = http.post_multipart(
        "/case/reply",
        [("csrf_token", csrf_token(case.text)), ("body", "More proof")],
        [("attachments", "proof.bin", extra)],
    )
    assert reply.status == 303
    case = http.get("/case")
    assert "More proof" in case.text
    download(http, links(case.text)["proof.bin"], "proof.bin", extra)

    logout = http.post_form("/case/logout", [("csrf_token", csrf_token(case.text))])
    assert logout.status == 303
    after = http.get("/case")
    assert after.status == 200
    assert 'id="not-recognised"' in after.text
    assert http.get(f"/case/files/{found['handler-one.bin']}").status == 303


def test_chunked_upload_over_http(
    server: LiveServer, session_factory: sessionmaker[Session], services: Services
) -> None:
    """A body sent with Transfer-Encoding: chunked (no Content-Length) is accepted."""
    import http.client

    from tests.portal.conftest import multipart_body

    http_client = HttpClient(server.base)
    form = http_client.get("/report")
    content = os.urandom(300 * 1024)
    body, content_type = multipart_body(
        [("csrf_token", csrf_token(form.text)), *report_fields().items()],
        [("attachments", "chunked.bin", content)],
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in http_client.jar)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    pieces = (body[i : i + 7000] for i in range(0, len(body), 7000))
    conn.request(
        "POST",
        "/report",
        body=pieces,
        encode_chunked=True,
        headers={"Content-Type": content_type, "Cookie": cookie, "Transfer-Encoding": "chunked"},
    )
    response = conn.getresponse()
    page = response.read().decode()
    conn.close()
    assert response.status == 200, page[:2000]
    assert re.search(r'id="receipt-code">[0-9 ]+<', page)
    assert counts(session_factory, services).attachments == 1
