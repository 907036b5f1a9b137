"""No transaction is open while a reporter's upload streams in or a receipt's Argon2id runs
(on SQLite a transaction is the write lock that every other request needs)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from core.services import Services
from tests.portal.conftest import (
    csrf_token,
    login_via,
    multipart_body,
    receipt_of,
    report_fields,
)
from tests.write_lock_probe import (
    PausingInput,
    others_hold_a_transaction,
    probe_every_argon2id,
)

FILE = b"evidence " * 40_000  # 360 kB: streamed, not read at once


def _post_paused(client: Any, path: str, body: bytes, content_type: str,
                 while_paused: Callable[[], None]) -> Any:
    stream = PausingInput(body, pause_at=len(body) // 2)
    result: dict[str, Any] = {}

    def send() -> None:
        result["response"] = client.post(path, input_stream=stream, content_type=content_type,
                                         content_length=len(body))

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert stream.reached.wait(30), "the upload never reached its middle"
        while_paused()
    finally:
        stream.release.set()
        sender.join(30)
    return result["response"]


def test_no_transaction_while_a_report_and_a_reply_upload(
    portal_app: Flask, database_url: str
) -> None:
    client = portal_app.test_client()
    page = client.get("/report")
    body, content_type = multipart_body(
        [("csrf_token", csrf_token(page.text)), *report_fields().items()],
        [("attachments", "evidence.txt", FILE)])
    held: list[bool] = []
    sent = _post_paused(client, "/report", body, content_type,
                        lambda: held.append(others_hold_a_transaction(database_url)))
    assert sent.status_code == 200, sent.text
    assert held == [False]
    receipt = receipt_of(sent.text)
    assert login_via(client, receipt).status_code == 303
    case = client.get("/case")
    body, content_type = multipart_body([("csrf_token", csrf_token(case.text)), ("body", "more")],
                                        [("attachments", "more.txt", FILE)])
    replied = _post_paused(client, "/case/reply", body, content_type,
                           lambda: held.append(others_hold_a_transaction(database_url)))
    assert replied.status_code == 303, replied.text
    assert held == [False, False]


def test_no_transaction_while_an_argon2id_runs(
    portal_app: Flask, services: Services, database_url: str, monkeypatch: Any
) -> None:
    held = probe_every_argon2id(services, database_url, monkeypatch)
    client = portal_app.test_client()
    page = client.get("/report")
    body, content_type = multipart_body(
        [("csrf_token", csrf_token(page.text)), *report_fields().items()])
    sent = client.post("/report", data=body, content_type=content_type)
    assert sent.status_code == 200
    receipt = receipt_of(sent.text)
    assert login_via(client, receipt).status_code == 303
    assert held == [False, False]  # the submission's and the login's derivation


def test_the_probe_sees_an_open_transaction(session_factory: Any, database_url: str) -> None:
    # Positive control: the check above would notice a transaction held across the pause.
    from sqlalchemy import text

    assert not others_hold_a_transaction(database_url)
    with session_factory() as s, s.begin():
        s.execute(text("UPDATE audit_head SET size = size"))
        assert others_hold_a_transaction(database_url)
