"""The case cycle over real HTTP: the portal and the console served on local ports, a reporter
who submits and follows up with the receipt code, two case handlers who log in with TOTP and
take the case through every stage. The audit trail it leaves is checked event by event; two
more cases end as referred and as not admissible."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from core.audit.log import sequence_reporter_events
from core.cases.team_changes import grant_case
from core.clock import Clock
from core.db import transaction
from core.models import AuditEvent, Case, CaseStatus, CorrectiveAction, Reviewer
from core.staff.accounts import totp_secret
from tests.core.factories import ReviewerHandle, seed_categories
from tests.portal.live_http import HttpClient, HttpResponse, LiveServer, live_server
from tests.reviewer.conftest import new_account

CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
RECEIPT_RE = re.compile(r'id="receipt-code"[^>]*>\s*([0-9 ]+?)\s*<')


def _token(page: HttpResponse) -> str:
    match = CSRF_RE.search(page.text)
    assert match, page.text[:1000]
    return match.group(1)


@dataclass
class Apps:
    portal: LiveServer
    console: LiveServer


@pytest.fixture
def apps(config, services) -> Iterator[Apps]:
    import portal
    import reviewer

    dev = replace(config, insecure_dev_cookies=True)  # urllib sends no Secure cookie over http
    dev_services = replace(services, config=dev)
    with live_server(portal.create_app(dev, services=dev_services)) as portal_server, \
            live_server(reviewer.create_app(dev, services=dev_services)) as console_server:
        yield Apps(portal_server, console_server)


class Handler:
    """A case handler's browser: logged in to the console with passphrase and TOTP."""

    def __init__(self, base: str, session_factory, services, handle: ReviewerHandle) -> None:
        self.http = HttpClient(base)
        with session_factory() as s:
            secret = totp_secret(services, s.get(Reviewer, handle.id))
        page = self.http.get("/login")
        answer = self.http.post_form("/login", [
            ("csrf_token", _token(page)), ("username", handle.username),
            ("passphrase", handle.passphrase), ("code", pyotp.TOTP(secret).now())])
        assert answer.status in (302, 303), answer.text[:500]

    def step(self, case_id: int, step: str, fields: list[tuple[str, str]], *,
             page: str = "", multipart: bool = False) -> HttpResponse:
        """GET the page the form is on, then POST the form with its CSRF token."""
        token = _token(self.http.get(f"/cases/{case_id}{page}"))
        path = f"/cases/{case_id}/{step}"
        if multipart:
            return self.http.post_multipart(path, [("csrf_token", token), *fields])
        return self.http.post_form(path, [("csrf_token", token), *fields])


class Reporter:
    """A reporter's browser on the portal."""

    def __init__(self, base: str) -> None:
        self.http = HttpClient(base)

    def submit(self, summary: str) -> str:
        form = self.http.get("/report")
        sent = self.http.post_multipart("/report", [
            ("csrf_token", _token(form)), ("category", "it_fault"), ("summary", summary),
            ("what_happened", "It happens every day."), ("disclosure", "anonymous")])
        assert sent.status == 200, sent.text[:2000]
        match = RECEIPT_RE.search(sent.text)
        assert match, sent.text[:2000]
        return match.group(1)

    def open(self, receipt: str) -> None:
        page = self.http.get("/follow-up")
        login = self.http.post_form("/follow-up", [("csrf_token", _token(page)),
                                                   ("receipt", receipt)])
        assert login.status == 303

    def case(self) -> str:
        page = self.http.get("/case")
        assert page.status == 200
        return page.text

    def reply(self, body: str) -> None:
        page = self.http.get("/case")
        sent = self.http.post_multipart("/case/reply", [("csrf_token", _token(page)),
                                                        ("body", body)])
        assert sent.status == 303, sent.text[:500]


def _case(session_factory, summary_marker: int = 0) -> Case:
    with session_factory() as s:
        return s.execute(select(Case).order_by(Case.received_on, Case.id)).scalars().all()[
            summary_marker]


def _status(session_factory, case_id: int) -> CaseStatus:
    with session_factory() as s:
        return s.get(Case, case_id).status


def _trail(session_factory, case_id: int) -> list[tuple[str, int | None, str]]:
    """(action, reviewer id, detail) of the case's logged events, in order."""
    with session_factory() as s:
        return [(e.action, e.reviewer_id, e.detail) for e in s.execute(
            select(AuditEvent).where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.position)).scalars()]


