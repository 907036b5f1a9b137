"""A flood of invalid posts and of receipt guesses does not keep a reporter out (issue #15).

For LOAD_SECONDS, against `candor serve portal` (gunicorn, two workers, the default budgets,
the production Argon2id profile), at the same time:

- invalid posts at 100 a second to POST /report and POST /follow-up, in four kinds: no cookie
  at all; the session cookie with a forged CSRF token; a valid token with the honeypot field
  filled (/follow-up has no honeypot: there the post fills it and leaves the receipt out); a
  multipart body broken after the token;
- four threads guessing receipt codes: each loads /follow-up once for a cookie and a token,
  then posts well-formed random codes (valid check digit) back to back;
- one legitimate reporter, in a loop: loads /report, sends a report with a small file, gets
  the receipt, logs in with it at /follow-up, reads /case, downloads the file and replies.

Every legitimate step must succeed, each within STEP_LIMIT seconds. The reporter starts a new
report every REPORT_EVERY seconds at most: the submission budget (20 a minute) is the whole
instance's, and one person alone must not spend it.
"""

from __future__ import annotations

import http.client
import os
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import TypeVar

import pytest

from crypto.receipt import format_receipt, generate_receipt
from tests.load.clients import (
    Browser,
    Dropped,
    case_page,
    download,
    files_on,
    log_in,
    reply,
    submit,
)
from tests.load.conftest import LOAD_SECONDS, STEP_LIMIT, Instance, Server, Traffic, serve
from tests.portal.conftest import multipart_body
from tests.portal.response_checks import csrf_token

pytestmark = pytest.mark.slow

FLOOD_RATE = 100  # invalid posts a second
FLOOD_THREADS = 4
GUESSERS = 4
REPORT_EVERY = 4.0  # seconds: at most 15 reports a minute from the legitimate reporter
KINDS = ("no cookie", "forged token", "honeypot", "broken multipart")
PATHS = ("/report", "/follow-up")

T = TypeVar("T")


# --- the flood of invalid posts ----------------------------------------------------------------


def _report_body(token: str, extra: list[tuple[str, str]]) -> tuple[bytes, str]:
    return multipart_body([("csrf_token", token), ("category", "it_fault"),
                           ("summary", "Flood"), ("what_happened", "Flood."),
                           ("disclosure", "anonymous"), *extra])


def _broken_multipart(token: str) -> tuple[bytes, str]:
    boundary = "floodBoundary42"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-dat\x00\r\n\r\n"
            "no closing boundary").encode("latin-1")
    return body, f"multipart/form-data; boundary={boundary}"


