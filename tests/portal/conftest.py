"""Portal fixtures: a real app on each database backend, with categories and a reviewer."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from email.message import Message as HeaderMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.categories.lookup import seed_default_categories, set_intake
from core.db import transaction
from core.models import Role
from core.services import Services
from core.staff.accounts import add_reviewer
from crypto.reviewer_keys import unwrap_private_key
from portal import create_app

REVIEWER_PASSPHRASE = "quiet meadow lantern 42 harbour"


@dataclass(frozen=True)
class IntakeReviewer:
    id: int
    private_key: bytes


@pytest.fixture
def intake_reviewer(session_factory: sessionmaker[Session], services: Services) -> IntakeReviewer:
    with transaction(session_factory) as session:
        seed_default_categories(session)
        created = add_reviewer(
            session, services, username="intake", role=Role.REVIEWER, passphrase=REVIEWER_PASSPHRASE
        )
        from core.models import Category

        for category in session.query(Category).all():
            set_intake(session, category.code, [created.reviewer])
        wrapped = created.reviewer.wrapped_private_key
        reviewer_id = created.reviewer.id
    return IntakeReviewer(reviewer_id, unwrap_private_key(wrapped, REVIEWER_PASSPHRASE))


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


# --- every response of every portal test is checked -------------------------------------------

#: Attributes that make the browser fetch or navigate.
URL_ATTRS_RE = re.compile(
    r"\s(?:href|src|action|formaction|srcset|data|poster|background|cite|manifest|ping|"
    r'xlink:href)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))',
    re.IGNORECASE,
)
TAG_RE = re.compile(r"<[a-zA-Z][^>]*>")
FORBIDDEN_MARKUP_RE = re.compile(
    r"<\s*(?:script|iframe|object|embed|frame|applet|base)\b|\bon[a-z]+\s*=\s*[\"']|"
    r"http-equiv\s*=\s*[\"']?refresh|javascript:",
    re.IGNORECASE,
)


def header_problems(headers: object) -> list[str]:
    """What is wrong with a response's security headers (empty: all good)."""
    get = headers.get  # type: ignore[attr-defined]
    problems = []
    csp = get("Content-Security-Policy", "")
    directives = [d.strip() for d in csp.split(";")]
    if "default-src 'none'" not in directives:
        problems.append(f"CSP without default-src 'none': {csp!r}")
    if "script-src" in csp:
        problems.append(f"CSP allows scripts: {csp!r}")
    if "frame-ancestors 'none'" not in directives:
        problems.append("CSP without frame-ancestors 'none'")
    expected = {
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }
    for name, value in expected.items():
        if get(name) != value:
            problems.append(f"{name}: {get(name)!r}")
    policy = get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()", "interest-cohort=()"):
        if feature not in policy:
            problems.append(f"Permissions-Policy lacks {feature}")
    if get("Server"):
        problems.append("Server header sent")
    return problems


def page_problems(body: str) -> list[str]:
    """Scripts, inline handlers and URLs that leave the portal's own origin."""
    problems = [f"forbidden markup {m.group(0)!r}" for m in FORBIDDEN_MARKUP_RE.finditer(body)]
    for tag in TAG_RE.findall(body):
        for groups in URL_ATTRS_RE.findall(tag):
            url = next((g for g in groups if g), "").strip()
            if not url or url.startswith("#"):
                continue
            if not url.startswith("/") or url.startswith(("//", "/\\")):
                problems.append(f"URL not on this origin: {url!r} in {tag[:200]!r}")
    return problems


@dataclass
class ResponseWatch:
    """Records every response the app sends; `check` fails the test on any problem."""

    problems: list[str]
    html_pages: int = 0
    responses: int = 0

    def check(self) -> None:
        assert not self.problems, "\n".join(self.problems[:20])


def watch_responses(app: Flask) -> ResponseWatch:
    """Check the security headers of every response and scan every HTML page for scripts and
    foreign URLs. Runs after the app's own hooks have set the headers."""
    watch = ResponseWatch(problems=[])
    original = app.process_response

    def process_response(response):  # type: ignore[no-untyped-def]
        response = original(response)
        from flask import request

        watch.responses += 1
        where = f"{request.method} {request.path} -> {response.status_code}"
        watch.problems.extend(f"{where}: {p}" for p in header_problems(response.headers))
        if (
            response.mimetype == "text/html"
            and response.is_sequence
            and not response.direct_passthrough
        ):
            watch.html_pages += 1
            body = response.get_data(as_text=True)
            watch.problems.extend(f"{where}: {p}" for p in page_problems(body))
        return response

    app.process_response = process_response  # type: ignore[method-assign]
    app.extensions["tests.response_watch"] = watch
    return watch


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


# --- helpers shared by the portal tests ---------------------------------------------------------

RECEIPT_RE = re.compile(r'id="receipt-code">([0-9 ]+)<')


def receipt_of(html: str) -> str:
    """The receipt code (formatted, groups of four) shown on a receipt page."""
    match = RECEIPT_RE.search(html)
    assert match, "no receipt code on the page"
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
        [("csrf_token", csrf_token(page.text)), *values.items()],
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


# --- a real HTTP server ---------------------------------------------------------------------------


class LiveServer:
    """The app served by werkzeug in a thread on 127.0.0.1:<free port>."""

    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@contextmanager
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class HttpResponse:
    status: int
    headers: HeaderMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class HttpClient:
    """urllib with a cookie jar; redirects are returned, not followed."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.headers = dict(headers or {})

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers={**self.headers, **(headers or {})}
        )
        try:
            with self.opener.open(req, timeout=60) as resp:
                return HttpResponse(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as err:
            with err:
                return HttpResponse(err.code, err.headers, err.read())

    def get(self, path: str, **kwargs: object) -> HttpResponse:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def post_form(self, path: str, fields: list[tuple[str, str]]) -> HttpResponse:
        body = urllib.parse.urlencode(fields).encode("ascii")
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_multipart(
        self,
        path: str,
        fields: list[tuple[str, str | bytes]],
        files: list[tuple[str, str | bytes, bytes]] = (),
    ) -> HttpResponse:
        body, content_type = multipart_body(fields, files)
        return self.request("POST", path, body, {"Content-Type": content_type})
