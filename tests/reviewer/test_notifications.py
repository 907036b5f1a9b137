"""Notification emails through a real SMTP server (aiosmtpd on 127.0.0.1, a free port)."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from sqlalchemy import update

from core.cases.content import ReportContent
from core.db import transaction
from core.models import PendingNotification, Reviewer
from core.operations.notifications import (
    queue_case_notification,
    send_deadline_reminders,
    send_pending_notifications,
)
from tests.core.factories import seed_categories, submit
from tests.reviewer.conftest import CANARY, new_account


class Collect(Sink):
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(services):
    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    services.config = replace(services.config, smtp_host="127.0.0.1", smtp_port=port,
                              console_url="https://console.example.org/")
    yield handler
    controller.stop()


@pytest.fixture
def team(session_factory, services):
    alice = new_account(session_factory, services, "alice")
    bob = new_account(session_factory, services, "bob")
    carol = new_account(session_factory, services, "carol")  # no email address
    with transaction(session_factory) as s:
        s.execute(update(Reviewer).where(Reviewer.id == alice.id).values(email="a@example.org"))
        s.execute(update(Reviewer).where(Reviewer.id == bob.id).values(email="b@example.org"))
    seed_categories(session_factory, {"security": [alice.id, carol.id]})
    return alice, bob, carol


def assert_no_content(raw: bytes, reference: str) -> None:
    text = raw.decode("utf-8", "replace")
    for secret in (reference, CANARY, "security", "Security", "安全", "Printer"):
        assert secret not in text, secret


def test_new_activity_is_queued_then_sent_in_one_batch(session_factory, services, smtp, team):
    result = submit(session_factory, services, category="security",
                    report=ReportContent(summary="Printer", description=CANARY))
    with transaction(session_factory) as s:
        # Two events for the same team member: one mark, no mail yet.
        assert queue_case_notification(s, result.case_id) == 1
        assert queue_case_notification(s, result.case_id) == 1
    assert smtp.messages == []
    with session_factory() as s:
        assert s.query(PendingNotification).count() == 1
    with transaction(session_factory) as s:
        assert send_pending_notifications(s, services) == 1
    with transaction(session_factory) as s:
        assert send_pending_notifications(s, services) == 0  # the marks were cleared
    assert [m[0] for m in smtp.messages] == [["a@example.org"]]
    body = smtp.messages[0][1]
    assert b"There is new activity in Candor." in body
    assert b"https://console.example.org/" in body
    for _, raw in smtp.messages:
        assert_no_content(raw, result.reference)


def test_deadline_reminders(session_factory, services, smtp, team):
    result = submit(session_factory, services, category="security",
                    report=ReportContent(summary="Printer", description=CANARY))
    with session_factory() as s:
        assert send_deadline_reminders(s, services, services.clock.today()) == 0
        later = services.clock.today() + timedelta(days=6)
        assert send_deadline_reminders(s, services, later) == 1
    assert smtp.messages[0][0] == ["a@example.org"]
    assert_no_content(smtp.messages[0][1], result.reference)


def test_failure_to_send_never_breaks_the_caller(session_factory, services, team, caplog):
    services.config = replace(services.config, smtp_host="127.0.0.1", smtp_port=free_port())
    result = submit(session_factory, services, category="security")
    with transaction(session_factory) as s:
        queue_case_notification(s, result.case_id)
    with transaction(session_factory) as s:
        assert send_pending_notifications(s, services) == 0
    with session_factory() as s:
        # Nothing was sent, so the mark stays for the next run.
        assert s.query(PendingNotification).count() == 1
    assert "a@example.org" not in caplog.text
    assert "could not be sent" in caplog.text


def test_remind_command(session_factory, services, smtp, team, config, tmp_path):
    from click.testing import CliRunner

    from cli.context import CliContext
    from cli.remind_command import remind
    submit(session_factory, services, category="security")
    services.clock.now = (lambda real=services.clock.now: real() + timedelta(days=30))
    obj = CliContext(_config=services.config)
    obj._services = services
    result = CliRunner().invoke(remind, [], obj=obj)
    assert result.exit_code == 0, result.output
    assert "Sent 1 reminder" in result.output and len(smtp.messages) == 1
    obj.close()
