"""The console's replies over real HTTP, with file names as browsers send them: a file named
`notes\\` (legal on Linux and macOS) used to be dropped while the message was sent without it.
Every chosen file is now kept under its own name, or the message is refused with the reason
and its text given back."""

from __future__ import annotations

import html
import http.cookiejar
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from core.models import Attachment, Message
from reviewer import create_app
from tests.portal.live_http import HttpClient, LiveServer, live_server
from tests.portal.response_checks import csrf_token
from tests.reviewer.conftest import open_session
from web.downloads import content_disposition

FILE_LINK_RE = re.compile(r'href="(/cases/\d+/files/\d+)" download>([^<]*)</a>')


@pytest.fixture
def server(config, services) -> Iterator[LiveServer]:
    # Plain-http cookies: urllib's cookie jar (rightly) never sends Secure cookies over http.
    plain = replace(config, insecure_dev_cookies=True)
    app = create_app(plain, services=replace(services, config=plain))
    with live_server(app) as running:
        yield running
    app.extensions["candor.database"].engine.dispose()


def logged_in(server: LiveServer, session_factory, services, handle) -> HttpClient:
    """A browser holding the handler's console session."""
    client = HttpClient(server.base)
    token = open_session(None, session_factory, services, handle)
    client.jar.set_cookie(http.cookiejar.Cookie(
        0, "candor-console", token.encode(), None, False, "127.0.0.1", False, False, "/", True,
        False, None, False, None, None, {}))
    return client


def links(page: str) -> dict[str, str]:
    return {html.unescape(name): path for path, name in FILE_LINK_RE.findall(page)}


def test_a_file_named_with_a_backslash_is_kept_over_http(server, session_factory, services,
                                                         world) -> None:
    client = logged_in(server, session_factory, services, world.on_case)
    page = client.get(f"/cases/{world.case_id}")
    assert page.status == 200
    sent = client.post_multipart(
        f"/cases/{world.case_id}/reply",
        [("csrf_token", csrf_token(page.text)), ("kind", "internal_note"),
         ("body", "Notes attached")],
        [("attachments", "notes\\", b"my notes"), ("attachments", "plan.pdf", b"%PDF")])
    assert sent.status == 303, sent.text[:2000]
    found = links(client.get(f"/cases/{world.case_id}").text)
    for name, content in (("notes\\", b"my notes"), ("plan.pdf", b"%PDF")):
        download = client.get(found[name])
        assert download.status == 200 and download.body == content
        assert download.headers["Content-Disposition"] == content_disposition(name)


def test_a_file_without_a_name_refuses_the_message_and_gives_the_text_back(
        server, session_factory, services, world) -> None:
    """A file part whose name is only folders ("C:\\\\dir\\\\") cannot be kept as it is: the
    message is refused with the reason, its text kept, nothing stored."""
    client = logged_in(server, session_factory, services, world.on_case)
    page = client.get(f"/cases/{world.case_id}")
    blobs_before = sorted(services.blobs.list_blobs())
    refused = client.post_multipart(
        f"/cases/{world.case_id}/reply",
        [("csrf_token", csrf_token(page.text)), ("kind", "information"),
         ("body", "My careful answer")],
        [("attachments", "kept.txt", b"first"), ("attachments", "C:\\dir\\", b"content")])
    assert refused.status == 400
    assert "One of the files came without a name, so nothing was sent." in refused.text
    assert "My careful answer" in refused.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
        assert s.scalar(select(func.count()).select_from(Attachment)) == 1  # the report's
    assert sorted(services.blobs.list_blobs()) == blobs_before
