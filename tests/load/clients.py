"""Clients for the load tests: a browser-like HTTP client (urllib, a cookie jar, redirects
returned, not followed) that records every answer in a Traffic, and the steps a reporter takes
on the portal and a case handler on the console, each checking its answer."""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse

import pyotp

from core.models import Reviewer
from core.staff.accounts import totp_secret
from tests.core.factories import ReviewerHandle
from tests.load.conftest import Instance, Traffic
from tests.portal.conftest import form_token, multipart_body
from tests.portal.live_http import HttpClient, HttpResponse
from tests.portal.response_checks import csrf_token

RECEIPT_RE = re.compile(r'id="receipt-code">([0-9 ]+)<')
SHOWN_RE = re.compile(r'name="shown" value="([^"]*)"')
FILE_LINK_RE = re.compile(r'<a href="/case/files/(\d+)" download>([^<]*)</a>')
CASE_LINK_RE = re.compile(r'class="case-link" href="/cases/(\d+)"')
NUMBER_RE = re.compile(r"/\d+")


class Dropped(Exception):
    """The connection failed before a whole answer arrived."""


class StepFailed(AssertionError):
    """A step got an answer other than the one it needs."""

    def __init__(self, label: str, answer: HttpResponse, why: str = "") -> None:
        excerpt = answer.body[:300].decode("utf-8", "replace")
        super().__init__(f"{label}: status {answer.status} {why} {excerpt!r}")
        self.status = answer.status