def invalid_post(kind: str, path: str, cookie: str, token: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one invalid post of `kind` to `path`."""
    forged = token[::-1]
    spam = [("website", "http://spam.example")]
    if kind == "broken multipart":
        body, content_type = _broken_multipart(token)
    elif path == "/report":
        body, content_type = (_report_body(token, spam) if kind == "honeypot"
                              else _report_body(forged, []))
    else:
        fields = ([("csrf_token", token), *spam] if kind == "honeypot"
                  else [("csrf_token", forged), ("receipt", format_receipt(generate_receipt()))])
        body = urllib.parse.urlencode(fields).encode("ascii")
        content_type = "application/x-www-form-urlencoded"
    headers = {"Content-Type": content_type}
    if kind != "no cookie":
        headers["Cookie"] = cookie
    return body, headers


def send_raw(port: int, path: str, body: bytes, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def flood(server: Server, traffic: Traffic, start: float, end: float, lane: int,
          missed: list[int]) -> None:
    """Lane `lane` of the flood: posts number lane, lane + FLOOD_THREADS, ... each at its
    moment start + n / FLOOD_RATE; a post more than a second late is skipped (and counted)."""
    primer = Browser(server.base, traffic, "flood primer")
    while (page := primer.get("/report")).status != 200:  # a session cookie and its token
        assert time.monotonic() < end, "the flood found no form to take a token from"
        time.sleep(0.5)
    token = csrf_token(page.text)
    cookie = "; ".join(f"{c.name}={c.value}" for c in primer.jar)
    n = lane
    while (due := start + n / FLOOD_RATE) < end:
        n += FLOOD_THREADS
        lag = time.monotonic() - due
        if lag < 0:
            time.sleep(-lag)
        elif lag > 1.0:
            missed[lane] += 1
            continue
        kind, path = KINDS[(n // 2) % len(KINDS)], PATHS[n % 2]
        body, headers = invalid_post(kind, path, cookie, token)
        began = time.monotonic()
        try:
            status = send_raw(server.port, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            traffic.record(f"flood {path} {kind}", 0, time.monotonic() - began, repr(exc))
            continue
        traffic.record(f"flood {path} {kind}", status, time.monotonic() - began)


def guess(server: Server, traffic: Traffic, end: float) -> None:
    """Well-formed random receipt codes, back to back, with one session's token."""
    browser = Browser(server.base, traffic, "guesser")
    token = None
    while time.monotonic() < end:
        try:
            if token is None:
                token = csrf_token(browser.get("/follow-up").text)
            answer = browser.post_form("/follow-up", [
                ("csrf_token", token), ("receipt", format_receipt(generate_receipt()))])
            if answer.status == 400:
                token = None
        except Dropped:
            time.sleep(0.1)


# --- the legitimate reporter -------------------------------------------------------------------


class Reporter:
    """The legitimate reporter's loop; every failed step is kept, not raised."""

    def __init__(self, server: Server, traffic: Traffic) -> None:
        self.server = server
        self.traffic = traffic
        self.failures: list[str] = []
        self.cycles = 0
        self.slowest = 0.0

    def step(self, name: str, action: Callable[[], T]) -> T:
        began = time.monotonic()
        try:
            return action()
        finally:
            took = time.monotonic() - began
            self.slowest = max(self.slowest, took)
            if took > STEP_LIMIT:
                self.failures.append(f"cycle {self.cycles}: {name} took {took:.1f} s")

    def cycle(self) -> None:
        browser = Browser(self.server.base, self.traffic, "reporter")
        summary = f"Legitimate report {self.cycles} {secrets.token_hex(6)}"
        evidence = os.urandom(16 * 1024)
        receipt = self.step("load /report and send the report", lambda: submit(
            browser, summary, "It happened again today.", [("evidence.bin", evidence)]))
        self.step("log in at /follow-up", lambda: log_in(browser, receipt))
        page = self.step("read /case", lambda: case_page(browser, contains=summary))
        number = files_on(page).get("evidence.bin")
        assert number is not None, f"cycle {self.cycles}: no link to the file on /case"
        got = self.step("download the file", lambda: download(browser, number))
        assert got == evidence, f"cycle {self.cycles}: the file came back different"
        self.step("reply", lambda: reply(browser, page, f"More details {self.cycles}"))

    def run(self, end: float) -> None:
        while (began := time.monotonic()) < end:
            try:
                self.cycle()
            except (AssertionError, Dropped) as failure:
                self.failures.append(f"cycle {self.cycles}: {failure}")
            self.cycles += 1
            time.sleep(max(0.0, min(end, began + REPORT_EVERY) - time.monotonic()))


def test_a_reporter_gets_through_a_flood_of_invalid_posts_and_receipt_guesses(
        instance: Instance) -> None:
    instance.handlers(1)
    flood_traffic, guess_traffic, legit_traffic = Traffic(), Traffic(), Traffic()
    with serve(instance, "portal") as server:
        start = time.monotonic() + 1.0
        end = start + LOAD_SECONDS
        missed = [0] * FLOOD_THREADS
        threads = [threading.Thread(target=flood, args=(server, flood_traffic, start, end, lane,
                                                        missed), daemon=True)
                   for lane in range(FLOOD_THREADS)]
        threads += [threading.Thread(target=guess, args=(server, guess_traffic, end),
                                     daemon=True) for _ in range(GUESSERS)]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, start + 2.0 - time.monotonic()))  # the floods are under way
        reporter = Reporter(server, legit_traffic)
        reporter.run(end)
        for thread in threads:
            thread.join(timeout=STEP_LIMIT + 30)
        assert not any(t.is_alive() for t in threads), "a flood thread did not stop"
        log = server.log_text()

    sent = flood_traffic.count() - flood_traffic.count("flood primer GET /report")
    scheduled = int(LOAD_SECONDS * FLOOD_RATE)
    guesses = guess_traffic.count("guesser POST /follow-up")
    report = (f"\nlegitimate reporter: {reporter.cycles} cycles, slowest step "
              f"{reporter.slowest:.2f} s\n{legit_traffic.summary()}\n"
              f"invalid posts: {sent} of {scheduled} scheduled ({sum(missed)} skipped late)\n"
              f"{flood_traffic.summary()}\nreceipt guesses: {guesses}\n{guess_traffic.summary()}")
    print(report)
    assert reporter.cycles >= LOAD_SECONDS / REPORT_EVERY / 2, report
    assert reporter.failures == [], "\n".join(reporter.failures) + report
    for traffic in (legit_traffic, flood_traffic, guess_traffic):
        assert traffic.server_errors() == {}, report + log[-3000:]
    # The flood really ran: most invalid posts were sent, and the guessers kept guessing.
    assert sent >= 0.6 * scheduled, report
    assert guesses >= GUESSERS * LOAD_SECONDS / 5, report
