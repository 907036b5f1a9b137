"""Excluding a member (core.cases.team_changes.exclude_member): never the last one on the team."""

from __future__ import annotations

import pytest

from core.audit.log import Actor
from core.cases.inbox import InboxFilter, inbox_page
from core.cases.team_changes import LastMemberError, exclude_member, grant_case
from core.db import transaction
from core.models import CaseMember, Reviewer
from tests.core.factories import add_reviewer, audit_actions, seed_categories, submit


@pytest.fixture
def lone_case(session_factory, services):
    handler = add_reviewer(session_factory, services, "hana")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    return submit(session_factory, services), handler


def test_the_only_member_cannot_exclude_themselves(session_factory, services, lone_case):
    case, handler = lone_case
    before = audit_actions(session_factory)
    with transaction(session_factory) as s, pytest.raises(LastMemberError):
        exclude_member(s, services, handler.unlocked.actor, case.case_id,
                       s.get(Reviewer, handler.id))
    with session_factory() as s:
        assert not s.get(CaseMember, (case.case_id, handler.id)).excluded
        page = inbox_page(s, handler.id, InboxFilter(), services.clock.today())
        assert [row.id for row in page.rows] == [case.case_id]
    assert audit_actions(session_factory) == before


def test_with_a_colleague_on_the_team_a_member_can_leave(session_factory, services, lone_case):
    case, handler = lone_case
    colleague = add_reviewer(session_factory, services, "kai")
    with transaction(session_factory) as s:
        grant_case(s, services, handler.unlocked, case.case_id, s.get(Reviewer, colleague.id))
    with transaction(session_factory) as s:
        exclude_member(s, services, handler.unlocked.actor, case.case_id,
                       s.get(Reviewer, handler.id))
    with transaction(session_factory) as s, pytest.raises(LastMemberError):
        exclude_member(s, services, Actor.system(), case.case_id,
                       s.get(Reviewer, colleague.id))


def test_an_outsider_can_still_be_excluded_in_advance(session_factory, services, lone_case):
    """A conflict of interest known before anyone grants them: not a team member, so the
    team is unchanged and the rule does not apply."""
    case, _handler = lone_case
    outsider = add_reviewer(session_factory, services, "oscar")
    with transaction(session_factory) as s:
        exclude_member(s, services, Actor.system(), case.case_id, s.get(Reviewer, outsider.id))
    with session_factory() as s:
        assert s.get(CaseMember, (case.case_id, outsider.id)).excluded
