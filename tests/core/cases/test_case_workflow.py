"""core.cases.workflow, one use case at a time: each moves the case as the process says,
writes its audit events, keeps the inbox counters exact, and a refused step writes nothing
(the whole cycle in one walk: test_workflow.py; actions and evidence:
test_corrective_actions.py, test_evidence_log.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.cases import workflow
from core.cases.actions import add_action
from core.cases.casework import StageRefused, send_message
from core.cases.casework_reading import read_casework
from core.cases.transitions import IllegalTransition
from core.db import transaction
from core.errors import AccessDenied, InvalidInput
from core.models import (
    ActionStatus,
    AuditEvent,
    Case,
    CaseMember,
    CasePriority,
    CaseStatus,
    CorrectiveAction,
    Decision,
    Finding,
    MemberRole,
    Message,
    MessageKind,
    RootCause,
    ScopeDecision,
)
from tests.core.factories import (
    assert_counters_exact,
    audit_actions,
    detached_case,
    handlers_and_case,
)

NOTE = "EVIDENCE-NOTE-CANARY printer logs"


@pytest.fixture
def team(session_factory, services):
    alice, bob, result = handlers_and_case(session_factory, services)
    return alice, bob, result.case_id


def _accepted(session_factory, services, team) -> None:
    alice, bob, case_id = team
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=bob.id, priority=CasePriority.URGENT)


DECISION = workflow.DecisionInput(finding=Finding.PARTLY_SUBSTANTIATED,
                                  root_cause=RootCause.PROCESS_GAP, reasons="Because.")


def test_acknowledge_once(session_factory, services, team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s:
        workflow.acknowledge(s, services, alice.unlocked, case_id, "Received.")
    assert detached_case(session_factory, case_id).status is CaseStatus.ACKNOWLEDGED
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        workflow.acknowledge(s, services, alice.unlocked, case_id, "Again.")
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1


def test_acceptance_names_the_lead_and_the_priority(session_factory, services, team) -> None:
    alice, bob, case_id = team
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED)
    assert detached_case(session_factory, case_id).status is CaseStatus.RECEIVED
    _accepted(session_factory, services, team)
    case = detached_case(session_factory, case_id)
    assert (case.status, case.scope_decision, case.priority) == (
        CaseStatus.UNDER_INVESTIGATION, ScopeDecision.ACCEPTED, CasePriority.URGENT)
    assert case.acknowledged_on is not None  # accepting acknowledges
    with session_factory() as s:
        assert s.get(CaseMember, (case_id, bob.id)).role is MemberRole.LEAD
        assert s.get(CaseMember, (case_id, alice.id)).priority is CasePriority.URGENT
    assert_counters_exact(session_factory)
    actions = audit_actions(session_factory)
    assert actions.index("case:scope") < actions.index("case:lead") < actions.index(
        "case:priority")


def test_referral_needs_a_message_and_reaches_the_reporter(session_factory, services,
                                                           team) -> None:
    alice, _bob, case_id = team
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.REFERRED)
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.REFERRED,
                              message="Please ask HR.")
    case = detached_case(session_factory, case_id)
    assert (case.status, case.scope_decision) == (CaseStatus.REFERRED, ScopeDecision.REFERRED)
    with session_factory() as s:
        kinds = s.execute(select(Message.kind)).scalars().all()
    assert kinds == [MessageKind.INFORMATION]
    # A referred case cannot be accepted without being reopened first.
    with transaction(session_factory) as s, pytest.raises(IllegalTransition):
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=alice.id)


def test_the_lead_hands_over_and_members_get_roles(session_factory, services, team) -> None:
    alice, bob, case_id = team
    _accepted(session_factory, services, team)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.hand_over_lead(s, services, alice.unlocked, case_id, alice.id)
    with transaction(session_factory) as s:
        workflow.set_member_role(s, services, bob.unlocked, case_id, alice.id,
                                 MemberRole.TECHNICAL)
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.set_member_role(s, services, alice.unlocked, case_id, bob.id, MemberRole.HR)
    with transaction(session_factory) as s:
        workflow.hand_over_lead(s, services, bob.unlocked, case_id, alice.id)
    with session_factory() as s:
        roles = {m.reviewer_id: m.role for m in s.execute(select(CaseMember)).scalars()}
    assert roles == {alice.id: MemberRole.LEAD, bob.id: MemberRole.INVESTIGATOR}
    assert_counters_exact(session_factory)


def test_the_decision_is_versioned_and_only_the_lead_decides(session_factory, services,
                                                             team) -> None:
    alice, bob, case_id = team
    with transaction(session_factory) as s, pytest.raises(IllegalTransition):
        workflow.record_decision(s, services, alice.unlocked, case_id, DECISION)
    _accepted(session_factory, services, team)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.record_decision(s, services, alice.unlocked, case_id, DECISION)
    with transaction(session_factory) as s:
        workflow.record_decision(s, services, bob.unlocked, case_id, DECISION)
        workflow.record_decision(s, services, bob.unlocked, case_id, workflow.DecisionInput(
            finding=Finding.SUBSTANTIATED, root_cause=None, reasons="New facts."))
    with session_factory() as s:
        versions = s.execute(select(Decision.version, Decision.finding)
                             .order_by(Decision.version)).all()
        assert versions == [(1, Finding.PARTLY_SUBSTANTIATED), (2, Finding.SUBSTANTIATED)]
        record = read_casework(s, services, bob.unlocked, case_id)
        assert record.decision is not None and record.decision.version == 2
        assert record.decisions[0].content.text("reasons") == "Because."
    assert detached_case(session_factory, case_id).status is CaseStatus.DECIDED


def _decided(session_factory, services, team) -> None:
    _accepted(session_factory, services, team)
    _alice, bob, case_id = team
    with transaction(session_factory) as s:
        workflow.record_decision(s, services, bob.unlocked, case_id, DECISION)


def test_outcome_follow_up_close_and_reopen(session_factory, services, team) -> None:
    alice, bob, case_id = team
    _decided(session_factory, services, team)
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.give_feedback(s, services, bob.unlocked, case_id, "Fixed.", " ",
                               grounds_heading="Grounds:")
    with transaction(session_factory) as s:
        action = add_action(s, services, bob.unlocked, case_id, title="Patch", notes="",
                            owner_id=alice.id,
                            due_on=services.clock.today() + timedelta(days=5))
        action_id = action.id
        workflow.give_feedback(s, services, bob.unlocked, case_id, "Fixed.", "Logs.",
                               grounds_heading="Grounds:")
        workflow.start_follow_up(s, services, bob.unlocked, case_id)
    assert detached_case(session_factory, case_id).status is CaseStatus.FOLLOW_UP
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.close_case(s, services, bob.unlocked, case_id)  # an action is open
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.close_case(s, services, alice.unlocked, case_id, "Not the lead.")
    with transaction(session_factory) as s:
        workflow.close_case(s, services, bob.unlocked, case_id, "Patched elsewhere.")
    case = detached_case(session_factory, case_id)
    assert case.status is CaseStatus.CLOSED and case.closed_on == services.clock.today()
    with transaction(session_factory) as s:
        assert workflow.reopen_case(s, services, bob.unlocked, case_id,
                                    "It broke again.") is CaseStatus.UNDER_INVESTIGATION
    case = detached_case(session_factory, case_id)
    assert case.status is CaseStatus.UNDER_INVESTIGATION and case.closed_on is None
    with session_factory() as s:
        assert s.get(CorrectiveAction, action_id).status is ActionStatus.OPEN
        detail = json.loads(s.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "case:status").order_by(AuditEvent.position.desc())
            .offset(1).limit(1)).scalar_one())
        assert detail == {"from": "follow_up", "to": "closed", "open_actions": 1}
    assert_counters_exact(session_factory)


def test_a_review_is_answered_or_the_case_reopened(session_factory, services, team) -> None:
    _alice, bob, case_id = team
    _decided(session_factory, services, team)
    with transaction(session_factory) as s:
        workflow.give_feedback(s, services, bob.unlocked, case_id, "Done.", "Logs.",
                               grounds_heading="Grounds:")
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        workflow.answer_review(s, services, bob.unlocked, case_id, "No review was asked.")
    with transaction(session_factory) as s:
        s.execute(update(Case).where(Case.id == case_id).values(review_requested=True))
    with transaction(session_factory) as s:
        workflow.answer_review(s, services, bob.unlocked, case_id, "We checked again.")
    assert not detached_case(session_factory, case_id).review_requested
    with session_factory() as s:
        assert not s.get(CaseMember, (case_id, bob.id)).review_requested


def test_an_illegal_step_writes_nothing(session_factory, services, team) -> None:
    alice, _bob, case_id = team
    before = audit_actions(session_factory)
    with transaction(session_factory) as s, pytest.raises(IllegalTransition):
        workflow.record_decision(s, services, alice.unlocked, case_id, DECISION)
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        send_message(s, services, alice.unlocked, case_id, MessageKind.FEEDBACK, "Too soon.")
    with transaction(session_factory) as s, pytest.raises(IllegalTransition):
        workflow.close_case(s, services, alice.unlocked, case_id)
    assert audit_actions(session_factory) == before
    assert detached_case(session_factory, case_id).status is CaseStatus.RECEIVED


def test_follow_up_needs_an_open_action(session_factory, services, team) -> None:
    _alice, bob, case_id = team
    _decided(session_factory, services, team)
    with transaction(session_factory) as s:
        workflow.give_feedback(s, services, bob.unlocked, case_id, "Done.", "Logs.",
                               grounds_heading="Grounds:")
    before = audit_actions(session_factory)
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        workflow.start_follow_up(s, services, bob.unlocked, case_id)
    assert audit_actions(session_factory) == before
    assert detached_case(session_factory, case_id).status is CaseStatus.FEEDBACK_GIVEN
