"""Refused handling steps in the console (outside tester): a referral or rejection cannot go
out with the acceptance letter; a refused form comes back with what the handler chose and
typed, its error beside the field, and nothing stored; "Follow up" is offered only when an
action is open and otherwise says why; a closed case's actions are described as such; a
refused form names its field."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.cases.letters import Letter, letter
from core.models import (
    CaseStatus,
    CorrectiveAction,
    EvidenceEntry,
    Message,
    ScopeDecision,
)
from tests.reviewer.handling_pages import (
    accept,
    add_action,
    checked,
    csrf_token,
    decide,
    give_feedback,
    post_step,
    rows_of_case,
    stored_case,
    textarea,
)

MARKER = "MARKER-9d41 what the handler typed"
ACCEPTANCE_REFUSED = "This is the letter for an accepted report, so it was not sent."


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
    answer = post_step(client, case_id, "scope", {"decision": decision, "priority": "normal",
                                              "message": f"\r\n{accepted}  \r\n"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert ACCEPTANCE_REFUSED in page
    assert 'form-group form-group-error' in page
    assert checked(page, "decision") == decision  # the handler's choice is kept
    assert textarea(page, "message") == letter(template, language)
    case = stored_case(session_factory, case_id)
    assert case.status is CaseStatus.RECEIVED and case.scope_decision is None
    assert rows_of_case(session_factory, Message, case_id) == 0


def test_the_acceptance_letter_goes_with_an_acceptance(handling, session_factory) -> None:
    client, alice, case_id = handling
    answer = post_step(client, case_id, "scope", {
        "decision": "accepted", "lead": str(alice.id), "priority": "normal",
        "message": letter(Letter.ACCEPTED, "en")})
    assert answer.status_code == 303
    assert stored_case(session_factory, case_id).scope_decision is ScopeDecision.ACCEPTED


def test_an_edited_letter_refers_the_report(handling, session_factory) -> None:
    client, _alice, case_id = handling
    answer = post_step(client, case_id, "scope", {
        "decision": "referred", "priority": "normal",
        "message": letter(Letter.ACCEPTED, "en") + " Please contact HR instead."})
    assert answer.status_code == 303
    assert stored_case(session_factory, case_id).status is CaseStatus.REFERRED


# 2. A refused form comes back as posted; nothing is stored.

def test_a_stale_scope_decision_keeps_what_was_typed(handling, session_factory) -> None:
    client, alice, case_id = handling
    token = csrf_token(client, f"/cases/{case_id}")  # the stale tab's page
    accept(client, alice, case_id)  # another tab
    messages = rows_of_case(session_factory, Message, case_id)
    answer = client.post(f"/cases/{case_id}/scope", data={
        "csrf_token": token, "decision": "referred", "priority": "normal",
        "message": MARKER})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert textarea(page, "message") == MARKER
    assert checked(page, "decision") == "referred"
    assert 'id="kept-notice"' in page and 'id="scope-submit"' not in page
    case = stored_case(session_factory, case_id)
    assert case.status is CaseStatus.UNDER_INVESTIGATION
    assert case.scope_decision is ScopeDecision.ACCEPTED
    assert rows_of_case(session_factory, Message, case_id) == messages


def test_an_interview_without_the_interviewee_keeps_the_summary(handling,
                                                               session_factory) -> None:
    client, alice, case_id = handling
    accept(client, alice, case_id)
    # No interviewee field at all: Werkzeug's test client encodes an empty multipart value
    # without the CRLF before the next boundary, which browsers do send.
    answer = post_step(client, case_id, "evidence", {"kind": "interview", "text": MARKER},
                   page="/casework")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert textarea(page, "text") == MARKER
    assert checked(page, "kind") == "interview"
    assert "Say who was interviewed." in page and "form-group-error" in page
    assert rows_of_case(session_factory, EvidenceEntry, case_id) == 0


def test_an_outcome_without_grounds_keeps_the_outcome(handling, session_factory) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    messages = rows_of_case(session_factory, Message, case_id)
    answer = post_step(client, case_id, "feedback", {"outcome": MARKER, "grounds": ""})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert textarea(page, "outcome") == MARKER
    assert letter(Letter.OUTCOME, "en") not in page  # not the template again
    assert "Explain the grounds" in page
    assert stored_case(session_factory, case_id).status is CaseStatus.DECIDED
    assert rows_of_case(session_factory, Message, case_id) == messages


def test_a_referral_without_a_message_keeps_the_choice(handling, session_factory) -> None:
    client, _alice, case_id = handling
    answer = post_step(client, case_id, "scope", {"decision": "referred", "priority": "urgent",
                                              "message": "  "})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert checked(page, "decision") == "referred"
    assert re.search(r'<option selected value="urgent">', page)
    assert textarea(page, "message") == ""  # not the acceptance letter again
    assert "Write the message to the reporter" in page and "form-group-error" in page
    assert stored_case(session_factory, case_id).status is CaseStatus.RECEIVED
    assert rows_of_case(session_factory, Message, case_id) == 0


def test_a_stale_outcome_keeps_both_texts(handling, session_factory) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    give_feedback(client, case_id)
    token = csrf_token(client, f"/cases/{case_id}")  # the stale tab's page
    assert post_step(client, case_id, "close", {"reason": ""}).status_code == 303  # another tab
    messages = rows_of_case(session_factory, Message, case_id)
    answer = client.post(f"/cases/{case_id}/feedback", data={
        "csrf_token": token, "outcome": MARKER, "grounds": MARKER + " grounds"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert textarea(page, "outcome") == MARKER
    assert textarea(page, "grounds") == MARKER + " grounds"
    assert 'id="kept-notice"' in page and 'id="feedback-submit"' not in page
    assert stored_case(session_factory, case_id).status is CaseStatus.CLOSED
    assert rows_of_case(session_factory, Message, case_id) == messages


# 3. Following up needs an open corrective action.

def test_follow_up_is_not_offered_without_open_actions(handling, session_factory) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    give_feedback(client, case_id)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="follow-up-form"' not in page and 'id="follow-up-nothing"' in page
    answer = post_step(client, case_id, "follow-up", {})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "There are no open corrective actions to follow up" in text
    assert "not possible in the case&#39;s current stage" not in text
    assert stored_case(session_factory, case_id).status is CaseStatus.FEEDBACK_GIVEN


def test_follow_up_is_offered_while_an_action_is_open(handling, session_factory,
                                                      services) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    add_action(client, alice, case_id, services)
    give_feedback(client, case_id)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="follow-up-form"' in page and 'id="follow-up-nothing"' not in page
    assert post_step(client, case_id, "follow-up", {}).status_code == 303
    assert stored_case(session_factory, case_id).status is CaseStatus.FOLLOW_UP


def test_follow_up_is_not_offered_once_every_action_is_done(handling, session_factory,
                                                            services) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    add_action(client, alice, case_id, services)
    with session_factory() as s:
        action_id = s.execute(select(CorrectiveAction.id).where(
            CorrectiveAction.case_id == case_id)).scalar_one()
    assert post_step(client, case_id, f"actions/{action_id}", {
        "status": "done", "note": "Replaced.", "owner": str(alice.id)},
        page="/casework").status_code == 303
    give_feedback(client, case_id)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="follow-up-form"' not in page and 'id="follow-up-nothing"' in page
    assert post_step(client, case_id, "follow-up", {}).status_code == 409


# 4. A closed case's actions.

def test_a_closed_case_shows_its_actions_as_left(handling, session_factory, services) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    add_action(client, alice, case_id, services)
    give_feedback(client, case_id)
    assert post_step(client, case_id, "close", {"reason": "Budget next year."}).status_code == 303
    page = client.get(f"/cases/{case_id}/casework").get_data(as_text=True)
    assert "Corrective actions are assigned once the case is decided." not in page
    assert 'id="actions-closed"' in page and "Replace reader" in page
    assert 'id="action-form"' not in page


# 5. A refused form names its field.

def test_a_scope_decision_without_a_decision_says_so(handling, session_factory) -> None:
    client, _alice, case_id = handling
    answer = post_step(client, case_id, "scope", {"priority": "normal", "message": MARKER})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Choose the decision." in page and "Check the form and try again." not in page
    assert textarea(page, "message") == MARKER
    assert stored_case(session_factory, case_id).status is CaseStatus.RECEIVED


@pytest.mark.parametrize(("title", "due", "expected"), [
    ("", "2099-01-01", "Name the action."),
    ("Replace reader", "", "Give the due date (YYYY-MM-DD)."),
    ("Replace reader", "not-a-date", "Choose a due date from today on, within five years."),
    ("x" * 201, "2099-01-01", "name under 200 characters."),
])
def test_a_refused_action_names_its_field(handling, session_factory, title: str, due: str,
                                          expected: str) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    answer = post_step(client, case_id, "actions", {
        "title": title, "notes": MARKER, "owner": str(alice.id), "due_on": due},
        page="/casework")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert expected in page and "Check the form and try again." not in page
    assert textarea(page, "notes") == MARKER
    assert rows_of_case(session_factory, CorrectiveAction, case_id) == 0


def test_a_refused_follow_up_note_keeps_the_note(handling, session_factory,
                                                 services) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    add_action(client, alice, case_id, services)
    with session_factory() as s:
        action_id = s.execute(select(CorrectiveAction.id).where(
            CorrectiveAction.case_id == case_id)).scalar_one()
    answer = post_step(client, case_id, f"actions/{action_id}", {
        "status": "in_progress", "note": MARKER, "owner": "999999"}, page="/casework")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert textarea(page, "note") == MARKER
    assert '<option value="in_progress" selected>' in page
    with session_factory() as s:
        assert s.get(CorrectiveAction, action_id).status.value == "open"


def test_a_refused_reopen_keeps_the_reason(handling, session_factory) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    give_feedback(client, case_id)
    token = csrf_token(client, f"/cases/{case_id}")  # the stale tab's page
    assert post_step(client, case_id, "reopen", {"reason": "Once."}).status_code == 303
    answer = client.post(f"/cases/{case_id}/reopen", data={"csrf_token": token,
                                                           "reason": MARKER})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert textarea(page, "reason") == MARKER and 'id="reopen-reason"' in page
    assert stored_case(session_factory, case_id).status is CaseStatus.UNDER_INVESTIGATION


# 6. A letter with the template's blanks still in it is not sent.

BLANKS_REFUSED = "Fill in the template&#39;s blanks before sending:"


def test_a_referral_with_its_blanks_is_refused_and_kept(handling, session_factory) -> None:
    client, _alice, case_id = handling
    template = letter(Letter.REFERRAL, "en").replace("[where]", "Procurement")
    answer = post_step(client, case_id, "scope", {"decision": "referred", "priority": "normal",
                                                  "message": template})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert f"{BLANKS_REFUSED} [why]." in page
    assert "form-group-error" in page
    assert textarea(page, "message") == template
    assert checked(page, "decision") == "referred"
    assert stored_case(session_factory, case_id).status is CaseStatus.RECEIVED
    assert rows_of_case(session_factory, Message, case_id) == 0


def test_the_prefilled_outcome_is_not_sent_as_it_is(handling, session_factory) -> None:
    client, alice, case_id = handling
    decide(client, alice, case_id)
    messages = rows_of_case(session_factory, Message, case_id)
    prefilled = f"{letter(Letter.OUTCOME, 'en')}\n\n{letter(Letter.THANKS, 'en')}"
    answer = post_step(client, case_id, "feedback", {"outcome": prefilled, "grounds": "Logs."})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert f"{BLANKS_REFUSED} [what was found and what will be done]." in page
    assert textarea(page, "outcome") == prefilled
    assert stored_case(session_factory, case_id).status is CaseStatus.DECIDED
    assert rows_of_case(session_factory, Message, case_id) == messages
