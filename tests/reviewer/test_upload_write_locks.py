"""No transaction is open while a case handler's attachment streams in (a reply or an evidence
entry): on SQLite it would hold the write lock, and every portal request would wait for the
upload to finish."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.portal.conftest import multipart_body
from tests.portal.test_write_locks import FILE, _post_paused
from tests.reviewer.conftest import World, login_client
from tests.write_lock_probe import others_hold_a_transaction, probe_every_argon2id


@pytest.mark.parametrize(("path", "fields"), [
    ("reply", [("kind", "internal_note"), ("body", "see the file")]),
    ("evidence", [("kind", "file"), ("text", "the log")]),
])
def test_no_transaction_while_a_handler_uploads(
    app_nocsrf: Flask, world: World, session_factory: Any, services: Any, database_url: str,
    path: str, fields: list[tuple[str, str]],
) -> None:
    client = login_client(app_nocsrf, session_factory, services, world.on_case)
    body, content_type = multipart_body(fields, [("attachments", "log.txt", FILE)])
    held: list[bool] = []
    sent = _post_paused(client, f"/cases/{world.case_id}/{path}", body, content_type,
                        lambda: held.append(others_hold_a_transaction(database_url)))
    assert sent.status_code == 303, sent.text
    assert held == [False]


def test_no_transaction_while_a_login_checks_the_passphrase(
    app: Flask, world: World, session_factory: Any, services: Any, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The passphrase's Argon2id and the key's unwrap run between the login's two
    # transactions (core.staff.login).
    from tests.reviewer.conftest import current_code
    from tests.reviewer.test_auth import post_login

    held = probe_every_argon2id(services, database_url, monkeypatch)
    handle = world.on_case
    response = post_login(app.test_client(), handle.username, handle.passphrase,
                          current_code(services, session_factory, handle.id))
    assert response.status_code == 303
    wrong = post_login(app.test_client(), handle.username, "not the passphrase", "000000")
    assert wrong.status_code == 400
    assert held == [False, False]


def test_no_transaction_while_a_passphrase_is_re_entered(
    app_nocsrf: Flask, world: World, session_factory: Any, services: Any, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = probe_every_argon2id(services, database_url, monkeypatch)
    client = login_client(app_nocsrf, session_factory, services, world.on_case)
    wrong = client.post("/reauth", data={"passphrase": "not it", "next": "/"})
    right = client.post("/reauth", data={"passphrase": world.on_case.passphrase, "next": "/"})
    assert wrong.status_code == 400 and right.status_code == 303
    assert held == [False, False]
