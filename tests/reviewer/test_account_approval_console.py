"""Accounts made, or reset, by one admin in the console wait for a second admin, who
approves them with the enrolment code the owner reads out (core.staff.enrolment_codes): over
HTTP, the owner enrolling through the console's own pages."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from core.models import AuditEvent, Reviewer, Role
from tests.core.factories import another_enrolment_code, audit_actions, strong_passphrase
from tests.reviewer.conftest import current_code, login_client, new_account
from tests.reviewer.owner_enrolment import enrol_over_http
from tests.reviewer.test_auth import csrf, post_login
from tests.reviewer.test_key_custody_console import _change_id, _post


def test_an_account_made_by_one_admin_waits_for_another(app, session_factory, services):
    ada = new_account(session_factory, services, "ada", Role.ADMIN)
    ben = new_account(session_factory, services, "ben", Role.ADMIN)
    first, second = (login_client(app, session_factory, services, h) for h in (ada, ben))
    created = _post(first, "/admin/reviewers/new", "/admin/reviewers/new",
                    username="mallory", role="reviewer", display_name="Mallory M.")
    assert created.status_code == 200 and 'id="awaiting-approval"' in created.text
    with session_factory() as s:
        mallory = s.execute(select(Reviewer).where(Reviewer.username == "mallory")).scalar_one()
        assert not mallory.approved and mallory.public_key is None
    change = _change_id(session_factory)
    # The requester's own approval is refused, and changes nothing.
    own = _post(first, "/admin/approvals", f"/admin/approvals/{change}/approve")
    assert own.status_code == 303
    assert "other than the one who asked" in first.get("/admin/approvals").text
    with session_factory() as s:
        assert not s.get(Reviewer, mallory.id).approved
    # Before its owner has enrolled there is nothing to approve with.
    page = second.get("/admin/approvals").text
    assert f'id="approve-{change}"' not in page and f'id="refuse-{change}"' in page
    assert "has not completed enrolment yet" in page
    early = _post(second, "/admin/approvals", f"/admin/approvals/{change}/approve",
                  code="1234 5678 9012")
    assert early.status_code == 409 and "has not completed enrolment yet" in early.text
    one_time = re.search(r'id="one-time-passphrase">([^<]+)<', created.text).group(1)
    _owner, code, _own = enrol_over_http(app, session_factory, services, "mallory",
                                         mallory.id, one_time)
    page = second.get("/admin/approvals").text
    assert f'id="approve-{change}"' in page and f'id="code-{change}"' in page
    # A code other than the one on the owner's screen approves nothing.
    wrong = _post(second, "/admin/approvals", f"/admin/approvals/{change}/approve",
                  code=another_enrolment_code(code))
    assert wrong.status_code == 403 and "This is not the code on the owner" in wrong.text
    assert f'id="code-{change}-error"' in wrong.text
    with session_factory() as s:
        assert not s.get(Reviewer, mallory.id).approved
        last = s.execute(select(AuditEvent).order_by(AuditEvent.position.desc())).scalars()
        refused = last.first()
        assert (refused.action, refused.reviewer_id) == ("access:refuse", ben.id)
        assert json.loads(refused.detail) == {"endpoint": "changes.decide", "status": 403}
        logged = s.scalar(select(func.count()).select_from(AuditEvent))
    # A digit mistyped is a typing error (the check digit), not an attempt: said so, not logged.
    digits = code.replace(" ", "")
    typo = digits[:3] + str((int(digits[3]) + 1) % 10) + digits[4:]
    for mistyped in (typo, digits[:-1], ""):
        again = _post(second, "/admin/approvals", f"/admin/approvals/{change}/approve",
                      code=mistyped)
        assert again.status_code == 422 and "a digit was mistyped" in again.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == logged
        assert not s.get(Reviewer, mallory.id).approved
    # The owner reads it aloud; the approver types it with full-width digits and a hyphen.
    typed = code.replace(" ", "-").translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert _post(second, "/admin/approvals",
                 f"/admin/approvals/{change}/approve", code=typed).status_code == 303
    with session_factory() as s:
        assert s.get(Reviewer, mallory.id).approved
    actions = audit_actions(session_factory)
    assert "admin:change:request" in actions and "admin:change:decide" in actions


def test_an_admin_who_enrolled_in_the_owners_name_cannot_hand_the_account_over(
        app, session_factory, services):
    """Second reader: an admin resets a handler's passphrase and authenticator, enrols as
    them with a passphrase of their own, and hands the owner that passphrase as if it were
    the one-time one, with the authenticator key. The owner's login gives up that key pair
    and asks them for a passphrase of their own: the code they then read out is of a key
    pair the admin does not hold, and the admin's code approves nothing."""
    ada = new_account(session_factory, services, "ada", Role.ADMIN)
    ben = new_account(session_factory, services, "ben", Role.ADMIN)
    ivy = new_account(session_factory, services, "ivy")
    first, second = (login_client(app, session_factory, services, h) for h in (ada, ben))
    one_time = re.search(r'id="one-time-passphrase">([^<]+)<', _post(
        first, f"/admin/reviewers/{ivy.id}/reset-passphrase",
        f"/admin/reviewers/{ivy.id}/reset-passphrase").text).group(1)
    _post(first, f"/admin/reviewers/{ivy.id}/reset-totp", f"/admin/reviewers/{ivy.id}/reset-totp")
    change = _change_id(session_factory)
    admins_session, admins_code, handed_over = enrol_over_http(
        app, session_factory, services, "ivy", ivy.id, one_time)
    # The owner logs in with what the admin handed over (a later TOTP step: the admin used
    # this one).
    owner = app.test_client()
    login = post_login(owner, "ivy", handed_over,
                       current_code(services, session_factory, ivy.id, offset_steps=1))
    assert login.status_code == 303 and login.location.endswith("/passphrase")
    assert owner.get("/cases").location.endswith("/passphrase")  # no code before that
    with session_factory() as s:
        assert s.get(Reviewer, ivy.id).public_key is None  # the admin's key pair is gone
    assert 'id="enrolment-code"' not in admins_session.get("/cases").text
    refused = _post(second, "/admin/approvals", f"/admin/approvals/{change}/approve",
                    code=admins_code)
    assert refused.status_code == 409
    own = strong_passphrase("ivy's own")
    assert owner.post("/passphrase", data={"csrf_token": csrf(owner, "/passphrase"),
                                           "current": handed_over, "new": own,
                                           "confirm": own}).status_code == 303
    shown = re.search(r'id="enrolment-code">([0-9 ]+)<', owner.get("/cases").text)
    owners_code = shown.group(1)
    assert owners_code != admins_code
    assert admins_session.get("/cases").status_code in (302, 303)  # ended by the change
    assert _post(second, "/admin/approvals", f"/admin/approvals/{change}/approve",
                 code=admins_code).status_code == 403
    assert _post(second, "/admin/approvals", f"/admin/approvals/{change}/approve",
                 code=owners_code).status_code == 303
    with session_factory() as s:
        assert s.get(Reviewer, ivy.id).approved
    assert "keys_given_up" in "".join(_login_details(session_factory, ivy.id))


