"""core.cases.workflow: one case walked through the whole cycle by two handlers, and the
refusals after the scope decision (each writes nothing). The inbox counters stay exact after
every step. The scope decision itself: test_workflow_scope.py."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.cases import workflow
from core.cases.actions import add_action
from core.cases.casework import StageRefused, read_case_for_reviewer
from core.cases.transitions import IllegalTransition
from core.db import transaction
from core.errors import AccessDenied, InvalidInput
from core.intake.reporter import login_submitter, read_case_for_submitter
from core.models import (
    AuditEvent,
    Case,
    CaseMember,
    CasePriority,
    CaseStatus,
    Decision,
    Finding,
    MemberRole,
    MessageKind,
    RootCause,
    SanctionType,
    ScopeDecision,
)
from tests.core.cases.workflow_steps import (
    accepted,
    member_roles,
    message_kinds,
    snapshot,
    stage_changes,
)
from tests.core.factories import (
    assert_counters_exact,
    audit_actions,
    audit_size,
    detached_case,
    handlers_and_case,
    walk_to,
)

FIRST = workflow.DecisionInput(
    finding=Finding.PARTLY_SUBSTANTIATED, root_cause=RootCause.PROCESS_GAP,
    reasons="FIRST-REASONS the log shows two jams", responsibility="Facilities",
    sanctions=(SanctionType.WARNING,))
AMENDED = workflow.DecisionInput(
    finding=Finding.SUBSTANTIATED, root_cause=RootCause.TECHNICAL_DEFECT,
    reasons="AMENDED-REASONS the vendor confirmed the defect")
OUTCOME = "OUTCOME-TEXT the printer was replaced"
GROUNDS = "GROUNDS-TEXT the service log and the vendor's report"


@pytest.fixture
def team(session_factory, services):
    """alice: intake handler of the category; bob: granted by alice; one received case."""
    return handlers_and_case(session_factory, services)


def test_the_whole_cycle_with_two_handlers(session_factory, services, team) -> None:
    alice, bob, result = team
    case_id = result.case_id
    today = services.clock.today()
    start = len(audit_actions(session_factory))
    assert_counters_exact(session_factory)

    # Acknowledgement: a message to the reporter; only once.
    with transaction(session_factory) as s:
        workflow.acknowledge(s, services, alice.unlocked, case_id, "We received your report.")
    case = detached_case(session_factory, case_id)
    assert case.status is CaseStatus.ACKNOWLEDGED and case.acknowledged_on == today
    assert message_kinds(session_factory, case_id) == [MessageKind.INFORMATION]
    assert_counters_exact(session_factory)
    before = snapshot(session_factory, case_id)
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        workflow.acknowledge(s, services, bob.unlocked, case_id, "Again.")
    assert snapshot(session_factory, case_id) == before

    # Acceptance with bob leading, urgent.
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=bob.id, priority=CasePriority.URGENT)
    case = detached_case(session_factory, case_id)
    assert (case.status, case.scope_decision, case.priority) == (
        CaseStatus.UNDER_INVESTIGATION, ScopeDecision.ACCEPTED, CasePriority.URGENT)
    assert member_roles(session_factory, case_id) == {alice.id: MemberRole.INTAKE,
                                                bob.id: MemberRole.LEAD}
    with session_factory() as s:
        copies = s.execute(select(CaseMember.priority, CaseMember.status).where(
            CaseMember.case_id == case_id)).all()
    assert copies == [(CasePriority.URGENT, CaseStatus.UNDER_INVESTIGATION)] * 2
    assert message_kinds(session_factory, case_id) == [MessageKind.INFORMATION]  # no text: none
    assert_counters_exact(session_factory)

    # Roles: alice technical, then the lead handed over to her.
    with transaction(session_factory) as s:
        workflow.set_member_role(s, services, bob.unlocked, case_id, alice.id,
                                 MemberRole.TECHNICAL)
    assert member_roles(session_factory, case_id)[alice.id] is MemberRole.TECHNICAL
    assert_counters_exact(session_factory)
    with transaction(session_factory) as s:
        workflow.hand_over_lead(s, services, bob.unlocked, case_id, alice.id)
    assert member_roles(session_factory, case_id) == {alice.id: MemberRole.LEAD,
                                                bob.id: MemberRole.INVESTIGATOR}
    assert_counters_exact(session_factory)

    # The decision, then an amendment: a second version, the first one kept.
    with transaction(session_factory) as s:
        first = workflow.record_decision(s, services, alice.unlocked, case_id, FIRST)
        assert first.version == 1
    assert detached_case(session_factory, case_id).status is CaseStatus.DECIDED
    assert_counters_exact(session_factory)
    with transaction(session_factory) as s:
        second = workflow.record_decision(s, services, alice.unlocked, case_id, AMENDED)
        assert second.version == 2
    assert detached_case(session_factory, case_id).status is CaseStatus.DECIDED
    with session_factory() as s:
        versions = s.execute(select(Decision.version, Decision.finding, Decision.root_cause,
                                    Decision.sanction_types)
                             .where(Decision.case_id == case_id)
                             .order_by(Decision.version)).all()
        latest = workflow.latest_decision(s, case_id)
        assert latest is not None and latest.version == 2
    assert versions == [(1, Finding.PARTLY_SUBSTANTIATED, RootCause.PROCESS_GAP, "warning"),
                        (2, Finding.SUBSTANTIATED, RootCause.TECHNICAL_DEFECT, "")]

    # The outcome with its grounds.
    with transaction(session_factory) as s:
        workflow.give_feedback(s, services, alice.unlocked, case_id, OUTCOME, GROUNDS,
                               grounds_heading="Grounds:")
    case = detached_case(session_factory, case_id)
    assert case.status is CaseStatus.FEEDBACK_GIVEN and case.feedback_given_on == today
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, bob.unlocked, case_id)
    feedback = [m for m in view.messages if m.kind is MessageKind.FEEDBACK]
    assert len(feedback) == 1 and not feedback[0].tampered
    assert OUTCOME in feedback[0].body and GROUNDS in feedback[0].body
    assert feedback[0].body.index(OUTCOME) < feedback[0].body.index("Grounds:") < (
        feedback[0].body.index(GROUNDS))
    with transaction(session_factory) as s:  # and the reporter reads it
        mine = read_case_for_submitter(s, services, login_submitter(s, services,
                                                                    result.receipt_code))
    assert any(OUTCOME in m.body and GROUNDS in m.body for m in mine.messages
               if m.kind is MessageKind.FEEDBACK)
    assert_counters_exact(session_factory)

    # A corrective action, followed up.
    with transaction(session_factory) as s:
        add_action(s, services, alice.unlocked, case_id, title="Replace the fuser", notes="",
                   owner_id=bob.id, due_on=today + timedelta(days=10))
        workflow.start_follow_up(s, services, alice.unlocked, case_id)
    assert detached_case(session_factory, case_id).status is CaseStatus.FOLLOW_UP
    assert_counters_exact(session_factory)

    # Closing with the action still open needs a reason; a refusal changes nothing.
    before = snapshot(session_factory, case_id)
    for reason in ("", "   "):
        with transaction(session_factory) as s, pytest.raises(InvalidInput) as refused:
            workflow.close_case(s, services, alice.unlocked, case_id, reason)
        assert refused.value.field == "reason"
    assert snapshot(session_factory, case_id) == before
    with transaction(session_factory) as s:
        workflow.close_case(s, services, alice.unlocked, case_id, "The vendor follows it up.")
    case = detached_case(session_factory, case_id)
    assert case.status is CaseStatus.CLOSED and case.closed_on == today
    assert_counters_exact(session_factory)

    # Reopened: back under investigation (an accepted case).
    with transaction(session_factory) as s:
        target = workflow.reopen_case(s, services, alice.unlocked, case_id, "It jams again.")
    assert target is CaseStatus.UNDER_INVESTIGATION
    case = detached_case(session_factory, case_id)
    assert case.status is CaseStatus.UNDER_INVESTIGATION and case.closed_on is None
    assert case.scope_decision is ScopeDecision.ACCEPTED
    assert_counters_exact(session_factory)

    # The reasons for closing and reopening are team-only notes.
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, bob.unlocked, case_id)
    notes = [m.body for m in view.messages if m.kind is MessageKind.INTERNAL_NOTE]
    assert notes == ["[closed] The vendor follows it up.", "[reopened] It jams again."]

    assert stage_changes(session_factory, case_id) == [
        ("received", "acknowledged"), ("acknowledged", "under_investigation"),
        ("under_investigation", "decided"), ("decided", "feedback_given"),
        ("feedback_given", "follow_up"), ("follow_up", "closed"),
        ("closed", "under_investigation")]
    logged = [a for a in audit_actions(session_factory)[start:]
              if a not in ("case:report:decrypt", "case:submitter:open")]
    assert logged == [
        "case:message:reviewer", "case:status",  # acknowledge
        "case:scope", "case:lead", "case:priority", "case:status",  # accept
        "case:member:role",
        "case:lead",  # handed over
        "case:decision", "case:status",
        "case:decision",  # amended: no stage change
        "case:message:reviewer", "case:status",  # outcome
        "case:action:add", "case:status",  # follow-up
        "case:message:reviewer", "case:status",  # the closing note, closed
        "case:message:reviewer", "case:status", "case:reopen",
    ]


def test_no_decision_before_the_investigation(session_factory, services, team) -> None:
    alice, _bob, result = team
    with transaction(session_factory) as s:
        workflow.acknowledge(s, services, alice.unlocked, result.case_id, "Received.")
    before = snapshot(session_factory, result.case_id)
    with transaction(session_factory) as s, pytest.raises(IllegalTransition) as refused:
        workflow.record_decision(s, services, alice.unlocked, result.case_id, FIRST)
    assert "acknowledged" in str(refused.value) and "decided" in str(refused.value)
    assert snapshot(session_factory, result.case_id) == before
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Decision)) == 0


def test_only_the_lead_decides_once_there_is_one(session_factory, services, team) -> None:
    alice, bob, _result = team
    case_id = accepted(session_factory, services, team)
    before = snapshot(session_factory, case_id)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.record_decision(s, services, alice.unlocked, case_id, FIRST)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.hand_over_lead(s, services, alice.unlocked, case_id, alice.id)
    assert snapshot(session_factory, case_id) == before
    with transaction(session_factory) as s:
        workflow.record_decision(s, services, bob.unlocked, case_id, FIRST)
    assert detached_case(session_factory, case_id).status is CaseStatus.DECIDED
    with transaction(session_factory) as s:
        workflow.give_feedback(s, services, bob.unlocked, case_id, OUTCOME, GROUNDS,
                               grounds_heading="Grounds:")
    before = snapshot(session_factory, case_id)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.record_decision(s, services, alice.unlocked, case_id, AMENDED)  # amending
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.close_case(s, services, alice.unlocked, case_id)
    assert snapshot(session_factory, case_id) == before
    with transaction(session_factory) as s:
        workflow.close_case(s, services, bob.unlocked, case_id)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.reopen_case(s, services, alice.unlocked, case_id, "Not mine to reopen.")
    assert detached_case(session_factory, case_id).status is CaseStatus.CLOSED


def test_the_lead_role_is_handed_over_not_set(session_factory, services, team) -> None:
    alice, bob, _result = team
    case_id = accepted(session_factory, services, team)
    before = snapshot(session_factory, case_id)
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.set_member_role(s, services, bob.unlocked, case_id, alice.id, MemberRole.LEAD)
    with transaction(session_factory) as s, pytest.raises(InvalidInput):  # the lead himself
        workflow.set_member_role(s, services, alice.unlocked, case_id, bob.id, MemberRole.HR)
    assert snapshot(session_factory, case_id) == before
    # Setting the same role twice records it once.
    with transaction(session_factory) as s:
        workflow.set_member_role(s, services, alice.unlocked, case_id, alice.id,
                                 MemberRole.LEGAL)
    size = audit_size(session_factory)
    with transaction(session_factory) as s:
        workflow.set_member_role(s, services, alice.unlocked, case_id, alice.id,
                                 MemberRole.LEGAL)
    assert audit_size(session_factory) == size
    assert_counters_exact(session_factory)


def test_the_priority_changes_are_audited_and_copied(session_factory, services, team) -> None:
    alice, bob, result = team
    case_id = result.case_id
    with transaction(session_factory) as s:
        workflow.set_priority(s, services, bob.unlocked, case_id, CasePriority.LOW)
    size = audit_size(session_factory)
    with transaction(session_factory) as s:  # unchanged: nothing recorded
        workflow.set_priority(s, services, alice.unlocked, case_id, CasePriority.LOW)
    assert audit_size(session_factory) == size
    with session_factory() as s:
        assert set(s.execute(select(CaseMember.priority).where(
            CaseMember.case_id == case_id)).scalars()) == {CasePriority.LOW}
        detail = s.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "case:priority")).scalar_one()
    assert json.loads(detail) == {"from": "normal", "to": "low"}



@pytest.mark.parametrize("stage", [CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED,
                                   CaseStatus.INFO_NEEDED, CaseStatus.UNDER_INVESTIGATION,
                                   CaseStatus.DECIDED])
def test_only_a_finished_case_is_reopened(session_factory, services, team,
                                          stage: CaseStatus) -> None:
    """Outside tester: a reopen posted by hand on a received case acknowledged it without a
    word to the reporter; on a case waiting for the reporter's answer it dropped the open
    question. The table allows those moves for other steps, not for reopening."""
    alice, bob, result = team
    case_id, who = result.case_id, alice  # nobody leads yet: any member
    if stage not in (CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED):
        case_id, who = accepted(session_factory, services, team), bob  # bob leads
    with transaction(session_factory) as s:
        walk_to(s, services, alice.unlocked.actor, s.get(Case, case_id), stage)
    before = snapshot(session_factory, case_id)
    with transaction(session_factory) as s, pytest.raises(StageRefused) as refused:
        workflow.reopen_case(s, services, who.unlocked, case_id, "Reopen it.")
    assert str(stage) in str(refused.value)
    assert snapshot(session_factory, case_id) == before
