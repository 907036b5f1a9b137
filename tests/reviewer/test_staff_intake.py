"""Staff-recorded intake (issue 13), over HTTP, beyond test_staff_recorded.py: every channel a
handler may record is kept in clear and its receipt opens the case in the portal; the receipt
code, the report and the reporter's name reach neither the database nor the logs; the audit
event names the channel and nothing of the reporter; only active categories and the staff
channels are offered; admins and auditors cannot post a report."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from core.db import transaction
from core.intake.reporter import login_submitter, read_case_for_submitter
from core.models import (
    AuditEvent,
    Case,
    Category,
    Channel,
    Disclosure,
    PendingNotification,
    Reviewer,
    Role,
)
from core.services import Services
from tests.core.factories import seed_categories
from tests.reviewer.conftest import login_client, new_account
from tests.security.scanning import database_bytes, receipt_needles, scan_bytes

RECEIPT_RE = re.compile(r'id="receipt-code">([0-9 ]+)<')
STAFF_EVENT = "case:intake:staff"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

Factory = sessionmaker[Session]


def _csrf(client: FlaskClient) -> str:
    found = CSRF_RE.search(client.get("/intake/new").text)
    assert found
    return found.group(1)


def _fields(**changes: str) -> dict[str, str]:
    return {"channel": "hotline", "category": "it_fault", "language": "en",
            "summary": "Caller: badge reader lets anyone in",
            "what_happened": "Since Monday the side door opens for any card.",
            "receipt_explained": "y", **changes}


def _record(client: FlaskClient, **changes: str) -> TestResponse:
    return client.post("/intake/new", data={"csrf_token": _csrf(client), **_fields(**changes)})


def _receipt(response: TestResponse) -> str:
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["Cache-Control"] == "no-store"
    found = RECEIPT_RE.search(response.text)
    assert found, response.text[:2000]
    return found.group(1)


@pytest.mark.parametrize("channel", [Channel.LETTER_BOX, Channel.IN_PERSON, Channel.MAILBOX])
def test_each_staff_channel_is_kept_in_clear_and_its_receipt_opens_the_case(
        app: Flask, session_factory: Factory, services: Services, channel: Channel) -> None:
    recorder = new_account(session_factory, services, "rui")
    seed_categories(session_factory, {"it_fault": [recorder.id]}, services=services)
    client = login_client(app, session_factory, services, recorder)
    summary = f"Reported through {channel.value}"
    receipt = _receipt(_record(client, channel=channel.value, summary=summary))
    with session_factory() as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.channel is channel
        # No name given: an anonymous report, no identity sealed at all.
        assert case.disclosure is Disclosure.ANONYMOUS and case.identity_ciphertext is None
        event = s.execute(select(AuditEvent).where(AuditEvent.action == STAFF_EVENT)
                          ).scalar_one()
        # The recorder and the channel; nothing about the reporter.
        assert event.reviewer_id == recorder.id and event.case_id == case.id
        assert json.loads(event.detail) == {"channel": channel.value}
    with transaction(session_factory) as s:
        view = read_case_for_submitter(s, services, login_submitter(s, services, receipt))
        assert view.report.summary == summary


def test_the_receipt_and_the_report_reach_neither_the_database_nor_the_logs(
        app: Flask, session_factory: Factory, services: Services, engine: Engine,
        database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    handler = new_account(session_factory, services, "hana")
    recorder = new_account(session_factory, services, "rui")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    client = login_client(app, session_factory, services, recorder)
    canaries = {"summary": "CANARY-STAFF-SUMMARY-5d1e", "name": "CANARY-STAFF-NAME-93ab",
                "contact": "CANARY-STAFF-CONTACT-0c77", "text": "金丝雀电话举报内容"}
    response = _record(client, summary=canaries["summary"], what_happened=canaries["text"],
                       name=canaries["name"], contact=canaries["contact"])
    receipt = _receipt(response)
    with session_factory() as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.disclosure is Disclosure.CONFIDENTIAL
        reference = case.reference
    needles = {**canaries, **receipt_needles([receipt])}
    assert scan_bytes(caplog.text.encode(), needles) == set()
    database = database_bytes(database_url, engine, tmp_path / "dump.sql")
    assert scan_bytes(database, needles) == set()
    # Positive control: the scan sees plaintext columns (the staff-facing reference).
    assert scan_bytes(database, {"ref": reference}) == {("ref", "utf-8")}


def test_the_form_offers_the_staff_channels_and_the_active_categories_only(
        app: Flask, session_factory: Factory, services: Services) -> None:
    recorder = new_account(session_factory, services, "rui")
    seed_categories(session_factory, {"it_fault": [recorder.id]}, services=services)
    with transaction(session_factory) as s:
        s.execute(update(Category).where(Category.code == "security").values(active=False))
    client = login_client(app, session_factory, services, recorder)
    page = client.get("/intake/new")
    assert page.status_code == 200
    channels = set(re.findall(r'name="channel"[^>]*value="([a-z_]+)"', page.text)) or set(
        re.findall(r'value="([a-z_]+)"[^>]*name="channel"', page.text))
    assert channels == {"hotline", "letter_box", "in_person", "mailbox"}
    categories = set(re.findall(r'<option[^>]*value="([a-z_]+)"', page.text))
    assert "it_fault" in categories and "security" not in categories
    # A deactivated category is refused even when posted by hand; nothing is stored.
    response = _record(client, category="security")
    assert response.status_code == 400 and not RECEIPT_RE.search(response.text)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    # Outside tester: an empty form listed "This field is required." twice, naming no field.
    empty = client.post("/intake/new", data={"csrf_token": _csrf(client)})
    assert empty.status_code == 400
    assert "This field is required." not in empty.text
    for message in ("Choose a category.", "Choose how it was received.",
                    "Write a one-line summary."):
        assert message in empty.text


def test_admins_and_auditors_cannot_post_a_report(
        app_nocsrf: Flask, session_factory: Factory, services: Services) -> None:
    seed_categories(session_factory)
    for role in (Role.ADMIN, Role.AUDITOR):
        account = new_account(session_factory, services, f"x{role.value}", role)
        client = login_client(app_nocsrf, session_factory, services, account)
        response = client.post("/intake/new", data=_fields())
        assert response.status_code == 403
        assert not RECEIPT_RE.search(response.text)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == STAFF_EVENT)) == 0


def test_the_category_handlers_hear_of_a_recorded_report(
        app: Flask, session_factory: Factory, services: Services) -> None:
    handler = new_account(session_factory, services, "hana")
    recorder = new_account(session_factory, services, "rui")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    with transaction(session_factory) as s:
        s.execute(update(Reviewer).values(email="staff@example.org"))
    client = login_client(app, session_factory, services, recorder)
    _receipt(_record(client))
    with session_factory() as s:
        assert list(s.execute(select(PendingNotification.reviewer_id)).scalars()) == [
            handler.id]