def _login_details(session_factory, reviewer_id: int) -> list[str]:
    with session_factory() as s:
        return list(s.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "session:login", AuditEvent.reviewer_id == reviewer_id))
            .scalars())


def test_a_passphrase_reset_in_the_console_waits_for_another_admin(app, session_factory,
                                                                   services):
    """Outside tester: one admin reset a handler's passphrase and authenticator, enrolled as
    them and read their next report. The reset account now waits under Approvals."""
    ada = new_account(session_factory, services, "ada", Role.ADMIN)
    ben = new_account(session_factory, services, "ben", Role.ADMIN)
    ivy = new_account(session_factory, services, "ivy")
    first, second = (login_client(app, session_factory, services, h) for h in (ada, ben))
    path = f"/admin/reviewers/{ivy.id}/reset-passphrase"
    done = _post(first, path, path)
    assert done.status_code == 200 and 'id="one-time-passphrase"' in done.text
    assert 'id="reset-waits"' in done.text
    with session_factory() as s:
        assert not s.get(Reviewer, ivy.id).approved
    change = _change_id(session_factory)
    page = second.get("/admin/approvals").text
    assert "ivy (Case handler) again, after a passphrase reset" in page
    assert f'id="approve-{change}"' not in page  # ivy has not enrolled again yet
    one_time = re.search(r'id="one-time-passphrase">([^<]+)<', done.text).group(1)
    owner, code, _own = enrol_over_http(app, session_factory, services, "ivy", ivy.id,
                                        one_time)
    assert f'id="approve-{change}"' in second.get("/admin/approvals").text
    assert _post(second, "/admin/approvals",
                 f"/admin/approvals/{change}/approve", code=code).status_code == 303
    with session_factory() as s:
        assert s.get(Reviewer, ivy.id).approved
    assert owner.get("/cases").status_code == 200  # the owner's own session goes on
