"""core.cases.unreached: open cases that reach nobody, and handing one over with the recovery
key (outside tester: a report whose reporter left out every handler was promised an
acknowledgement, and nothing told an admin)."""

from __future__ import annotations

import pytest

from core.audit.log import Actor
from core.cases.casework import read_case_for_reviewer
from core.cases.content import ReportContent
from core.cases.unreached import assign_with_recovery_key, reaches_nobody, unreached_cases
from core.db import transaction
from core.errors import AccessDenied, Conflict, InvalidInput
from core.intake.submission import SubmissionDraft, SubmissionResult, submit_report
from core.models import Case, CaseMember, CaseStatus, MemberRole, Reviewer
from core.staff.accounts import deactivate_reviewer
from crypto.recovery import generate_recovery_key
from tests.core.factories import (
    add_reviewer,
    assert_counters_exact,
    audit_actions,
    seed_categories,
    submit,
    walk_to,
)
from tests.reviewer.conftest import new_account

REPORT = ReportContent(summary="The badge reader logs who enters", description="Since May.")


def submit_leaving_out(session_factory, services, excluded: list[int]) -> SubmissionResult:
    with transaction(session_factory) as s:
        return submit_report(s, services, SubmissionDraft(), category_code="it_fault",
                             report=REPORT, excluded_handlers=excluded)


@pytest.fixture
def world(session_factory, services):
    ivy = add_reviewer(session_factory, services, "ivy")
    bob = add_reviewer(session_factory, services, "bob")
    carol = add_reviewer(session_factory, services, "carol")
    seed_categories(session_factory, {"it_fault": [ivy.id, bob.id]}, services=services)
    return ivy, bob, carol


def assign(session_factory, services, key: bytes, case_id: int, reviewer_id: int) -> None:
    with transaction(session_factory) as s:
        assign_with_recovery_key(s, services, key, s.get(Case, case_id),
                                 s.get(Reviewer, reviewer_id))


def test_a_report_leaving_out_every_handler_is_listed(session_factory, services, world):
    ivy, bob, _carol = world
    reached = submit(session_factory, services)
    lost = submit_leaving_out(session_factory, services, [ivy.id, bob.id])
    assert lost.unrouted and not reached.unrouted
    with session_factory() as s:
        found = unreached_cases(s)
        assert not reaches_nobody(s, s.get(Case, reached.case_id))
    assert found.total == 1 and found.references == [lost.reference]


def test_a_team_whose_accounts_all_left_reaches_nobody(session_factory, services, world):
    ivy, bob, _carol = world
    case = submit(session_factory, services)
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "ivy")
    with session_factory() as s:
        assert unreached_cases(s).total == 0  # bob is still there
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "bob")
    with session_factory() as s:
        assert unreached_cases(s).references == [case.reference]


def test_finished_cases_are_not_listed(session_factory, services, world):
    ivy, bob, _carol = world
    lost = submit_leaving_out(session_factory, services, [ivy.id, bob.id])
    with transaction(session_factory) as s:
        walk_to(s, services, Actor.system(), s.get(Case, lost.case_id), CaseStatus.CLOSED)
    with session_factory() as s:
        assert unreached_cases(s).total == 0


def test_assigning_hands_every_key_to_a_handler_the_reporter_did_not_leave_out(
        session_factory, services, recovery_key, world):
    ivy, bob, carol = world
    lost = submit_leaving_out(session_factory, services, [ivy.id, bob.id])
    for left_out in (ivy, bob):
        with pytest.raises(Conflict, match="excluded"):
            assign(session_factory, services, recovery_key.private_key, lost.case_id,
                   left_out.id)
    assign(session_factory, services, recovery_key.private_key, lost.case_id, carol.id)
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, carol.unlocked, lost.case_id)
        member = s.get(CaseMember, (lost.case_id, carol.id))
        assert member is not None and member.role is MemberRole.INTAKE
        assert unreached_cases(s).total == 0
    assert view.report == REPORT
    assert "case:recover" in audit_actions(session_factory)
    assert_counters_exact(session_factory)
    # Once it reaches someone, the team adds colleagues in the console instead.
    new_handler = add_reviewer(session_factory, services, "dan")
    with pytest.raises(Conflict, match="console"):
        assign(session_factory, services, recovery_key.private_key, lost.case_id,
               new_handler.id)


def test_refusals_change_nothing(session_factory, services, recovery_key, world):
    ivy, bob, _carol = world
    lost = submit_leaving_out(session_factory, services, [ivy.id, bob.id])
    waiting = new_account(session_factory, services, "newbie", ready=False)
    dan = add_reviewer(session_factory, services, "dan")
    before = audit_actions(session_factory)
    with pytest.raises(InvalidInput, match="cannot receive case keys"):
        assign(session_factory, services, recovery_key.private_key, lost.case_id, waiting.id)
    with pytest.raises(AccessDenied):  # another instance's recovery key
        assign(session_factory, services, generate_recovery_key().private_key, lost.case_id,
               dan.id)
    with session_factory() as s:
        assert s.get(CaseMember, (lost.case_id, dan.id)) is None
        assert unreached_cases(s).total == 1
    assert audit_actions(session_factory) == before
