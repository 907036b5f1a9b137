"""File names as browsers send them, over real HTTP: a file named `notes\\` (a backslash is legal
in names on Linux and macOS) used to be dropped without a word while the reporter was told the
report was sent with all its files. Every chosen file is now kept under its own name, or the
whole post is refused with a message and the text given back."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from core.services import Services
from tests.portal.conftest import counts, receipt_of, report_fields
from tests.portal.live_http import HttpClient, LiveServer, live_server
from tests.portal.response_checks import csrf_token
from tests.portal.test_flow import FILE_LINK_RE
from web.downloads import content_disposition

NOTES = "notes\\"


@pytest.fixture
def server(make_portal: Callable[..., Flask]) -> Iterator[LiveServer]:
    # Plain-http cookies: urllib's cookie jar (rightly) never sends Secure cookies over http.
    with live_server(make_portal(insecure_dev_cookies=True)) as running:
        yield running


def links(page: str) -> dict[str, int]:
    return {html.unescape(name): int(number) for number, name in FILE_LINK_RE.findall(page)}


def log_in(http: HttpClient, receipt: str) -> str:
    """The case page after logging in with `receipt`."""
    login_page = http.get("/follow-up")
    login = http.post_form("/follow-up", [("csrf_token", csrf_token(login_page.text)),
                                          ("receipt", receipt)])
    assert login.status == 303
    return http.get("/case").text


def assert_download(http: HttpClient, number: int, name: str, content: bytes) -> None:
    response = http.get(f"/case/files/{number}")
    assert response.status == 200
    assert response.body == content
    assert response.headers["Content-Disposition"] == content_disposition(name)


def test_a_file_named_with_a_backslash_is_kept_over_http(
    server: LiveServer, session_factory: sessionmaker[Session], services: Services,
) -> None:
    http = HttpClient(server.base)
    form = http.get("/report")
    sent = http.post_multipart(
        "/report", [("csrf_token", csrf_token(form.text)), *report_fields().items()],
        [("attachments", NOTES, b"my notes"), ("attachments", "plan.pdf", b"%PDF"),
         ("attachments", "C:\\Users\\zhang.wei\\Desktop\\a\\b.txt", b"windows path")])
    assert sent.status == 200, sent.text[:2000]
    assert counts(session_factory, services).attachments == 3
    page = log_in(http, receipt_of(sent.text))
    found = links(page)
    # The real name is kept; folders of a Windows path (the account name) are not.
    assert set(found) == {NOTES, "plan.pdf", "b.txt"}
    assert "zhang.wei" not in page
    # Sizes in the page's language, not "(0.0 KB)".
    # (" KB)": a bare "KB" may be part of a random token in the page.)
    assert "(8 bytes)" in page and "(4 bytes)" in page and " KB)" not in page
    chinese = http.get("/case", headers={"Accept-Language": "zh-CN"}).text
    assert "（8 字节）" in chinese and " bytes)" not in chinese  # Chinese parentheses
    assert_download(http, found[NOTES], NOTES, b"my notes")
    assert_download(http, found["b.txt"], "b.txt", b"windows path")

    reply = http.post_multipart(
        "/case/reply", [("csrf_token", csrf_token(page)), ("body", "And the draft")],
        [("attachments", "draft\\", b"draft"), ("attachments", "a\\b.txt", b"a-b")])
    assert reply.status == 303, reply.text[:2000]
    found = links(http.get("/case").text)
    assert_download(http, found["draft\\"], "draft\\", b"draft")
    assert_download(http, found["a\\b.txt"], "a\\b.txt", b"a-b")
    assert "(5 bytes)" in http.get("/case").text  # a reply's file too
    assert counts(session_factory, services).attachments == 5


def test_a_file_without_a_name_refuses_the_report_and_gives_the_text_back(
    server: LiveServer, session_factory: sessionmaker[Session], services: Services,
) -> None:
    """A file part whose name is only folders ("C:\\\\dir\\\\") cannot be kept as it is: the
    whole report is refused, with the reason, the text kept and nothing stored."""
    before = counts(session_factory, services)
    http = HttpClient(server.base)
    form = http.get("/report")
    summary = "The badge readers log visitors"
    refused = http.post_multipart(
        "/report",
        [("csrf_token", csrf_token(form.text)), *report_fields(summary=summary).items()],
        [("attachments", "kept.txt", b"first"), ("attachments", "C:\\dir\\", b"content")])
    assert refused.status == 400
    assert "One of the files came without a name, so nothing was sent." in refused.text
    assert 'id="upload-error"' in refused.text
    assert f'value="{summary}"' in refused.text
    assert counts(session_factory, services) == before
