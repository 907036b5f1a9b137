"""Reviewer sessions (docs/CRYPTO.md): neither the database nor the cookie alone opens the key;
idle and absolute timeouts; logout, revocation and deactivation end sessions at once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.audit.log import Actor
from core.db import transaction
from core.models import Reviewer, ReviewerSession
from core.session_tokens import parse_session_token
from core.staff import authentication as staff_auth
from core.staff.accounts import deactivate_reviewer, reset_passphrase, reset_totp
from crypto.errors import CryptoError
from crypto.keys import unwrap
from tests.reviewer.conftest import cookie_name, login_client


class MovableClock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(services) -> MovableClock:
    movable = MovableClock()
    services.clock.now = movable
    return movable


def test_database_alone_cannot_recover_the_private_key(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    assert client.get("/cases").status_code == 200
    with session_factory() as s:
        rows = s.execute(select(ReviewerSession)).scalars().all()
    assert len(rows) == 1
    row = rows[0]
    assert world.on_case.private_key not in row.sealed_private_key
    # An attacker with the database tries the only things it holds as keys.
    for guess in (row.id_hash, hashlib.sha256(row.id_hash).digest(), bytes(32)):
        with pytest.raises(CryptoError):
            unwrap(guess, row.sealed_private_key)


def test_cookie_alone_cannot_recover_the_private_key(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    token = parse_session_token(client.get_cookie(cookie_name(app)).value)
    assert token is not None
    assert world.on_case.private_key not in token.secret + token.session_id
    # The secret only opens the sealed row; without the database there is nothing to open.
    with session_factory() as s:
        row = s.get(ReviewerSession, token.id_hash)
    assert unwrap(token.secret, row.sealed_private_key) == world.on_case.private_key
    with transaction(session_factory) as s:
        s.delete(s.get(ReviewerSession, token.id_hash))
    assert client.get("/cases").status_code == 302  # the cookie alone logs nobody in
    # A forged cookie with the real session id but another secret opens nothing either.
    login_client(app, session_factory, services, world.on_case)
    with session_factory() as s:
        other = s.execute(select(ReviewerSession)).scalars().first()
    forged = app.test_client()
    forged.set_cookie(cookie_name(app), "A" * 43 + "." + "B" * 43)
    assert forged.get("/cases").status_code == 302
    assert other is not None


def test_idle_timeout(app, session_factory, services, world, clock):
    client = login_client(app, session_factory, services, world.on_case)
    clock.at += timedelta(minutes=14)
    assert client.get("/cases").status_code == 200  # activity keeps it alive
    clock.at += timedelta(minutes=14)
    assert client.get("/cases").status_code == 200
    clock.at += timedelta(minutes=16)
    response = client.get("/cases")
    assert response.status_code == 302 and "/login" in response.location
    with session_factory() as s:
        assert s.execute(select(ReviewerSession)).scalars().all() == []


def test_absolute_timeout(app, session_factory, services, world, clock):
    client = login_client(app, session_factory, services, world.on_case)
    for _ in range(8 * 6 - 1):  # active every 10 minutes for 7 h 50
        clock.at += timedelta(minutes=10)
        assert client.get("/cases").status_code == 200
    clock.at += timedelta(minutes=10)  # 8 hours after login
    assert client.get("/cases").status_code == 302


def test_timeouts_are_configurable(app, session_factory, services, world, clock):
    from dataclasses import replace
    services.config = replace(services.config, reviewer_session_idle_minutes=1)
    client = login_client(app, session_factory, services, world.on_case)
    clock.at += timedelta(minutes=2)
    assert client.get("/cases").status_code == 302


def test_admin_revocation_ends_sessions_at_once(app, session_factory, services, world):
    victim = login_client(app, session_factory, services, world.on_case)
    assert victim.get("/cases").status_code == 200
    with transaction(session_factory) as s:
        staff_auth.revoke_sessions(s, services, Actor.reviewer(world.admin.id),
                                   s.get(Reviewer, world.on_case.id))
    assert victim.get("/cases").status_code == 302


@pytest.mark.parametrize("how", ["deactivate", "reset-passphrase", "reset-totp"])
def test_account_changes_end_sessions(app, session_factory, services, world, how):
    victim = login_client(app, session_factory, services, world.on_case)
    assert victim.get("/cases").status_code == 200
    with transaction(session_factory) as s:
        {"deactivate": deactivate_reviewer, "reset-passphrase": reset_passphrase,
         "reset-totp": reset_totp}[how](s, services, "alice")
    assert victim.get("/cases").status_code == 302


def test_admin_ui_revocation(app, session_factory, services, world):
    from tests.reviewer.test_auth import csrf
    victim = login_client(app, session_factory, services, world.on_case)
    admin = login_client(app, session_factory, services, world.admin)
    path = f"/admin/reviewers/{world.on_case.id}/deactivate"
    page = admin.get(path)
    assert page.status_code == 200 and b"cannot be undone" in page.data
    done = admin.post(path, data={"csrf_token": csrf(admin, path)})
    assert done.status_code == 200
    assert victim.get("/cases").status_code == 302
    with session_factory() as s:
        assert not s.get(Reviewer, world.on_case.id).active


def test_the_last_admin_is_told_they_cannot_deactivate_themselves(app, session_factory,
                                                                   services, world):
    from tests.reviewer.test_auth import csrf
    admin = login_client(app, session_factory, services, world.admin)
    path = f"/admin/reviewers/{world.admin.id}/deactivate"
    refused = admin.post(path, data={"csrf_token": csrf(admin, path)})
    assert refused.status_code == 303
    assert "cannot be deactivated" in admin.get(refused.location).text
    with session_factory() as s:
        assert s.get(Reviewer, world.admin.id).active


def test_insecure_dev_cookies_drop_the_host_prefix(config, services):
    from dataclasses import replace

    from reviewer import create_app
    app = create_app(replace(config, insecure_dev_cookies=True), services=services)
    assert app.extensions["candor.console"].cookie_name == "candor-console"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    app.extensions["candor.database"].engine.dispose()
