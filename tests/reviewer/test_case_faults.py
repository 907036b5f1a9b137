"""Console faults found when Candor was tried as a new user would (issue 11): the stage after
the reporter's answer, and the last member excluding themselves."""

from __future__ import annotations

from core.cases.casework import post_reviewer_message
from core.db import transaction
from core.intake.reporter import login_submitter, post_submitter_message
from core.models import CaseMember, CaseStatus, MessageKind
from tests.core.factories import submit
from tests.reviewer.conftest import login_client
from tests.reviewer.test_auth import csrf


def test_after_the_reporters_answer_the_case_no_longer_waits(app, session_factory, services,
                                                             world):
    result = submit(session_factory, services)
    with transaction(session_factory) as s:
        post_reviewer_message(s, services, world.on_case.unlocked, result.case_id,
                              MessageKind.CLARIFICATION_REQUEST, "Which printer?")
    client = login_client(app, session_factory, services, world.on_case)
    waiting = client.get(f"/cases/{result.case_id}").text
    assert "Wait for the reporter" in waiting
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        post_submitter_message(s, services, access, "The one on floor 3.")
    page = client.get(f"/cases/{result.case_id}").text
    assert "Wait for the reporter" not in page
    assert "Decide the scope: accept it with a lead and a priority" in page
    inbox = client.get(f"/cases?status={CaseStatus.INFO_NEEDED.value}").text
    assert result.reference not in inbox


def test_the_only_member_is_told_why_they_cannot_leave(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    path = f"/cases/{world.case_id}/members/{world.on_case.id}/exclude"
    response = client.post(path, data={"csrf_token": csrf(client, path),
                                       "passphrase": world.on_case.passphrase})
    assert response.status_code == 409
    assert "is the only one left on this case team" in response.text
    assert 'id="exclude-error"' in response.text
    with session_factory() as s:
        assert not s.get(CaseMember, (world.case_id, world.on_case.id)).excluded
    assert client.get(f"/cases/{world.case_id}").status_code == 200