def _team(session_factory, services):
    alice = new_account(session_factory, services, "alice")
    bob = new_account(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    return alice, bob


def test_every_stage_over_http_with_the_reporter_following_up(apps, session_factory,
                                                              services) -> None:
    alice, bob = _team(session_factory, services)
    reporter = Reporter(apps.portal.base)
    receipt = reporter.submit("Door 4 badge reader fails")
    case = _case(session_factory)
    with transaction(session_factory) as s:  # alice adds bob to the team
        grant_case(s, services, alice.unlocked, case.id, s.get(Reviewer, bob.id))
    a = Handler(apps.console.base, session_factory, services, alice)
    b = Handler(apps.console.base, session_factory, services, bob)

    assert a.step(case.id, "acknowledge", [("ack-body", "Received, thank you.")]).status == 303
    assert a.step(case.id, "reply", [("kind", "clarification_request"),
                                     ("body", "Which door exactly?")], multipart=True
                  ).status == 303
    assert _status(session_factory, case.id) is CaseStatus.INFO_NEEDED
    reporter.open(receipt)
    assert "Which door exactly?" in reporter.case()
    reporter.reply("The east entrance, door 4.")
    assert _status(session_factory, case.id) is CaseStatus.ACKNOWLEDGED  # back where it was

    assert a.step(case.id, "scope", [("decision", "accepted"), ("lead", str(bob.id)),
                                     ("priority", "high"), ("message", "")]).status == 303
    assert b.step(case.id, "evidence", [("kind", "note"), ("text", "Reader log exported.")],
                  page="/casework", multipart=True).status == 303
    assert b.step(case.id, "decision", [("finding", "substantiated"),
                                        ("root_cause", "technical_defect"),
                                        ("reasons", "The log shows the failures.")],
                  page="/casework").status == 303
    due = (services.clock.today() + timedelta(days=10)).isoformat()
    assert b.step(case.id, "actions", [("title", "Replace the reader"), ("notes", ""),
                                       ("owner", str(alice.id)), ("due_on", due)],
                  page="/casework").status == 303
    assert b.step(case.id, "feedback", [("outcome", "The reader will be replaced."),
                                        ("grounds", "Its log shows the failures.")]
                  ).status == 303
    page = reporter.case()
    assert "The reader will be replaced." in page and "Its log shows the failures." in page
    assert b.step(case.id, "follow-up", []).status == 303
    with session_factory() as s:
        action_id = s.execute(select(CorrectiveAction.id)).scalar_one()
    assert a.step(case.id, f"actions/{action_id}", [("status", "done"),
                                                    ("note", "Replaced on Tuesday.")],
                  page="/casework").status == 303
    # Only the lead closes.
    assert a.step(case.id, "close", [("reason", "")]).status == 403
    assert b.step(case.id, "close", [("reason", "")]).status == 303
    assert _status(session_factory, case.id) is CaseStatus.CLOSED

    # The reporter's events join the log once their day has ended (SECURITY.md, Audit log).
    later = Clock(now=lambda: services.clock.now() + timedelta(days=2))
    with transaction(session_factory) as s:
        assert sequence_reporter_events(s, later) >= 3
    trail = _trail(session_factory, case.id)

    def moves(staff: bool) -> list[tuple[str, ...]]:
        return [re.search(r'"from":"(\w+)".*"to":"(\w+)"', d).groups()  # type: ignore[union-attr]
                for action, who, d in trail
                if action == "case:status" and (who is not None) is staff]

    assert moves(staff=True) == [
        ("received", "acknowledged"), ("acknowledged", "info_needed"),
        ("acknowledged", "under_investigation"), ("under_investigation", "decided"),
        ("decided", "feedback_given"), ("feedback_given", "follow_up"),
        ("follow_up", "closed")]
    assert moves(staff=False) == [("info_needed", "acknowledged")]  # the reporter's answer
    # Each step by its actor; the reporter's own events carry no staff id.
    by = {action: who for action, who, _d in trail}
    assert by["case:scope"] == alice.id and by["case:lead"] == alice.id
    assert by["case:decision"] == bob.id and by["case:evidence:add"] == bob.id
    assert by["case:action:update"] == alice.id
    assert all(who is None for action, who, _d in trail
               if action in ("case:submit", "case:message:submitter"))
    assert all("sha256" in d for action, _who, d in trail
               if action in ("case:evidence:add", "case:decision", "case:action:add"))


@pytest.mark.parametrize(("decision", "stage"), [("referred", CaseStatus.REFERRED),
                                                 ("not_admissible", CaseStatus.NOT_ADMISSIBLE)])
def test_referral_and_rejection_over_http(apps, session_factory, services, decision,
                                          stage) -> None:
    alice, _bob = _team(session_factory, services)
    reporter = Reporter(apps.portal.base)
    receipt = reporter.submit("A pay question")
    case = _case(session_factory)
    a = Handler(apps.console.base, session_factory, services, alice)
    why = "This belongs to HR: please write to hr@example.org."
    assert a.step(case.id, "scope", [("decision", decision), ("priority", "normal"),
                                     ("message", "")]).status == 400  # the reason is needed
    assert a.step(case.id, "scope", [("decision", decision), ("priority", "normal"),
                                     ("message", why)]).status == 303
    assert _status(session_factory, case.id) is stage
    reporter.open(receipt)
    assert why in reporter.case()
    assert a.step(case.id, "close", [("reason", "")]).status == 303
    assert _status(session_factory, case.id) is CaseStatus.CLOSED
    moves = [d for action, _who, d in _trail(session_factory, case.id)
             if action == "case:status"]
    assert [f'"to":"{stage.value}"' in m for m in moves].count(True) == 1
