"""Staff mail carries a Date (the time it is sent) and a Message-ID under the configured
sender's domain, which names neither the machine nor the process."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from email.utils import parsedate_to_datetime

import pytest

from core.operations.notifications import message_id, send_mail
from tests.core.operations import mail_server

smtp = mail_server.smtp

SENT_AT = datetime(2026, 3, 9, 14, 5, 7, tzinfo=UTC)


def _headers(raw: bytes):
    return message_from_bytes(raw, policy=default)


def test_each_mail_has_a_date_and_a_message_id(services, smtp):
    services.config = replace(services.config, smtp_sender="Candor <candor@mail.example.org>")
    services.clock.now = lambda: SENT_AT
    assert send_mail(services, ["a@example.org", "b@example.org"], "Subject", "Body\n") == 2
    ids = []
    for _rcpt, raw in smtp.messages:
        message = _headers(raw)
        assert parsedate_to_datetime(message["Date"]) == SENT_AT
        assert message["Date"] == "Mon, 09 Mar 2026 14:05:07 +0000"
        ids.append(message["Message-ID"])
    assert len(set(ids)) == 2
    for value in ids:
        assert re.fullmatch(r"<[0-9a-f]{32}@mail\.example\.org>", value), value


def test_the_message_id_leaks_no_host_name_or_process(services, smtp):
    services.config = replace(services.config, smtp_sender="alerts@example.org")
    assert send_mail(services, ["a@example.org"], "Subject", "Body\n") == 1
    value = _headers(smtp.messages[0][1])["Message-ID"]
    left, _, domain = value.strip("<>").partition("@")
    assert domain == "example.org"
    assert str(os.getpid()) not in left
    for name in {socket.gethostname(), socket.getfqdn()} - {"localhost", ""}:
        assert name not in value


@pytest.mark.parametrize(("sender", "domain"), [
    ("candor@localhost", "localhost"),
    ("Candor <candor@Example.ORG>", "Example.ORG"),
    ("candor", "localhost"),  # no domain configured: never the machine's name
    ("", "localhost"),
])
def test_message_id_domain(sender, domain):
    assert message_id(sender).endswith(f"@{domain}>")
