"""The stage and progress list the reporter sees, for every status a case can have."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import Case, CaseStatus, MessageKind, ScopeDecision
from core.services import Services
from portal.stages import PROGRESS, STAGES, progress_steps
from tests.portal.conftest import (
    IntakeReviewer,
    login_via,
    only_case_id,
    receipt_of,
    reply_via,
    report_fields,
    submit_report_via,
)

#: Stages reached, in order, by a case that went the usual way to each status.
REACHED = {
    CaseStatus.RECEIVED: [],
    CaseStatus.ACKNOWLEDGED: [CaseStatus.RECEIVED],
    CaseStatus.INFO_NEEDED: [CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED],
    CaseStatus.REFERRED: [CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED],
    CaseStatus.NOT_ADMISSIBLE: [CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED],
    CaseStatus.UNDER_INVESTIGATION: list(PROGRESS[:2]),
    CaseStatus.DECIDED: list(PROGRESS[:3]),
    CaseStatus.FEEDBACK_GIVEN: list(PROGRESS[:4]),
    CaseStatus.FOLLOW_UP: list(PROGRESS[:5]),
    CaseStatus.CLOSED: list(PROGRESS[:5]),
}


@pytest.mark.parametrize("status", list(CaseStatus))
def test_progress_shows_done_only_what_was_reached(status: CaseStatus) -> None:
    steps = progress_steps(status, {*REACHED[status], status})
    assert [step for step, state in steps if state == "current"] == [status]
    assert [step for step, state in steps if state == "done"] == REACHED[status]
    # Done steps come first, then the current one, then what is still to come.
    states = [state for _, state in steps]
    assert states == sorted(states, key=["done", "current", "todo"].index)
    assert len({step for step, _ in steps}) == len(steps)
    assert all(step in STAGES for step, _ in steps)


def test_stages_the_case_skipped_are_not_shown_as_done() -> None:
    """The console can send the outcome straight after acknowledging: the reporter's list
    must not claim an investigation and a decision that never happened (issue 11)."""
    skipped = {CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED, CaseStatus.FEEDBACK_GIVEN}
    assert progress_steps(CaseStatus.FEEDBACK_GIVEN, skipped) == [
        (CaseStatus.RECEIVED, "done"), (CaseStatus.ACKNOWLEDGED, "done"),
        (CaseStatus.FEEDBACK_GIVEN, "current"), (CaseStatus.CLOSED, "todo")]
    # A question after the outcome: the outcome stays done, nothing skipped appears.
    asked = {*skipped, CaseStatus.INFO_NEEDED}
    assert progress_steps(CaseStatus.INFO_NEEDED, asked) == [
        (CaseStatus.RECEIVED, "done"), (CaseStatus.ACKNOWLEDGED, "done"),
        (CaseStatus.FEEDBACK_GIVEN, "done"), (CaseStatus.INFO_NEEDED, "current"),
        (CaseStatus.CLOSED, "todo")]


def test_a_question_on_a_received_case_counts_it_acknowledged() -> None:
    """Leaving "received" acknowledges the report, even straight to a question."""
    assert progress_steps(CaseStatus.INFO_NEEDED, {CaseStatus.RECEIVED})[:3] == [
        (CaseStatus.RECEIVED, "done"), (CaseStatus.ACKNOWLEDGED, "done"),
        (CaseStatus.INFO_NEEDED, "current")]


def test_off_path_stages_keep_later_steps_to_come() -> None:
    assert progress_steps(CaseStatus.INFO_NEEDED)[-1] == (CaseStatus.CLOSED, "todo")
    assert progress_steps(CaseStatus.REFERRED) == [
        (CaseStatus.RECEIVED, "done"), (CaseStatus.ACKNOWLEDGED, "done"),
        (CaseStatus.REFERRED, "current"), (CaseStatus.CLOSED, "todo")]
    assert progress_steps(CaseStatus.FOLLOW_UP)[-2:] == [
        (CaseStatus.FOLLOW_UP, "current"), (CaseStatus.CLOSED, "todo")]


def test_a_closed_case_ends_as_its_scope_decision() -> None:
    """A report referred, reopened, then found not admissible and closed has passed both
    detours: its scope decision says how it ended. An accepted one shows the usual path."""
    both = {CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED, CaseStatus.REFERRED,
            CaseStatus.NOT_ADMISSIBLE, CaseStatus.CLOSED}
    assert progress_steps(CaseStatus.CLOSED, both, ScopeDecision.NOT_ADMISSIBLE) == [
        (CaseStatus.RECEIVED, "done"), (CaseStatus.ACKNOWLEDGED, "done"),
        (CaseStatus.NOT_ADMISSIBLE, "done"), (CaseStatus.CLOSED, "current")]
    assert progress_steps(CaseStatus.CLOSED, both, ScopeDecision.REFERRED)[2] == (
        CaseStatus.REFERRED, "done")
    # Referred, reopened, then accepted: the usual path, the referral not shown.
    accepted = {*both, *PROGRESS}
    assert progress_steps(CaseStatus.CLOSED, accepted, ScopeDecision.ACCEPTED) == [
        *[(step, "done") for step in PROGRESS[:-1]], (CaseStatus.CLOSED, "current")]
    # Not closed yet: the scope decision changes nothing.
    assert progress_steps(CaseStatus.REFERRED, both - {CaseStatus.CLOSED},
                          ScopeDecision.REFERRED) == progress_steps(CaseStatus.REFERRED)


def _progress(html: str) -> list[tuple[str, str]]:
    """(class, stage name) of each item of the page's progress list."""
    listing = html.split('<ol class="progress"')[1].split("</ol>")[0]
    return re.findall(r'<li class="([^"]+)"[^>]*>([^<]+?) <span', listing)


