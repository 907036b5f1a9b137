"""An account waiting for a second administrator's approval (made, or its passphrase reset,
in the console) may finish enrolling and log out, and nothing else: a waiting admin manages
no account, a waiting auditor reads no access log, a waiting case handler records no report
(outside reader: the console's pages never checked the approval)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import transaction
from core.models import AuditEvent, Reviewer, Role
from core.staff.keys import tag_standing
from tests.reviewer.conftest import login_client, new_account
from tests.reviewer.test_auth import csrf

PAGES = {Role.ADMIN: ("/admin", "/admin/reviewers", "/admin/approvals", "/statistics"),
         Role.AUDITOR: ("/audit", "/audit/checkpoints"),
         Role.REVIEWER: ("/cases", "/intake/new", "/statistics")}


def _waiting(session_factory: Any, services: Any, reviewer_id: int, waiting: bool) -> None:
    with transaction(session_factory) as s:  # as core.staff.approvals leaves the account
        reviewer = s.get(Reviewer, reviewer_id)
        reviewer.approved = not waiting
        tag_standing(services.keyring, reviewer)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AUDITOR, Role.REVIEWER])
def test_a_waiting_account_sees_only_that_it_waits(app: Any, session_factory: Any,
                                                   services: Any, role: Role) -> None:
    handle = new_account(session_factory, services, f"new-{role.value}", role)
    _waiting(session_factory, services, handle.id, True)
    client = login_client(app, session_factory, services, handle)
    for path in ("/", *PAGES[role]):
        page = client.get(path, follow_redirects=True)
        assert page.status_code == 403, path
        assert 'id="awaiting-approval-notice"' in page.get_data(as_text=True), path
    _waiting(session_factory, services, handle.id, False)  # a second admin approves
    for path in PAGES[role]:
        assert client.get(path).status_code == 200, path


def test_a_waiting_admin_changes_no_account(app: Any, session_factory: Any,
                                            services: Any) -> None:
    victim = new_account(session_factory, services, "victim")
    admin = new_account(session_factory, services, "newadmin", Role.ADMIN)
    client = login_client(app, session_factory, services, admin)
    path = f"/admin/reviewers/{victim.id}/deactivate"
    token = csrf(client, "/admin")  # the layout's forms carry the token on the waiting page too
    _waiting(session_factory, services, admin.id, True)
    with session_factory() as s:
        before = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    refused = client.post(path, data={"csrf_token": token})
    assert refused.status_code == 403
    with session_factory() as s:
        assert s.get(Reviewer, victim.id).active
        logged = s.execute(select(AuditEvent.action).order_by(AuditEvent.position)
                           .offset(before)).scalars().all()
        assert logged == ["access:refuse"]  # the attempt is in the access log, nothing else
    assert client.post("/logout", data={"csrf_token": token}).status_code in (302, 303)
