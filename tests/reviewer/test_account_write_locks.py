"""No transaction is open while the console hashes or checks a staff passphrase (a change,
an enrolment, an admin's one-time passphrase): on SQLite it would hold the write lock every
other request, reporters' included, needs. And a refusal for want of an Argon2id slot is
audited like any other failed attempt."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from core.db import transaction
from core.kdf_slots import SlotsBusy
from core.models import AuditEvent, Reviewer, Role
from core.staff.accounts import reset_passphrase
from core.staff.authentication import confirm_totp
from core.staff.passphrases import verify_passphrase
from tests.core.factories import strong_passphrase
from tests.reviewer.conftest import (
    World,
    current_code,
    freeze_mid_totp_step,
    login_client,
    new_account,
)
from tests.write_lock_probe import probe_every_argon2id


def _change(client: Any, current: str, new: str) -> Any:
    return client.post("/passphrase", data={"current": current, "new": new, "confirm": new})


def _row(session_factory: Any, reviewer_id: int) -> Reviewer:
    with session_factory() as s:
        row = s.get(Reviewer, reviewer_id)
        assert row is not None
        return row


def _last_failure(session_factory: Any) -> str:
    with session_factory() as s:
        detail = s.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "session:login:fail").order_by(
            AuditEvent.position.desc()).limit(1)).scalar_one()
    return str(json.loads(detail)["reason"])


def test_no_transaction_while_a_handler_changes_their_passphrase(
    app_nocsrf: Flask, world: World, session_factory: Any, services: Any, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = probe_every_argon2id(services, database_url, monkeypatch)
    client = login_client(app_nocsrf, session_factory, services, world.on_case)
    new = strong_passphrase("changed")
    assert _change(client, world.on_case.passphrase, new).status_code == 303
    assert _change(client, "not the passphrase", strong_passphrase()).status_code == 400
    assert held == [False, False]
    row = _row(session_factory, world.on_case.id)
    assert verify_passphrase(row.passphrase_hash, new, services.config.kdf)


def test_no_transaction_while_an_enrolment_makes_the_key_pair(
    app_nocsrf: Flask, session_factory: Any, services: Any, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    freeze_mid_totp_step(services)
    ivy = new_account(session_factory, services, "ivy", ready=False)
    code = current_code(services, session_factory, ivy.id)
    with transaction(session_factory) as s:
        assert confirm_totp(s, services, s.get(Reviewer, ivy.id), code)
    held = probe_every_argon2id(services, database_url, monkeypatch)
    client = login_client(app_nocsrf, session_factory, services, ivy)
    response = _change(client, ivy.passphrase, strong_passphrase("own"))
    assert response.status_code == 303
    assert "Set-Cookie" in response.headers  # the new session holds the new private key
    assert held == [False]
    assert _row(session_factory, ivy.id).public_key is not None


def test_no_transaction_while_an_admin_makes_a_one_time_passphrase(
    app_nocsrf: Flask, world: World, session_factory: Any, services: Any, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = probe_every_argon2id(services, database_url, monkeypatch)
    client = login_client(app_nocsrf, session_factory, services, world.admin)
    created = client.post("/admin/reviewers/new",
                          data={"username": "dora", "role": "reviewer"})
    assert created.status_code == 200 and b'id="one-time-passphrase"' in created.data
    reset = client.post(f"/admin/reviewers/{world.on_case.id}/reset-passphrase")
    assert reset.status_code == 200 and b"candor recover" in reset.data
    assert held == [False, False]
    assert _row(session_factory, world.on_case.id).wrapped_private_key is None


def test_a_change_prepared_across_an_admin_reset_is_refused(
    app_nocsrf: Flask, world: World, session_factory: Any, services: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = services.kdf_slots.run

    def reset_first(work: Any) -> Any:
        with transaction(session_factory) as other:
            reset_passphrase(other, services, world.on_case.username)
        return run(work)

    client = login_client(app_nocsrf, session_factory, services, world.on_case)
    monkeypatch.setattr(services.kdf_slots, "run", reset_first)
    response = _change(client, world.on_case.passphrase, strong_passphrase("new"))
    assert response.status_code == 400 and b"Nothing was changed" in response.data
    row = _row(session_factory, world.on_case.id)
    assert row.wrapped_private_key is None and row.must_change_passphrase
    assert not verify_passphrase(row.passphrase_hash, world.on_case.passphrase,
                                 services.config.kdf)


def _busy(work: Any) -> Any:
    raise SlotsBusy(7)


@pytest.mark.parametrize(("path", "reason"), [
    ("/reauth", "reauth-busy"), ("/passphrase", "passphrase-change-busy")])
def test_a_refusal_for_a_busy_queue_is_audited(
    app_nocsrf: Flask, world: World, session_factory: Any, services: Any,
    monkeypatch: pytest.MonkeyPatch, path: str, reason: str,
) -> None:
    client = login_client(app_nocsrf, session_factory, services, world.on_case)
    monkeypatch.setattr(services.kdf_slots, "run", _busy)
    new = strong_passphrase()
    response = client.post(path, data={"passphrase": world.on_case.passphrase, "next": "/",
                                       "current": world.on_case.passphrase, "new": new,
                                       "confirm": new})
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert _last_failure(session_factory) == reason


def test_a_login_refused_for_a_busy_queue_is_audited(
    app: Flask, world: World, session_factory: Any, services: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.reviewer.test_auth import post_login

    monkeypatch.setattr(services.kdf_slots, "run", _busy)
    response = post_login(app.test_client(), world.on_case.username, world.on_case.passphrase,
                          current_code(services, session_factory, world.on_case.id))
    assert response.status_code == 429
    assert _last_failure(session_factory) == "busy"


def test_an_admin_deactivated_while_the_passphrase_is_hashed_resets_nothing(
    app_nocsrf: Flask, world: World, session_factory: Any, services: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.staff.accounts import deactivate_reviewer

    run = services.kdf_slots.run
    new_account(session_factory, services, "ben", Role.ADMIN)  # not the last admin, then

    def deactivate_first(work: Any) -> Any:
        with transaction(session_factory) as other:
            deactivate_reviewer(other, services, world.admin.username)
        return run(work)

    client = login_client(app_nocsrf, session_factory, services, world.admin)
    monkeypatch.setattr(services.kdf_slots, "run", deactivate_first)
    response = client.post(f"/admin/reviewers/{world.on_case.id}/reset-passphrase")
    assert response.status_code == 401
    row = _row(session_factory, world.on_case.id)
    assert row.wrapped_private_key is not None
    assert verify_passphrase(row.passphrase_hash, world.on_case.passphrase, services.config.kdf)
