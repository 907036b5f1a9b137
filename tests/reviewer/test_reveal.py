"""Revealing a confidential reporter's identity asks for the passphrase on the reveal form
itself, however recently the case handler logged in (the README promises it; before, a reason
sufficed in the five minutes after login)."""

from __future__ import annotations

import pytest

from core.audit.log import AuditAction
from core.cases.recovery import regrant_member_cases
from core.db import transaction
from core.models import Reviewer
from tests.core.factories import add_reviewer, approve_identity, audit_actions
from tests.reviewer.conftest import login_client
from tests.reviewer.test_auth import csrf


@pytest.fixture
def approved(session_factory, services, world, recovery_key):
    """world.on_case's request for the identity, approved by a custodian: a custodian named
    after the report came in gets its identity key from the operator's recovery key (`candor
    recover`), then approves."""
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    with transaction(session_factory) as s:
        regrant_member_cases(s, services, recovery_key.private_key, s.get(Reviewer, keeper.id))
    approve_identity(session_factory, services, world.on_case, keeper, world.case_id)
    return keeper


def _reveal(client, case_id: int, **fields: str):
    token = csrf(client, f"/cases/{case_id}")
    return client.post(f"/cases/{case_id}/reveal", data={"csrf_token": token, **fields})


def test_a_reason_without_the_passphrase_reveals_nothing(app, session_factory, services, world,
                                                         approved):
    client = login_client(app, session_factory, services, world.on_case)  # a fresh login
    page = client.get(f"/cases/{world.case_id}/reveal").text
    assert 'type="password"' in page
    response = _reveal(client, world.case_id, reason="Needed to interview")
    assert response.status_code == 400
    assert "Wang Fang" not in response.text
    assert "case:identity:reveal" not in audit_actions(session_factory)


def test_a_wrong_passphrase_reveals_nothing_and_is_logged(app, session_factory, services,
                                                          world, approved):
    client = login_client(app, session_factory, services, world.on_case)
    response = _reveal(client, world.case_id, reason="Needed to interview",
                       passphrase="not my passphrase at all")
    assert response.status_code == 400
    assert "The passphrase is not correct." in response.text
    assert "Wang Fang" not in response.text
    assert "not my passphrase" not in response.text  # never echoed back
    actions = audit_actions(session_factory)
    assert "case:identity:reveal" not in actions
    assert actions[-1] == str(AuditAction.LOGIN_FAILED)  # the failed re-entry, kept


def test_reason_and_passphrase_reveal_and_are_audited(app, session_factory, services, world,
                                                     approved):
    client = login_client(app, session_factory, services, world.on_case)
    response = _reveal(client, world.case_id, reason="Needed to interview",
                       passphrase=world.on_case.passphrase)
    assert response.status_code == 200 and "Wang Fang" in response.text
    actions = audit_actions(session_factory)
    assert actions[-1] == str(AuditAction.IDENTITY_REVEALED)
    assert str(AuditAction.SESSION_REAUTHENTICATED) in actions


def test_without_an_approved_request_the_way_is_to_ask(app, session_factory, services, world):
    """Outside tester: a member without an approved request was shown the reveal form and,
    after the passphrase, a bare "no permission" page. They are sent to the request form."""
    client = login_client(app, session_factory, services, world.on_case)
    case_page = client.get(f"/cases/{world.case_id}").text
    assert 'id="reveal-link"' not in case_page and 'id="identity-request-link"' in case_page
    for answer in (client.get(f"/cases/{world.case_id}/reveal"),
                   _reveal(client, world.case_id, reason="Needed to interview",
                           passphrase=world.on_case.passphrase)):
        assert answer.status_code == 303
        assert answer.location.endswith(f"/cases/{world.case_id}/identity-request")
    asked = client.get(f"/cases/{world.case_id}/identity-request").text
    assert "an identity custodian other than you has approved your request" in asked
    assert "Wang Fang" not in asked
    assert "case:identity:reveal" not in audit_actions(session_factory)
