"""Revealing a confidential reporter's identity asks for the passphrase on the reveal form
itself, however recently the case handler logged in (the README promises it; before, a reason
sufficed in the five minutes after login)."""

from __future__ import annotations

from core.audit.log import AuditAction
from core.cases.recovery import regrant_member_cases
from core.db import transaction
from core.models import Reviewer
from tests.core.factories import add_reviewer, approve_identity, audit_actions
from tests.reviewer.conftest import login_client
from tests.reviewer.test_auth import csrf


def _reveal(client, case_id: int, **fields: str):
    path = f"/cases/{case_id}/reveal"
    return client.post(path, data={"csrf_token": csrf(client, path), **fields})


def test_a_reason_without_the_passphrase_reveals_nothing(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)  # a fresh login
    page = client.get(f"/cases/{world.case_id}/reveal").text
    assert 'type="password"' in page
    response = _reveal(client, world.case_id, reason="Needed to interview")
    assert response.status_code == 400
    assert "Wang Fang" not in response.text
    assert "case:identity:reveal" not in audit_actions(session_factory)


def test_a_wrong_passphrase_reveals_nothing_and_is_logged(app, session_factory, services,
                                                          world):
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
                                                     recovery_key):
    # A custodian named after the report came in gets its identity key from the operator's
    # recovery key (`candor recover`), then approves.
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    with transaction(session_factory) as s:
        regrant_member_cases(s, services, recovery_key.private_key, s.get(Reviewer, keeper.id))
    approve_identity(session_factory, services, world.on_case, keeper, world.case_id)
    client = login_client(app, session_factory, services, world.on_case)
    response = _reveal(client, world.case_id, reason="Needed to interview",
                       passphrase=world.on_case.passphrase)
    assert response.status_code == 200 and "Wang Fang" in response.text
    actions = audit_actions(session_factory)
    assert actions[-1] == str(AuditAction.IDENTITY_REVEALED)
    assert str(AuditAction.SESSION_REAUTHENTICATED) in actions
