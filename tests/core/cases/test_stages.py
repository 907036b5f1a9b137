"""core.cases.stages: the reporter's answer returns a case to the stage it came from."""

from __future__ import annotations

import pytest

from core.cases.casework import post_reviewer_message
from core.cases.stages import DEFAULT_RETURN, stage_before_request
from core.db import transaction
from core.intake.reporter import login_submitter, post_submitter_message
from core.models import Case, CaseStatus, MessageKind
from tests.core.factories import add_reviewer, seed_categories, submit, walk_to


@pytest.fixture
def case_and_handler(session_factory, services):
    handler = add_reviewer(session_factory, services, "hana")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    return submit(session_factory, services), handler


def _status(session_factory, case_id: int) -> CaseStatus:
    with session_factory() as s:
        return s.get(Case, case_id).status


def _ask(session_factory, services, handler, case_id: int) -> None:
    with transaction(session_factory) as s:
        post_reviewer_message(s, services, handler.unlocked, case_id,
                              MessageKind.CLARIFICATION_REQUEST, "Which printer?")


def _answer(session_factory, services, receipt: str) -> None:
    with transaction(session_factory) as s:
        access = login_submitter(s, services, receipt)
        post_submitter_message(s, services, access, "The one on floor 3.")


@pytest.mark.parametrize("earlier", [CaseStatus.ACKNOWLEDGED, CaseStatus.UNDER_INVESTIGATION])
def test_the_answer_returns_the_case_to_its_earlier_stage(session_factory, services,
                                                          case_and_handler, earlier) -> None:
    case, handler = case_and_handler
    with transaction(session_factory) as s:
        walk_to(s, services, handler.unlocked.actor, s.get(Case, case.case_id), earlier)
    _ask(session_factory, services, handler, case.case_id)
    assert _status(session_factory, case.case_id) is CaseStatus.INFO_NEEDED
    _answer(session_factory, services, case.receipt_code)
    assert _status(session_factory, case.case_id) is earlier


def test_a_request_on_a_received_case_returns_to_acknowledged(session_factory, services,
                                                              case_and_handler) -> None:
    case, handler = case_and_handler
    _ask(session_factory, services, handler, case.case_id)  # received -> info needed
    _answer(session_factory, services, case.receipt_code)
    assert _status(session_factory, case.case_id) is CaseStatus.ACKNOWLEDGED is DEFAULT_RETURN


def test_a_message_outside_a_request_changes_no_stage(session_factory, services,
                                                      case_and_handler) -> None:
    case, _handler = case_and_handler
    _answer(session_factory, services, case.receipt_code)
    assert _status(session_factory, case.case_id) is CaseStatus.RECEIVED


def test_the_return_is_the_reporters_queued_event(session_factory, services,
                                                  case_and_handler) -> None:
    """The stage change is audited as the reporter's (queued by day, like their message),
    not as a staff event with an exact time."""
    from sqlalchemy import select

    from core.models import PendingAuditEvent

    case, handler = case_and_handler
    _ask(session_factory, services, handler, case.case_id)
    _answer(session_factory, services, case.receipt_code)
    with session_factory() as s:
        queued = s.execute(select(PendingAuditEvent.action, PendingAuditEvent.detail)).all()
    assert ("case:status", '{"from":"info_needed","to":"acknowledged"}') in [
        (action, detail.replace(" ", "")) for action, detail in queued]


def test_stage_before_request_without_a_logged_request(session_factory, services,
                                                       case_and_handler) -> None:
    case, _handler = case_and_handler
    with session_factory() as s:
        # The log holds no stage change for this case yet.
        assert stage_before_request(s, case.case_id) is DEFAULT_RETURN
