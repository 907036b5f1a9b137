"""Portal fixtures: a real app on each database backend, with categories and a reviewer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.categories.intake_routes import set_intake
from core.categories.lookup import seed_default_categories
from core.db import transaction
from core.services import Services
from portal import create_app
from tests.core.factories import add_reviewer

# Other test modules import these from here, where they were first written.
from tests.portal.live_http import HttpClient, HttpResponse, LiveServer, live_server
from tests.portal.response_checks import (
    FORBIDDEN_MARKUP_RE,
    TAG_RE,
    URL_ATTRS_RE,
    ResponseWatch,
    csrf_token,
    header_problems,
    page_problems,
    watch_responses,
)

__all__ = ["FORBIDDEN_MARKUP_RE", "TAG_RE", "URL_ATTRS_RE", "HttpClient", "HttpResponse",
           "LiveServer", "ResponseWatch", "csrf_token", "header_problems", "live_server",
           "page_problems", "watch_responses"]

REVIEWER_PASSPHRASE = "quiet meadow lantern 42 harbour"


@dataclass(frozen=True)
class IntakeReviewer:
    id: int
    private_key: bytes


@pytest.fixture
def intake_reviewer(session_factory: sessionmaker[Session], services: Services) -> IntakeReviewer:
    """A case handler who completed enrolment, the intake of every category."""
    handle = add_reviewer(session_factory, services, "intake", passphrase=REVIEWER_PASSPHRASE)
    with transaction(session_factory) as session:
        seed_default_categories(session)
        from core.models import Category, Reviewer

        reviewer = session.get(Reviewer, handle.id)
        assert reviewer is not None
        for category in session.query(Category).all():
            set_intake(session, services.keyring, category.code, [reviewer])
    return IntakeReviewer(handle.id, handle.private_key)


@pytest.fixture
def portal_app(services: Services, intake_reviewer: IntakeReviewer) -> Iterator[Flask]:
    app = create_app(services.config, services=services)
    app.config["TESTING"] = True
    watch = watch_responses(app)
    yield app
    watch.check()


@pytest.fixture
def client(portal_app: Flask) -> FlaskClient:
    return portal_app.test_client()


@pytest.fixture
def make_portal(
    services: Services, intake_reviewer: IntakeReviewer
) -> Iterator[Callable[..., Flask]]:
    """Build a portal with some settings changed (dataclasses.replace on the config); the
    new app shares the database, keyring, blob store and clock of `services`."""

    watches: list[ResponseWatch] = []

    def make(**changes: object) -> Flask:
        config = replace(services.config, **changes)
        app = create_app(config, services=replace(services, config=config))
        app.config["TESTING"] = True
        watches.append(watch_responses(app))
        return app

    yield make
    for watch in watches:
        watch.check()


# --- helpers shared by the portal tests ---------------------------------------------------------

RECEIPT_RE = re.compile(r'id="receipt-code">([0-9 ]+)<')


def receipt_of(html: str) -> str:
    """The receipt code (formatted, groups of four) shown on a receipt page."""
    match = RECEIPT_RE.search(html)
    assert match, "no receipt code on the page"
    return match.group(1)


def form_token(html: str) -> str:
    """The one-time token of a report form page (core.intake.submission_tokens)."""
    match = re.search(r'name="once" value="([A-Za-z0-9_-]{43})"', html)
    assert match, "no one-time token on the form"
    return match.group(1)


def report_fields(**overrides: str) -> dict[str, str]:
    """A valid report's text fields (category it_fault, anonymous)."""
    fields = {
        "category": "it_fault",
        "summary": "The VPN drops",
        "what_happened": "It drops every hour, since Monday.",
        "disclosure": "anonymous",
    }
    fields.update(overrides)
    return fields


def submit_report_via(
    client: FlaskClient,
    fields: dict[str, str] | None = None,
    files: list[tuple[str, bytes]] = (),
    **kwargs: object,
):
    """POST /report through the test client (the CSRF token first, files last).

    The body is built by `multipart_body`, as a browser would: werkzeug's test encoder omits
    the CRLF before the next delimiter after an empty file, which makes a 0-byte file swallow
    the part after it.
    """
    page = client.get("/report", **kwargs)
    assert page.status_code == 200, page.text
    values = report_fields() if fields is None else fields
    return post_multipart(
        client,
        "/report",
        [("csrf_token", csrf_token(page.text)), ("once", form_token(page.text)),
         *values.items()],
        [("attachments", name, content) for name, content in files],
        **kwargs,
    )


