"""Login with passphrase + TOTP: enrolment, replay, forced change, throttling, re-auth."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.models import AuditEvent, Reviewer, ReviewerSession
from core.staff import authentication as staff_auth
from tests.core.factories import audit_actions, strong_passphrase
from tests.reviewer.conftest import (
    cookie_name,
    current_code,
    freeze_mid_totp_step,
    login_client,
    new_account,
    wrong_code,
)

GENERIC = b"The details you entered are not correct."


def csrf(client, path: str) -> str:
    html = client.get(path).data.decode()
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def post_login(client, username, passphrase, code=""):
    token = csrf(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": username,
                                       "passphrase": passphrase, "code": code})


def sessions(session_factory) -> int:
    with session_factory() as s:
        return len(s.execute(select(ReviewerSession)).scalars().all())


def test_first_login_enrols_totp_then_forces_passphrase_change(app, session_factory, services):
    freeze_mid_totp_step(services)
    handle = new_account(session_factory, services, "newbie", ready=False)
    client = app.test_client()
    response = post_login(client, "newbie", handle.passphrase)
    assert response.status_code == 303 and response.location.endswith("/enrol")
    # Anything else redirects back to enrolment.
    assert client.get("/cases").location.endswith("/enrol")
    page = client.get("/enrol")
    assert page.status_code == 200 and b"<svg" in page.data and b'id="totp-secret"' in page.data
    assert b"<script" not in page.data
    token = csrf(client, "/enrol")
    bad = client.post("/enrol", data={"csrf_token": token,
                                      "code": wrong_code(services, session_factory, handle.id)})
    assert bad.status_code == 400 and b"not correct" in bad.data
    good = client.post("/enrol", data={"csrf_token": token,
                                       "code": current_code(services, session_factory,
                                                            handle.id)})
    assert good.status_code == 303 and good.location.endswith("/passphrase")
    assert client.get("/cases").location.endswith("/passphrase")
    token = csrf(client, "/passphrase")
    weak = client.post("/passphrase", data={"csrf_token": token, "current": handle.passphrase,
                                            "new": "password1234", "confirm": "password1234"})
    assert weak.status_code == 400 and b"too easy to guess" in weak.data
    new = strong_passphrase("new")
    ok = client.post("/passphrase", data={"csrf_token": token, "current": handle.passphrase,
                                          "new": new, "confirm": new})
    assert ok.status_code == 303
    assert client.get("/cases").status_code == 200
    with session_factory() as s:
        reviewer = s.get(Reviewer, handle.id)
        assert reviewer.totp_confirmed and not reviewer.must_change_passphrase
    actions = audit_actions(session_factory)
    assert "reviewer:totp:enrol" in actions and "reviewer:passphrase:change" in actions


def test_login_with_totp_and_replay_refused(app, session_factory, services):
    handle = new_account(session_factory, services, "tess")
    client = app.test_client()
    code = current_code(services, session_factory, handle.id)
    response = post_login(client, "tess", handle.passphrase, code)
    assert response.status_code == 303
    cookie = client.get_cookie(cookie_name(app))
    assert cookie is not None and cookie.http_only and cookie.secure
    assert cookie.same_site == "Strict" and cookie.key.startswith("__Host-")
    assert client.get("/cases").status_code == 200
    # The same code again (another browser): refused, generic message.
    other = app.test_client()
    replay = post_login(other, "tess", handle.passphrase, code)
    assert replay.status_code == 400 and GENERIC in replay.data
    assert other.get_cookie(cookie_name(app)) is None


def test_drift_of_one_step_is_accepted_two_is_not(app, session_factory, services):
    freeze_mid_totp_step(services)
    handle = new_account(session_factory, services, "drifty")
    too_old = current_code(services, session_factory, handle.id, -2)
    assert GENERIC in post_login(app.test_client(), "drifty", handle.passphrase, too_old).data
    previous = current_code(services, session_factory, handle.id, -1)
    if previous != too_old:
        assert post_login(app.test_client(), "drifty", handle.passphrase,
                          previous).status_code == 303


def test_failures_are_generic_and_audited(app, session_factory, services):
    freeze_mid_totp_step(services)
    handle = new_account(session_factory, services, "gina")
    code = current_code(services, session_factory, handle.id)
    for username, passphrase, totp in [("nobody", "whatever passphrase", code),
                                       ("gina", "wrong passphrase here", code),
                                       ("gina", handle.passphrase,
                                        wrong_code(services, session_factory, handle.id)),
                                       ("gina", handle.passphrase, "")]:
        response = post_login(app.test_client(), username, passphrase, totp)
        assert response.status_code == 400 and GENERIC in response.data
    assert audit_actions(session_factory).count("session:login:fail") == 4
    assert sessions(session_factory) == 0
    with session_factory() as s:
        details = [e.detail for e in s.execute(select(AuditEvent)).scalars()]
    assert not any("nobody" in d or "gina" in d for d in details)


def test_names_no_account_can_have_fail_generically(app, session_factory, services):
    """A NUL (which PostgreSQL text refuses) or other impossible name is the same generic
    failure as an unknown one, found without a lookup."""
    for username in ["\x00", "gi\x00na", "-x", "é"]:
        response = post_login(app.test_client(), username, "whatever passphrase")
        assert response.status_code == 400 and GENERIC in response.data, username
    assert audit_actions(session_factory).count("session:login:fail") == 4


def test_new_session_id_at_each_login(app, session_factory, services):
    handle = new_account(session_factory, services, "rita")
    client = app.test_client()
    client.set_cookie(cookie_name(app), "fixated.value")
    post_login(client, "rita", handle.passphrase,
               current_code(services, session_factory, handle.id))
    first = client.get_cookie(cookie_name(app)).value
    assert first != "fixated.value"
    with session_factory() as s:
        s.execute(select(Reviewer)).scalars().all()
    services.clock.now = lambda: datetime.now(UTC) + timedelta(seconds=31)
    post_login(app.test_client(), "rita", handle.passphrase,
               current_code(services, session_factory, handle.id))
    assert sessions(session_factory) == 2


def _mid_window(minutes: int) -> datetime:
    """A moment in the middle of the current throttle window, so that no window rolls over
    while a test runs."""
    now = datetime.now(UTC)
    start = now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)
    return start + timedelta(minutes=minutes / 2)


def test_account_throttle_and_lockout(app, session_factory, services):
    moment = _mid_window(15)
    services.clock.now = lambda: moment
    handle = new_account(session_factory, services, "lock")
    for _ in range(staff_auth.ACCOUNT_LIMIT):
        assert GENERIC in post_login(app.test_client(), "lock", "wrong passphrase x", "").data
    blocked = post_login(app.test_client(), "lock", handle.passphrase,
                         current_code(services, session_factory, handle.id))
    assert blocked.status_code == 429
    assert b"Try again in" in blocked.data and int(blocked.headers["Retry-After"]) > 0
    with session_factory() as s:
        reviewer = s.get(Reviewer, handle.id)
        assert reviewer.failed_logins == staff_auth.ACCOUNT_LIMIT
        assert reviewer.locked_until is not None


def test_global_throttle(app, session_factory, services, monkeypatch):
    monkeypatch.setattr(staff_auth, "GLOBAL_LIMIT", 3)
    moment = _mid_window(1)
    services.clock.now = lambda: moment
    for _ in range(3):
        assert post_login(app.test_client(), "x", "y", "").status_code == 400
    assert post_login(app.test_client(), "x", "y", "").status_code == 429


def test_deactivated_account_cannot_log_in(app, session_factory, services):
    handle = new_account(session_factory, services, "gone")
    from core.db import transaction
    from core.staff.accounts import deactivate_reviewer
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "gone")
    response = post_login(app.test_client(), "gone", handle.passphrase,
                          current_code(services, session_factory, handle.id))
    assert GENERIC in response.data


def test_reauthentication_for_sensitive_actions(app, session_factory, services, world):
    """Granting asks for the passphrase again once the last entry (the login counts) is over
    five minutes old. (Revealing an identity always asks: test_reveal.py.)"""
    client = login_client(app, session_factory, services, world.on_case)
    grant = f"/cases/{world.case_id}/grant"
    assert client.get(grant).status_code == 200  # fresh login
    services.clock.now = lambda: datetime.now(UTC) + timedelta(minutes=6)
    # Keep the session alive past the idle limit check: it was created "now".
    with session_factory.begin() as s:
        for row in s.execute(select(ReviewerSession)).scalars():
            row.last_seen_at = services.clock.now()
    response = client.get(grant)
    assert response.status_code == 302 and "/reauth" in response.location
    token = csrf(client, "/reauth")
    wrong = client.post("/reauth", data={"csrf_token": token, "passphrase": "nope nope nope",
                                         "next": grant})
    assert wrong.status_code == 400 and b"not correct" in wrong.data
    right = client.post("/reauth", data={"csrf_token": token,
                                         "passphrase": world.on_case.passphrase,
                                         "next": grant})
    assert right.status_code == 303 and right.location.endswith(grant)
    assert client.get(grant).status_code == 200
    assert "session:reauth" in audit_actions(session_factory)


def test_csrf_is_required(app, session_factory, services):
    """The 400 is the CSRF refusal: the view never runs (no login attempt is recorded), and
    the same post with the page's token reaches it."""
    handle = new_account(session_factory, services, "csrfy")
    client = app.test_client()
    data = {"username": "csrfy", "passphrase": handle.passphrase,
            "code": wrong_code(services, session_factory, handle.id)}
    before = audit_actions(session_factory)
    refused = client.post("/login", data=data)
    assert refused.status_code == 400
    assert b"Something was wrong with that request" in refused.data
    assert audit_actions(session_factory) == before
    answered = client.post("/login", data={**data, "csrf_token": csrf(client, "/login")})
    # A refused login is a 400 too, but the login form's own, not the request's refusal.
    assert GENERIC in answered.data and b"Something was wrong" not in answered.data
    assert audit_actions(session_factory)[len(before):] == ["session:login:fail"]


