"""core.cases.workflow: the scope decision. Referral and not-admissible need a message and
close; acceptance needs a lead from the team; no scope decision after the outcome, after
closing or during the investigation (reopening is the way back). Each refusal writes nothing."""

from __future__ import annotations

import pytest

from core.cases import workflow
from core.cases.transitions import IllegalTransition
from core.db import transaction
from core.errors import Conflict, InvalidInput
from core.intake.reporter import login_submitter, read_case_for_submitter
from core.models import Case, CasePriority, CaseStatus, MemberRole, MessageKind, ScopeDecision
from tests.core.cases.workflow_steps import (
    accepted,
    member_roles,
    message_kinds,
    snapshot,
    stage_changes,
)
from tests.core.factories import (
    add_reviewer,
    assert_counters_exact,
    detached_case,
    handlers_and_case,
    walk_to,
)


@pytest.fixture
def team(session_factory, services):
    """alice: intake handler of the category; bob: granted by alice; one received case."""
    return handlers_and_case(session_factory, services)


@pytest.mark.parametrize(("decision", "stage"), [
    (ScopeDecision.REFERRED, CaseStatus.REFERRED),
    (ScopeDecision.NOT_ADMISSIBLE, CaseStatus.NOT_ADMISSIBLE),
])
def test_referred_or_not_admissible_needs_a_message_then_closes(
        session_factory, services, team, decision, stage) -> None:
    alice, bob, result = team
    case_id = result.case_id
    before = snapshot(session_factory, case_id)
    for message in ("", "  \n "):
        with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
            workflow.decide_scope(s, services, alice.unlocked, case_id, decision,
                                  message=message)
        assert refused.value.field == "message"
    assert snapshot(session_factory, case_id) == before

    text = f"TELL-REPORTER {decision}: please contact the works council."
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, decision, message=text)
    case = detached_case(session_factory, case_id)
    assert (case.status, case.scope_decision) == (stage, decision)
    assert case.acknowledged_on == services.clock.today()  # deciding acknowledges
    assert member_roles(session_factory, case_id) == {alice.id: MemberRole.INTAKE,
                                                bob.id: MemberRole.INVESTIGATOR}
    assert stage_changes(session_factory, case_id) == [
        ("received", "acknowledged"), ("acknowledged", str(stage))]
    with transaction(session_factory) as s:
        mine = read_case_for_submitter(s, services, login_submitter(s, services,
                                                                    result.receipt_code))
    assert [(m.kind, m.body) for m in mine.messages] == [(MessageKind.INFORMATION, text)]
    assert_counters_exact(session_factory)

    # Nobody leads: any member may close it (no reason needed: no actions).
    with transaction(session_factory) as s:
        workflow.close_case(s, services, bob.unlocked, case_id)
    case = detached_case(session_factory, case_id)
    assert case.status is CaseStatus.CLOSED and case.closed_on == services.clock.today()
    assert message_kinds(session_factory, case_id) == [MessageKind.INFORMATION]  # no note
    assert_counters_exact(session_factory)

    # Reopened: back to the scope decision, which is cleared.
    with transaction(session_factory) as s:
        assert workflow.reopen_case(s, services, alice.unlocked, case_id,
                                    "New facts.") is CaseStatus.ACKNOWLEDGED
    case = detached_case(session_factory, case_id)
    assert (case.status, case.scope_decision, case.closed_on) == (
        CaseStatus.ACKNOWLEDGED, None, None)
    assert_counters_exact(session_factory)


def test_a_referred_case_is_not_accepted_without_reopening(session_factory, services,
                                                          team) -> None:
    alice, bob, result = team
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, result.case_id,
                              ScopeDecision.REFERRED, message="Ask HR.")
    before = snapshot(session_factory, result.case_id)
    with transaction(session_factory) as s, pytest.raises(IllegalTransition):
        workflow.decide_scope(s, services, alice.unlocked, result.case_id,
                              ScopeDecision.ACCEPTED, lead_id=bob.id,
                              message="Accepted after all.")
    assert snapshot(session_factory, result.case_id) == before


@pytest.mark.parametrize("stage", [CaseStatus.FEEDBACK_GIVEN, CaseStatus.FOLLOW_UP,
                                   CaseStatus.CLOSED, CaseStatus.INFO_NEEDED])
def test_a_decided_case_is_not_accepted_again_without_reopening(
        session_factory, services, team, stage: CaseStatus) -> None:
    """After the outcome, after closing, or while waiting for information asked during the
    investigation, the table would let the case go under investigation (for reopening):
    a scope decision must not take that way round the lead and the reason."""
    alice, bob, result = team
    case_id = accepted(session_factory, services, team)
    with transaction(session_factory) as s:
        case = s.get(Case, case_id)
        walk_to(s, services, alice.unlocked.actor, case, CaseStatus.FEEDBACK_GIVEN
                if stage is not CaseStatus.INFO_NEEDED else CaseStatus.UNDER_INVESTIGATION)
        walk_to(s, services, alice.unlocked.actor, case, stage)
    before = snapshot(session_factory, case_id)
    for decision, message in ((ScopeDecision.ACCEPTED, "Accepted after all."),
                              (ScopeDecision.REFERRED, "Ask HR."),
                              (ScopeDecision.NOT_ADMISSIBLE, "Not for us.")):
        with transaction(session_factory) as s, pytest.raises(Conflict) as refused:
            workflow.decide_scope(s, services, alice.unlocked, case_id, decision,
                                  lead_id=bob.id, message=message)
        assert str(stage) in str(refused.value)
    assert snapshot(session_factory, case_id) == before
    assert detached_case(session_factory, case_id).status is stage


def test_acceptance_needs_a_lead_from_the_team(session_factory, services, team) -> None:
    alice, _bob, result = team
    outsider = add_reviewer(session_factory, services, "olga")
    before = snapshot(session_factory, result.case_id)
    for lead_id in (None, outsider.id):
        with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
            workflow.decide_scope(s, services, alice.unlocked, result.case_id,
                                  ScopeDecision.ACCEPTED, lead_id=lead_id,
                                  priority=CasePriority.HIGH, message="Accepted.")
        assert refused.value.field in ("lead", "reviewer")
    assert snapshot(session_factory, result.case_id) == before
    assert detached_case(session_factory, result.case_id).status is CaseStatus.RECEIVED
