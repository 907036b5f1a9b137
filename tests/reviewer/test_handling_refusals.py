"""Refused handling steps in the console (outside tester): a referral or rejection cannot go
out with the acceptance letter; a refused form comes back with what the handler chose and
typed, its error beside the field, and nothing stored; "Follow up" is offered only when an
action is open and otherwise says why; a closed case's actions are described as such; a
refused form names its field."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from core.cases.casework import grant_case
from core.cases.content import ReportContent
from core.cases.letters import Letter, letter
from core.db import transaction
from core.models import (
    Case,
    CaseStatus,
    CorrectiveAction,
    EvidenceEntry,
    Message,
    Reviewer,
    ScopeDecision,
)
from tests.core.factories import seed_categories, submit
from tests.reviewer.conftest import login_client, new_account

MARKER = "MARKER-9d41 what the handler typed"
ACCEPTANCE_REFUSED = "This is the letter for an accepted report, so it was not sent."


def _token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _post(client, case_id: int, step: str, data: dict, *, page: str = ""):
    content_type = "multipart/form-data" if step == "evidence" else None
    return client.post(f"/cases/{case_id}/{step}",
                       data={"csrf_token": _token(client, f"/cases/{case_id}{page}"), **data},
                       content_type=content_type)


def _case(session_factory, case_id: int) -> Case:
    with session_factory() as s:
        case = s.get(Case, case_id)
        s.expunge(case)
        return case


def _count(session_factory, model, case_id: int) -> int:
    with session_factory() as s:
        return s.execute(select(func.count()).select_from(model)
                         .where(model.case_id == case_id)).scalar_one()


def _textarea(page: str, name: str) -> str:
    """The (unescaped) text of the page's textarea `name`."""
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {name}"
    return unescape(match.group(1)).strip()