def test_rehash_and_rewrap_when_kdf_changes(app, session_factory, services):
    from dataclasses import replace

    from crypto.kdf import KdfProfile
    from crypto.reviewer_keys import unwrap_private_key, wrapped_key_profile
    handle = new_account(session_factory, services, "rehash")
    stronger = KdfProfile(time_cost=2, memory_kib=16, parallelism=1)
    services.config = replace(services.config, kdf=stronger)
    response = post_login(app.test_client(), "rehash", handle.passphrase,
                          current_code(services, session_factory, handle.id))
    assert response.status_code == 303
    with session_factory() as s:
        reviewer = s.get(Reviewer, handle.id)
        assert "t=2" in reviewer.passphrase_hash and "m=16" in reviewer.passphrase_hash
        assert wrapped_key_profile(reviewer.wrapped_private_key) == stronger
        assert unwrap_private_key(reviewer.wrapped_private_key,
                                  handle.passphrase) == handle.private_key


def test_logout_ends_the_session(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    token = csrf(client, "/cases")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert sessions(session_factory) == 0
    assert client.get("/cases").status_code == 302
    assert "session:logout" in audit_actions(session_factory)


def test_roles_land_on_their_pages(app, session_factory, services, world):
    for handle, target in [(world.admin, "/admin"), (world.auditor, "/audit"),
                           (world.on_case, "/cases")]:
        client = login_client(app, session_factory, services, handle)
        assert client.get("/").location.endswith(target)
    auditor_client = login_client(app, session_factory, services, world.auditor)
    auditor = auditor_client.get("/audit")
    assert b"never case content" in auditor.data and b"Log out" in auditor.data
    assert auditor_client.get("/auditor").location.endswith("/audit")
    # Landing elsewhere is not only a redirect: the other roles' pages refuse them.
    assert auditor_client.get("/cases").status_code == 403
    assert auditor_client.get("/admin").status_code == 403
    admin_client = login_client(app, session_factory, services, world.admin)
    assert admin_client.get("/cases").status_code == 403
    assert admin_client.get("/admin").status_code == 200
