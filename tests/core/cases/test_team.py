"""core.cases.team: the console's read-only look-ups of a case's team."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.audit.log import Actor
from core.cases.content import ReportContent
from core.cases.team import (
    case_team,
    get_case,
    get_case_file,
    get_member,
    grant_candidates,
    is_active_member,
)
from core.cases.team_changes import exclude_member
from core.db import transaction
from core.errors import NotFound
from core.intake.submission import SubmissionDraft, submit_report
from core.models import Reviewer, Role
from tests.core.factories import add_reviewer, seed_categories, submit


@pytest.fixture
def setting(session_factory, services):
    ivy = add_reviewer(session_factory, services, "ivy")
    bob = add_reviewer(session_factory, services, "bob")
    carol = add_reviewer(session_factory, services, "carol")
    add_reviewer(session_factory, services, "adam", role=Role.ADMIN)
    seed_categories(session_factory, {"it_fault": [ivy.id, carol.id]}, services=services)
    case = submit(session_factory, services, files=[("a.txt", b"a")])
    with transaction(session_factory) as s:
        exclude_member(s, services, Actor.system(), case.case_id, s.get(Reviewer, carol.id))
    return case, ivy, bob, carol


def test_team_lists_members_with_the_excluded_marked(session_factory, services, setting):
    case, ivy, _bob, carol = setting
    with session_factory() as s:
        team = case_team(s, case.case_id)
    assert [(r.username, m.excluded) for m, r in team] == [("carol", True), ("ivy", False)]
    with session_factory() as s:
        assert is_active_member(s, services.keyring, case.case_id, ivy.id)
        assert not is_active_member(s, services.keyring, case.case_id, carol.id)
        assert get_member(s, case.case_id, ivy.id).reviewer.username == "ivy"
        with pytest.raises(NotFound):
            get_member(s, case.case_id, carol.id)


def candidates(session, services, case_id: int) -> list[str]:
    return [r.username for r in grant_candidates(session, get_case(session, case_id),
                                                 services.keyring)]


def test_candidates_leave_out_whom_the_reporter_left_out(session_factory, services, setting):
    # Outside tester: "Add a colleague" offered a handler the reporter had left out, then
    # refused the grant with a 409.
    _case, _ivy, _bob, carol = setting
    with transaction(session_factory) as s:
        left_out = submit_report(s, services, SubmissionDraft(), category_code="it_fault",
                                 report=ReportContent(summary="Shared admin password"),
                                 excluded_handlers=[carol.id])
    with session_factory() as s:
        assert candidates(s, services, left_out.case_id) == ["bob"]


def test_candidates_are_active_handlers_not_on_the_team(session_factory, services, setting):
    case, _ivy, _bob, _carol = setting
    with session_factory() as s:
        assert candidates(s, services, case.case_id) == ["bob"]
    # Outside tester: an account not enrolled yet was offered, then refused with a 403.
    from tests.reviewer.conftest import new_account

    new_account(session_factory, services, "newbie", ready=False)
    with session_factory() as s:
        assert candidates(s, services, case.case_id) == ["bob"]


def test_unknown_cases_and_files_of_other_cases_are_not_found(session_factory, services,
                                                              setting):
    case, *_ = setting
    other = submit(session_factory, services, files=[("b.txt", b"b")])
    with session_factory() as s:
        assert get_case(s, case.case_id).id == case.case_id
        with pytest.raises(NotFound):
            get_case(s, 1)
        mine = s.execute(text("select id, case_id from attachments")).all()
        by_case = {case_id: file_id for file_id, case_id in mine}
        assert get_case_file(s, case.case_id, by_case[case.case_id]).case_id == case.case_id
        with pytest.raises(NotFound):
            get_case_file(s, case.case_id, by_case[other.case_id])