def _checked(page: str, name: str) -> str | None:
    """The value of the checked radio button `name`, if any."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag):
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else None
    return None


@pytest.fixture
def handling(app, session_factory, services):
    """Alice (on the case, lead once accepted) and a report in English."""
    alice = new_account(session_factory, services, "alice")
    bob = new_account(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id]})
    result = submit(session_factory, services,
                    report=ReportContent(summary="Badge reader", description="It fails.",
                                         language="en"))
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, result.case_id, s.get(Reviewer, bob.id))
    client = login_client(app, session_factory, services, alice)
    return client, alice, result.case_id


def _accept(client, alice, case_id: int) -> None:
    answer = _post(client, case_id, "scope", {"decision": "accepted", "lead": str(alice.id),
                                              "priority": "normal", "message": ""})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]


def _decide(client, alice, case_id: int) -> None:
    _accept(client, alice, case_id)
    answer = _post(client, case_id, "decision", {
        "finding": "substantiated", "root_cause": "", "reasons": "The logs."},
        page="/casework")
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]


def _add_action(client, alice, case_id: int, services) -> None:
    due = (services.clock.today() + timedelta(days=30)).isoformat()
    answer = _post(client, case_id, "actions", {
        "title": "Replace reader", "notes": "", "owner": str(alice.id), "due_on": due},
        page="/casework")
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]


def _give_feedback(client, case_id: int) -> None:
    answer = _post(client, case_id, "feedback", {"outcome": "Fixed.", "grounds": "Logs."})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]


# 1. The acceptance letter is not a referral or a rejection.

@pytest.mark.parametrize(("decision", "language", "template"), [
    ("referred", "en", Letter.REFERRAL),
    ("not_admissible", "en", Letter.NOT_ADMISSIBLE),
    ("referred", "zh", Letter.REFERRAL),
    ("not_admissible", "", Letter.NOT_ADMISSIBLE),  # both languages (unknown language)
])
def test_refusal_with_the_acceptance_letter_is_refused_and_the_letter_swapped(
        handling, session_factory, decision: str, language: str, template: Letter) -> None:
    client, _alice, case_id = handling
    # As the page prefilled it, rewrapped by the browser or the handler's editor.
    accepted = letter(Letter.ACCEPTED, language).replace(". ", ".\r\n  ")
    answer = _post(client, case_id, "scope", {"decision": decision, "priority": "normal",
                                              "message": f"\r\n{accepted}  \r\n"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert ACCEPTANCE_REFUSED in page
    assert 'form-group form-group-error' in page
    assert _checked(page, "decision") == decision  # the handler's choice is kept
    assert _textarea(page, "message") == letter(template, language)
    case = _case(session_factory, case_id)
    assert case.status is CaseStatus.RECEIVED and case.scope_decision is None
    assert _count(session_factory, Message, case_id) == 0


def test_the_acceptance_letter_goes_with_an_acceptance(handling, session_factory) -> None:
    client, alice, case_id = handling
    answer = _post(client, case_id, "scope", {
        "decision": "accepted", "lead": str(alice.id), "priority": "normal",
        "message": letter(Letter.ACCEPTED, "en")})
    assert answer.status_code == 303
    assert _case(session_factory, case_id).scope_decision is ScopeDecision.ACCEPTED


def test_an_edited_letter_refers_the_report(handling, session_factory) -> None:
    client, _alice, case_id = handling
    answer = _post(client, case_id, "scope", {
        "decision": "referred", "priority": "normal",
        "message": letter(Letter.ACCEPTED, "en") + " Please contact HR instead."})
    assert answer.status_code == 303
    assert _case(session_factory, case_id).status is CaseStatus.REFERRED


# 2. A refused form comes back as posted; nothing is stored.

def test_a_stale_scope_decision_keeps_what_was_typed(handling, session_factory) -> None:
    client, alice, case_id = handling
    token = _token(client, f"/cases/{case_id}")  # the stale tab's page
    _accept(client, alice, case_id)  # another tab
    messages = _count(session_factory, Message, case_id)
    answer = client.post(f"/cases/{case_id}/scope", data={
        "csrf_token": token, "decision": "referred", "priority": "normal",
        "message": MARKER})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert _textarea(page, "message") == MARKER
    assert _checked(page, "decision") == "referred"
    assert 'id="kept-notice"' in page and 'id="scope-submit"' not in page
    case = _case(session_factory, case_id)
    assert case.status is CaseStatus.UNDER_INVESTIGATION
    assert case.scope_decision is ScopeDecision.ACCEPTED
    assert _count(session_factory, Message, case_id) == messages


def test_an_interview_without_the_interviewee_keeps_the_summary(handling,
                                                               session_factory) -> None:
    client, alice, case_id = handling
    _accept(client, alice, case_id)
    # No interviewee field at all: Werkzeug's test client encodes an empty multipart value
    # without the CRLF before the next boundary, which browsers do send.
    answer = _post(client, case_id, "evidence", {"kind": "interview", "text": MARKER},
                   page="/casework")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert _textarea(page, "text") == MARKER
    assert _checked(page, "kind") == "interview"
    assert "Say who was interviewed." in page and "form-group-error" in page
    assert _count(session_factory, EvidenceEntry, case_id) == 0


def test_an_outcome_without_grounds_keeps_the_outcome(handling, session_factory) -> None:
    client, alice, case_id = handling
    _decide(client, alice, case_id)
    messages = _count(session_factory, Message, case_id)
    answer = _post(client, case_id, "feedback", {"outcome": MARKER, "grounds": ""})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert _textarea(page, "outcome") == MARKER
    assert letter(Letter.OUTCOME, "en") not in page  # not the template again
    assert "Explain the grounds" in page
    assert _case(session_factory, case_id).status is CaseStatus.DECIDED
    assert _count(session_factory, Message, case_id) == messages


def test_a_referral_without_a_message_keeps_the_choice(handling, session_factory) -> None:
    client, _alice, case_id = handling
    answer = _post(client, case_id, "scope", {"decision": "referred", "priority": "urgent",
                                              "message": "  "})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert _checked(page, "decision") == "referred"
    assert re.search(r'<option selected value="urgent">', page)
    assert _textarea(page, "message") == ""  # not the acceptance letter again
    assert "Write the message to the reporter" in page and "form-group-error" in page
    assert _case(session_factory, case_id).status is CaseStatus.RECEIVED
    assert _count(session_factory, Message, case_id) == 0


def test_a_stale_outcome_keeps_both_texts(handling, session_factory) -> None:
    client, alice, case_id = handling
    _decide(client, alice, case_id)
    _give_feedback(client, case_id)
    token = _token(client, f"/cases/{case_id}")  # the stale tab's page
    assert _post(client, case_id, "close", {"reason": ""}).status_code == 303  # another tab
    messages = _count(session_factory, Message, case_id)
    answer = client.post(f"/cases/{case_id}/feedback", data={
        "csrf_token": token, "outcome": MARKER, "grounds": MARKER + " grounds"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert _textarea(page, "outcome") == MARKER
    assert _textarea(page, "grounds") == MARKER + " grounds"
    assert 'id="kept-notice"' in page and 'id="feedback-submit"' not in page
    assert _case(session_factory, case_id).status is CaseStatus.CLOSED
    assert _count(session_factory, Message, case_id) == messages


# 3. Following up needs an open corrective action.

def test_follow_up_is_not_offered_without_open_actions(handling, session_factory) -> None:
    client, alice, case_id = handling
    _decide(client, alice, case_id)
    _give_feedback(client, case_id)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="follow-up-form"' not in page and 'id="follow-up-nothing"' in page
    answer = _post(client, case_id, "follow-up", {})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "There are no open corrective actions to follow up" in text
    assert "not possible in the case&#39;s current stage" not in text
    assert _case(session_factory, case_id).status is CaseStatus.FEEDBACK_GIVEN


def test_follow_up_is_offered_while_an_action_is_open(handling, session_factory,
                                                      services) -> None:
    client, alice, case_id = handling
    _decide(client, alice, case_id)
    _add_action(client, alice, case_id, services)
    _give_feedback(client, case_id)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="follow-up-form"' in page and 'id="follow-up-nothing"' not in page
    assert _post(client, case_id, "follow-up", {}).status_code == 303
    assert _case(session_factory, case_id).status is CaseStatus.FOLLOW_UP


def test_follow_up_is_not_offered_once_every_action_is_done(handling, session_factory,
                                                            services) -> None:
    client, alice, case_id = handling
    _decide(client, alice, case_id)
    _add_action(client, alice, case_id, services)
    with session_factory() as s:
        action_id = s.execute(select(CorrectiveAction.id).where(
            CorrectiveAction.case_id == case_id)).scalar_one()
    assert _post(client, case_id, f"actions/{action_id}", {
        "status": "done", "note": "Replaced.", "owner": str(alice.id)},
        page="/casework").status_code == 303
    _give_feedback(client, case_id)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="follow-up-form"' not in page and 'id="follow-up-nothing"' in page
    assert _post(client, case_id, "follow-up", {}).status_code == 409


# 4. A closed case's actions.

def test_a_closed_case_shows_its_actions_as_left(handling, session_factory, services) -> None:
    client, alice, case_id = handling
    _decide(client, alice, case_id)
    _add_action(client, alice, case_id, services)
    _give_feedback(client, case_id)
    assert _post(client, case_id, "close", {"reason": "Budget next year."}).status_code == 303
    page = client.get(f"/cases/{case_id}/casework").get_data(as_text=True)
    assert "Corrective actions are assigned once the case is decided." not in page
    assert 'id="actions-closed"' in page and "Replace reader" in page
    assert 'id="action-form"' not in page


# 5. A refused form names its field.

def test_a_scope_decision_without_a_decision_says_so(handling, session_factory) -> None:
    client, _alice, case_id = handling
    answer = _post(client, case_id, "scope", {"priority": "normal", "message": MARKER})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Choose the decision." in page and "Check the form and try again." not in page
    assert _textarea(page, "message") == MARKER
    assert _case(session_factory, case_id).status is CaseStatus.RECEIVED


@pytest.mark.parametrize(("title", "due", "expected"), [
    ("", "2099-01-01", "Name the action."),
    ("Replace reader", "", "Give the due date (YYYY-MM-DD)."),
    ("Replace reader", "not-a-date", "Choose a due date from today on, within five years."),
    ("x" * 201, "2099-01-01", "name under 200 characters."),
])
def test_a_refused_action_names_its_field(handling, session_factory, title: str, due: str,
                                          expected: str) -> None:
    client, alice, case_id = handling
    _decide(client, alice, case_id)
    answer = _post(client, case_id, "actions", {
        "title": title, "notes": MARKER, "owner": str(alice.id), "due_on": due},
        page="/casework")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert expected in page and "Check the form and try again." not in page
    assert _textarea(page, "notes") == MARKER
    assert _count(session_factory, CorrectiveAction, case_id) == 0


def test_a_refused_follow_up_note_keeps_the_note(handling, session_factory,
                                                 services) -> None:
    client, alice, case_id = handling
    _decide(client, alice, case_id)
    _add_action(client, alice, case_id, services)
    with session_factory() as s:
        action_id = s.execute(select(CorrectiveAction.id).where(
            CorrectiveAction.case_id == case_id)).scalar_one()
    answer = _post(client, case_id, f"actions/{action_id}", {
        "status": "in_progress", "note": MARKER, "owner": "999999"}, page="/casework")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert _textarea(page, "note") == MARKER
    assert '<option value="in_progress" selected>' in page
    with session_factory() as s:
        assert s.get(CorrectiveAction, action_id).status.value == "open"


def test_a_refused_reopen_keeps_the_reason(handling, session_factory) -> None:
    client, alice, case_id = handling
    _decide(client, alice, case_id)
    _give_feedback(client, case_id)
    token = _token(client, f"/cases/{case_id}")  # the stale tab's page
    assert _post(client, case_id, "reopen", {"reason": "Once."}).status_code == 303
    answer = client.post(f"/cases/{case_id}/reopen", data={"csrf_token": token,
                                                           "reason": MARKER})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert _textarea(page, "reason") == MARKER and 'id="reopen-reason"' in page
    assert _case(session_factory, case_id).status is CaseStatus.UNDER_INVESTIGATION