def test_question_and_answer_on_the_case_page(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
    intake_reviewer: IntakeReviewer,
) -> None:
    from core.cases.casework import UnlockedReviewer, post_reviewer_message

    receipt = receipt_of(submit_report_via(client, report_fields()).text)
    login_via(client, receipt)
    who = UnlockedReviewer(intake_reviewer.id, intake_reviewer.private_key)
    with transaction(session_factory) as s:
        post_reviewer_message(s, services, who, only_case_id(session_factory),
                              MessageKind.CLARIFICATION_REQUEST, "Which printer?")
    page = client.get("/case").text
    assert 'id="stage-name">Waiting for your information<' in page
    assert "Please answer it below." in page
    assert _progress(page) == [
        ("done", "Received"), ("done", "Acknowledged"),
        ("done current", "Waiting for your information"), ("todo", "Under investigation"),
        ("todo", "Decided"), ("todo", "Outcome sent"), ("todo", "Closed")]
    assert 'aria-current="step"' in page and "(still to come)" in page

    assert reply_via(client, "The one on floor 3.").status_code == 303
    page = client.get("/case").text
    assert "Please answer it below." not in page
    assert "Thank you for your answer." in page
    # The answer returns the case to where it was before the question.
    assert 'id="stage-name">Acknowledged<' in page
    assert ("done current", "Acknowledged") in _progress(page)


def test_an_outcome_shows_the_stages_the_case_passed(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
    intake_reviewer: IntakeReviewer,
) -> None:
    """Issue 11: only stages the case really passed are done. An outcome now follows an
    investigation and a decision (core.cases.transitions), and both show as done."""
    from core.cases.casework import UnlockedReviewer, send_message
    from tests.core.factories import walk_to

    receipt = receipt_of(submit_report_via(client, report_fields()).text)
    login_via(client, receipt)
    who = UnlockedReviewer(intake_reviewer.id, intake_reviewer.private_key)
    case_id = only_case_id(session_factory)
    with transaction(session_factory) as s:
        walk_to(s, services, who.actor, s.get(Case, case_id), CaseStatus.DECIDED)
        send_message(s, services, who, case_id, MessageKind.FEEDBACK, "…")
    assert _progress(client.get("/case").text) == [
        ("done", "Received"), ("done", "Acknowledged"), ("done", "Under investigation"),
        ("done", "Decided"), ("done current", "Outcome sent"), ("todo", "Closed")]


@pytest.mark.parametrize(("ending", "label"), [(CaseStatus.REFERRED, "Referred elsewhere"),
                                               (CaseStatus.NOT_ADMISSIBLE, "Not admissible")])
def test_a_referred_or_rejected_case_shows_its_own_ending(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
    intake_reviewer: IntakeReviewer,
    ending: CaseStatus,
    label: str,
) -> None:
    from core.audit.log import Actor
    from tests.core.factories import walk_to

    receipt = receipt_of(submit_report_via(client, report_fields()).text)
    login_via(client, receipt)
    case_id = only_case_id(session_factory)
    with transaction(session_factory) as s:
        walk_to(s, services, Actor.system(), s.get(Case, case_id), ending)
    assert _progress(client.get("/case").text) == [
        ("done", "Received"), ("done", "Acknowledged"), ("done current", label),
        ("todo", "Closed")]
    with transaction(session_factory) as s:
        walk_to(s, services, Actor.system(), s.get(Case, case_id), CaseStatus.CLOSED)
    assert _progress(client.get("/case").text) == [
        ("done", "Received"), ("done", "Acknowledged"), ("done", label),
        ("done current", "Closed")]


def test_a_case_referred_then_rejected_shows_the_last_decision(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
    intake_reviewer: IntakeReviewer,
) -> None:
    """Referred, reopened to the scope decision, found not admissible, closed: the page
    shows "Not admissible" (the case's scope decision), not the earlier referral."""
    from core.audit.log import Actor
    from tests.core.factories import walk_to

    receipt = receipt_of(submit_report_via(client, report_fields()).text)
    login_via(client, receipt)
    case_id = only_case_id(session_factory)
    with transaction(session_factory) as s:
        case = s.get(Case, case_id)
        for step in (CaseStatus.REFERRED, CaseStatus.ACKNOWLEDGED, CaseStatus.NOT_ADMISSIBLE,
                     CaseStatus.CLOSED):
            walk_to(s, services, Actor.system(), case, step)
        # Set by the console's scope decision (core.cases.workflow.decide_scope).
        case.scope_decision = ScopeDecision.NOT_ADMISSIBLE
    assert _progress(client.get("/case").text) == [
        ("done", "Received"), ("done", "Acknowledged"), ("done", "Not admissible"),
        ("done current", "Closed")]


def test_progress_in_chinese(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services
) -> None:
    receipt = receipt_of(submit_report_via(client, report_fields()).text)
    login_via(client, receipt)
    page = client.get("/case", headers={"Accept-Language": "zh-CN"}).text
    assert "（当前阶段）" in page and "（尚未进行）" in page


def test_deadlines_on_the_pages_follow_the_configuration(
    make_portal, services: Services
) -> None:
    from datetime import UTC, datetime

    services.clock.now = lambda: datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)
    client = make_portal(acknowledge_days=5, feedback_months=1).test_client()
    receipt = submit_report_via(client, report_fields())
    assert "within 5 days and may ask you questions" in receipt.text
    assert "within 1 month of acknowledgement" in receipt.text
    login_via(client, receipt_of(receipt.text))
    assert "will acknowledge it by 2026-12-03." in client.get("/case").text
    page = client.get("/case", headers={"Accept-Language": "zh-CN"}).text
    assert "会在 2026-12-03 之前向您确认收到" in page
