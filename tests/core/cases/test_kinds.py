"""The message-kind policy (core.cases.kinds): one table, read by every rule about kinds."""

from __future__ import annotations

import enum

import pytest
from sqlalchemy import func, select

from core.cases.casework import StageRefused, post_reviewer_message, send_message
from core.cases.kinds import (
    POLICIES,
    UNDECLARED,
    KindPolicy,
    is_team_only,
    policy_of,
    reporter_visible_kinds,
    staff_kinds,
)
from core.db import transaction
from core.errors import InvalidInput
from core.intake.reporter import login_submitter, read_case_for_submitter
from core.models import Author, Case, CaseStatus, KeyKind, Message, MessageKind
from tests.core.factories import add_reviewer, seed_categories, submit, walk_to


def test_every_kind_is_declared() -> None:
    assert set(POLICIES) == set(MessageKind)


def test_an_undeclared_kind_is_team_only_and_moves_nothing() -> None:
    """A kind added to the enum but not to the table must not reach reporters."""
    future = enum.StrEnum("Future", {"EVIDENCE": "evidence"})
    policy = policy_of(future.EVIDENCE)  # type: ignore[arg-type]
    assert policy is UNDECLARED
    assert policy.key is KeyKind.TEAM and not policy.reporter_sees
    assert policy.moves_to is None and not policy.acknowledges
    assert is_team_only(future.EVIDENCE)  # type: ignore[arg-type]
    assert future.EVIDENCE not in reporter_visible_kinds()


def test_the_reporter_sees_exactly_the_kinds_declared_visible() -> None:
    assert reporter_visible_kinds() == {
        MessageKind.REPORTER_MESSAGE, MessageKind.CLARIFICATION_REQUEST,
        MessageKind.INFORMATION, MessageKind.FEEDBACK}
    assert reporter_visible_kinds() == {k for k, p in POLICIES.items() if p.reporter_sees}


def test_staff_write_every_kind_but_the_reporters() -> None:
    assert staff_kinds() == (MessageKind.CLARIFICATION_REQUEST, MessageKind.INFORMATION,
                             MessageKind.FEEDBACK, MessageKind.INTERNAL_NOTE)


def test_a_visible_kind_must_be_under_the_case_key() -> None:
    with pytest.raises(ValueError, match="case key"):
        KindPolicy(key=KeyKind.TEAM, reporter_sees=True, written_by=Author.REVIEWER)


@pytest.fixture
def case_and_handler(session_factory, services):
    handler = add_reviewer(session_factory, services, "hana")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    return submit(session_factory, services), handler


@pytest.mark.parametrize("kind", staff_kinds())
def test_each_staff_kind_is_stored_and_moves_the_case_as_declared(
        session_factory, services, case_and_handler, kind: MessageKind) -> None:
    case, handler = case_and_handler
    with transaction(session_factory) as s:
        if kind is MessageKind.FEEDBACK:  # the outcome follows a decision
            walk_to(s, services, handler.unlocked.actor, s.get(Case, case.case_id),
                    CaseStatus.DECIDED)
        message = send_message(s, services, handler.unlocked, case.case_id, kind, "Text")
        message_id = message.id
    with session_factory() as s:
        stored = s.get(Message, message_id)
        status = s.get(Case, case.case_id).status
    policy = POLICIES[kind]
    assert stored.key_kind is policy.key
    expected = policy.moves_to or (CaseStatus.ACKNOWLEDGED if policy.acknowledges
                                   else CaseStatus.RECEIVED)
    assert status is expected


def test_the_outcome_is_not_a_plain_message(session_factory, services,
                                            case_and_handler) -> None:
    """The outcome carries its grounds: it is sent with core.cases.workflow.give_feedback."""
    case, handler = case_and_handler
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        post_reviewer_message(s, services, handler.unlocked, case.case_id,
                              MessageKind.FEEDBACK, "Done.")


@pytest.mark.parametrize(("kind", "stage"), [
    (MessageKind.FEEDBACK, CaseStatus.UNDER_INVESTIGATION),
    (MessageKind.FEEDBACK, CaseStatus.ACKNOWLEDGED),
    (MessageKind.CLARIFICATION_REQUEST, CaseStatus.DECIDED),
    (MessageKind.CLARIFICATION_REQUEST, CaseStatus.CLOSED)])
def test_a_kind_outside_its_stages_is_refused_and_changes_nothing(
        session_factory, services, case_and_handler, kind: MessageKind,
        stage: CaseStatus) -> None:
    case, handler = case_and_handler
    with transaction(session_factory) as s:
        walk_to(s, services, handler.unlocked.actor, s.get(Case, case.case_id), stage)
    with transaction(session_factory) as s, pytest.raises(StageRefused):
        send_message(s, services, handler.unlocked, case.case_id, kind, "Text")
    with session_factory() as s:
        assert s.get(Case, case.case_id).status is stage
        assert s.scalar(select(func.count()).select_from(Message)
                        .where(Message.case_id == case.case_id)) == 0


def test_staff_cannot_write_the_reporters_kind(session_factory, services,
                                               case_and_handler) -> None:
    case, handler = case_and_handler
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        post_reviewer_message(s, services, handler.unlocked, case.case_id,
                              MessageKind.REPORTER_MESSAGE, "Pretending")


def test_the_reporter_is_shown_only_visible_kinds(session_factory, services, case_and_handler,
                                                  monkeypatch) -> None:
    """Hiding a kind in the table hides it from the portal even under the case key."""
    case, handler = case_and_handler
    with transaction(session_factory) as s:
        for kind in (MessageKind.INFORMATION, MessageKind.INTERNAL_NOTE):
            post_reviewer_message(s, services, handler.unlocked, case.case_id, kind, kind.value)

    def shown_kinds() -> list[MessageKind]:
        with transaction(session_factory) as s:
            access = login_submitter(s, services, case.receipt_code)
            return [m.kind for m in read_case_for_submitter(s, services, access).messages]

    assert shown_kinds() == [MessageKind.INFORMATION]
    hidden = dict(POLICIES)
    hidden[MessageKind.INFORMATION] = KindPolicy(
        key=KeyKind.CASE, reporter_sees=False, written_by=Author.REVIEWER)
    monkeypatch.setattr("core.cases.kinds.POLICIES", hidden)
    assert shown_kinds() == []
    with session_factory() as s:  # still there for staff, under the case key
        kinds = s.execute(select(Message.kind).where(Message.case_id == case.case_id)).all()
        assert len(kinds) == 2