def post_multipart(
    client: FlaskClient,
    path: str,
    fields: list[tuple[str, str | bytes]],
    files: list[tuple[str, str | bytes, bytes]] = (),
    **kwargs: object,
):
    body, content_type = multipart_body(fields, files)
    return client.post(path, data=body, content_type=content_type, **kwargs)


def login_via(client: FlaskClient, receipt: str, **kwargs: object):
    """POST /follow-up with a receipt code (response not followed)."""
    page = client.get("/follow-up", **kwargs)
    return client.post(
        "/follow-up", data={"csrf_token": csrf_token(page.text), "receipt": receipt}, **kwargs
    )


def reply_via(client: FlaskClient, body: str, files: list[tuple[str, bytes]] = ()):
    """POST /case/reply with the CSRF token of the case page."""
    page = client.get("/case")
    assert page.status_code == 200
    return post_multipart(
        client,
        "/case/reply",
        [("csrf_token", csrf_token(page.text)), ("body", body)],
        [("attachments", name, content) for name, content in files],
    )


def browser_escape(name: str) -> str:
    """What browsers do to a file name in a multipart header (HTML spec): '"', CR and LF
    become %22, %0D and %0A."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart_body(
    fields: list[tuple[str, str | bytes]],
    files: list[tuple[str, str | bytes, bytes]] = (),
    boundary: str = "candorTestBoundary7MA4YWxkTrZu0gW",
) -> tuple[bytes, str]:
    """A multipart/form-data body built by hand: (body, content type). Fields come first, in
    order; str file names are escaped like a browser does, bytes are written verbatim (for
    invalid UTF-8 or raw quotes)."""
    out = bytearray()
    for name, value in fields:
        raw = value.encode("utf-8") if isinstance(value, str) else value
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += raw + b"\r\n"
    for name, filename, content in files:
        raw_name = (
            browser_escape(filename).encode("utf-8") if isinstance(filename, str) else filename
        )
        out += f"--{boundary}\r\n".encode()
        out += (
            f'Content-Disposition: form-data; name="{name}"; filename="'.encode()
            + raw_name
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


@dataclass(frozen=True)
class Counts:
    cases: int
    grants: int
    audit: int
    attachments: int
    messages: int
    blobs: int


def counts(session_factory: sessionmaker[Session], services: Services) -> Counts:
    """Rows that a submission writes, and the blobs in the store."""
    from sqlalchemy import func, select

    from core.models import Attachment, AuditEvent, Case, CaseGrant, Message

    with session_factory() as s:

        def n(model: type) -> int:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

        return Counts(
            cases=n(Case),
            grants=n(CaseGrant),
            audit=n(AuditEvent),
            attachments=n(Attachment),
            messages=n(Message),
            blobs=len(blob_files(services)),
        )


def blob_files(services: Services) -> list[Path]:
    """Every file in the blob store (finished or temporary)."""
    root = services.config.blob_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def only_case_id(session_factory: sessionmaker[Session]) -> int:
    from sqlalchemy import select

    from core.models import Case

    with session_factory() as s:
        ids = list(s.scalars(select(Case.id)))
    assert len(ids) == 1, ids
    return ids[0]


def post_reviewer_reply(
    session_factory: sessionmaker[Session],
    services: Services,
    reviewer: IntakeReviewer,
    case_id: int,
    body: str,
    files: list[tuple[str, bytes]] = (),
) -> None:
    """A case handler's reply with attachments, through core (as the console would)."""
    from core.cases.casework import (
        UnlockedReviewer,
        post_reviewer_message,
        store_reviewer_file,
    )
    from core.models import KeyKind, MessageKind

    who = UnlockedReviewer(reviewer.id, reviewer.private_key)
    with transaction(session_factory) as s:
        stored = [
            store_reviewer_file(
                services,
                who,
                s,
                case_id,
                KeyKind.CASE,
                name,
                "application/octet-stream",
                iter([content] if content else []),
            )
            for name, content in files
        ]
        post_reviewer_message(s, services, who, case_id, MessageKind.INFORMATION, body, stored)
