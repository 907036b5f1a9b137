"""A real SMTP server for the notification tests (aiosmtpd on 127.0.0.1, a free port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from core.services import Services


class Collect(Sink):
    """Keeps every message it receives as (recipients, raw bytes)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    """A local port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(services: Services) -> Iterator[Collect]:
    """A running server; `services` sends through it and names a console URL."""
    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    services.config = replace(services.config, smtp_host="127.0.0.1", smtp_port=port,
                              console_url="https://console.example.org/")
    yield handler
    controller.stop()
