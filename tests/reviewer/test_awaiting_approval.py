"""An account waiting for a second administrator's approval (made, or its passphrase reset,
in the console) may finish enrolling and log out, and nothing else: a waiting admin manages
no account, a waiting auditor reads no access log, a waiting case handler records no report
(outside reader: the console's pages never checked the approval)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import transaction
from core.models import AuditEvent, Reviewer, Role
from core.staff.keys import tag_standing
from crypto.reviewer_keys import unwrap_private_key
from tests.core.factories import ReviewerHandle
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
        text = page.get_data(as_text=True)
        assert 'id="awaiting-approval-notice"' in text, path
        # The menu offers none of the role's pages (outside reader: it showed them).
        assert not re.search(r'id="nav-(inbox|admin|approvals|statistics|log)"', text), path
    _waiting(session_factory, services, handle.id, False)  # a second admin approves
    for path in PAGES[role]:
        assert client.get(path).status_code == 200, path
    assert 'id="nav-' in client.get(PAGES[role][0]).get_data(as_text=True)


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


def test_the_approver_of_a_reset_is_told_whether_the_owner_has_enrolled(
        app: Any, session_factory: Any, services: Any) -> None:
    """The admin who reset a passphrase saw the one-time passphrase (and may have reset the
    authenticator alone): the second admin can approve only once someone has enrolled with
    it, and is told to hear the enrolment code from the owner, outside the console. The
    owner's waiting page shows that code, the one that approves."""
    from core.audit.log import Actor
    from core.staff.approvals import reset_with_approval
    from core.staff.passphrase_change import change_passphrase
    from core.staff.passphrases import prepare_passphrase
    from tests.core.factories import enrolment_code_of, strong_passphrase

    ada = new_account(session_factory, services, "ada", Role.ADMIN)
    ben = new_account(session_factory, services, "ben", Role.ADMIN)
    ivy = new_account(session_factory, services, "ivy")
    one_time = strong_passphrase("reset")
    with transaction(session_factory) as s:
        reset_with_approval(s, services, Actor.reviewer(ada.id), "ivy",
                            prepare_passphrase(one_time, services.config.kdf))
    approver = login_client(app, session_factory, services, ben)
    page = approver.get("/admin/approvals").get_data(as_text=True)
    assert "The owner has not completed enrolment yet" in page
    assert 'id="approve-' not in page
    chosen = strong_passphrase("chosen")
    with transaction(session_factory) as s:  # whoever holds it chooses a passphrase
        change_passphrase(s, services, s.get(Reviewer, ivy.id), one_time, chosen)
    page = approver.get("/admin/approvals").get_data(as_text=True)
    assert "The owner has completed enrolment" in page and 'id="approve-' in page
    assert "not through this console" in page
    with session_factory() as s:
        key = unwrap_private_key(s.get(Reviewer, ivy.id).wrapped_private_key, chosen)
    owner = login_client(app, session_factory, services,
                         ReviewerHandle(ivy.id, "ivy", chosen, key))
    waiting = owner.get("/cases")
    assert waiting.status_code == 403
    shown = re.search(r'id="enrolment-code">([0-9 ]+)<', waiting.get_data(as_text=True))
    assert shown is not None
    assert shown.group(1) == enrolment_code_of(session_factory, services, ivy.id)