class Browser(HttpClient):
    """One person's browser: its own cookies; every answer recorded in `traffic`."""

    def __init__(self, base: str, traffic: Traffic, side: str) -> None:
        super().__init__(base)
        self.traffic = traffic
        self.side = side

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None, label: str | None = None) -> HttpResponse:
        label = label or f"{self.side} {method} {NUMBER_RE.sub('/N', path)}"
        start = time.monotonic()
        try:
            answer = self.request(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.traffic.record(label, 0, time.monotonic() - start, repr(exc))
            raise Dropped(f"{label}: {exc!r}") from exc
        self.traffic.record(label, answer.status, time.monotonic() - start)
        return answer

    def get(self, path: str, **kwargs: object) -> HttpResponse:
        return self.call("GET", path, **kwargs)  # type: ignore[arg-type]

    def post_form(self, path: str, fields: list[tuple[str, str]]) -> HttpResponse:
        body = urllib.parse.urlencode(fields).encode("ascii")
        return self.call("POST", path, body,
                         {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path: str, fields: list[tuple[str, str | bytes]],
                       files: list[tuple[str, str | bytes, bytes]] = ()) -> HttpResponse:
        body, content_type = multipart_body(fields, files)
        return self.call("POST", path, body, {"Content-Type": content_type})


def expect(label: str, answer: HttpResponse, status: int, *, location: str | None = None,
           contains: str | None = None) -> HttpResponse:
    if answer.status != status:
        raise StepFailed(label, answer)
    if location is not None and not answer.headers.get("Location", "").endswith(location):
        raise StepFailed(label, answer, f"went to {answer.headers.get('Location')!r}")
    if contains is not None and contains not in answer.text:
        raise StepFailed(label, answer, f"without {contains!r}")
    return answer


# --- a reporter on the portal ------------------------------------------------------------------


def report_fields(html: str, summary: str, what_happened: str) -> list[tuple[str, str | bytes]]:
    """The fields a browser posts from the form page `html`: its CSRF token, its one-time
    form token and the list of readers it showed, an anonymous report in category it_fault."""
    fields: list[tuple[str, str | bytes]] = [("csrf_token", csrf_token(html)),
                                             ("once", form_token(html))]
    shown = SHOWN_RE.search(html)
    if shown:
        fields.append(("shown", shown.group(1)))
    fields += [("category", "it_fault"), ("summary", summary), ("what_happened", what_happened),
               ("disclosure", "anonymous")]
    return fields


def _wait_when_busy(answer: HttpResponse, attempt: int, busy_retries: int) -> bool:
    """Whether `answer` is the portal's "busy" (429) and a person would try again: if so,
    wait as its Retry-After says (at most 5 s) first."""
    if answer.status != 429 or attempt >= busy_retries:
        return False
    time.sleep(min(float(answer.headers.get("Retry-After") or 1), 5.0))
    return True


def submit(browser: Browser, summary: str, what_happened: str,
           files: list[tuple[str, bytes]] = (), *, busy_retries: int = 0) -> str:
    """Load /report, send the report with `files`; the receipt code shown. `busy_retries`:
    how many times to send it again after a "busy" answer, as a person would."""
    for attempt in range(busy_retries + 1):
        form = expect("load /report", browser.get("/report"), 200)
        sent = browser.post_multipart(
            "/report", report_fields(form.text, summary, what_happened),
            [("attachments", name, data) for name, data in files])
        if not _wait_when_busy(sent, attempt, busy_retries):
            break
    expect("send the report", sent, 200)
    match = RECEIPT_RE.search(sent.text)
    if not match:
        raise StepFailed("send the report", sent, "without a receipt")
    return match.group(1)


def log_in(browser: Browser, receipt: str, *, busy_retries: int = 0) -> None:
    """The follow-up login with a receipt code. `busy_retries`: how many times to try again
    after a "busy" answer (the Argon2id queue is full: README, "Busy times"), as a person
    would; 0 (the default) counts "busy" as a failure."""
    for attempt in range(busy_retries + 1):
        page = expect("load /follow-up", browser.get("/follow-up"), 200)
        sent = browser.post_form("/follow-up", [("csrf_token", csrf_token(page.text)),
                                                ("receipt", receipt)])
        if not _wait_when_busy(sent, attempt, busy_retries):
            break
    expect("log in with the receipt", sent, 303, location="/case")


def case_page(browser: Browser, contains: str | None = None) -> str:
    """The reporter's /case page (not the login page it falls back to)."""
    page = expect("read /case", browser.get("/case"), 200, contains=contains)
    if 'id="reply-form"' not in page.text:
        raise StepFailed("read /case", page, "not logged in")
    return page.text


def reply(browser: Browser, page: str, body: str, files: list[tuple[str, bytes]] = ()) -> None:
    """A message (and files) to the case team, with the CSRF token of the case page."""
    sent = browser.post_multipart("/case/reply", [("csrf_token", csrf_token(page)),
                                                  ("body", body)],
                                  [("attachments", name, data) for name, data in files])
    expect("reply", sent, 303)


def files_on(page: str) -> dict[str, int]:
    """File name -> the number its download link uses, on a /case page."""
    return {name: int(number) for number, name in FILE_LINK_RE.findall(page)}


def download(browser: Browser, number: int) -> bytes:
    return expect("download a file", browser.get(f"/case/files/{number}"), 200).body


# --- a case handler on the console -------------------------------------------------------------


def console_login(browser: Browser, instance: Instance, handle: ReviewerHandle) -> None:
    """Username, passphrase and the authenticator's current code, as a person types them."""
    with instance.session_factory() as s:
        secret = totp_secret(instance.services, s.get(Reviewer, handle.id))
    assert secret is not None
    page = expect("load /login", browser.get("/login"), 200)
    expect("console login", browser.post_form("/login", [
        ("csrf_token", csrf_token(page.text)), ("username", handle.username),
        ("passphrase", handle.passphrase), ("code", pyotp.TOTP(secret).now())]), 303)


def inbox(browser: Browser) -> list[int]:
    """The case ids linked from the first page of the handler's inbox."""
    page = expect("inbox", browser.get("/cases"), 200)
    return [int(case_id) for case_id in CASE_LINK_RE.findall(page.text)]


def post_to_reporter(browser: Browser, case_id: int, body: str) -> None:
    """Open the case, then send the reporter a message ("information")."""
    page = expect("open a case", browser.get(f"/cases/{case_id}"), 200)
    sent = browser.post_multipart(f"/cases/{case_id}/reply", [
        ("csrf_token", csrf_token(page.text)), ("kind", "information"), ("body", body)])
    expect("message to the reporter", sent, 303)
