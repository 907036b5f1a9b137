"""`candor remind` through a real SMTP server. (The notification use cases themselves are
tested in tests/core/operations/test_notifications.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from core.db import transaction
from core.models import Reviewer
from tests.core.factories import seed_categories, submit
from tests.core.operations import mail_server
from tests.reviewer.conftest import new_account

# The SMTP server fixture of the core notification tests.
smtp = mail_server.smtp


@pytest.fixture
def team(session_factory, services):
    alice = new_account(session_factory, services, "alice")
    bob = new_account(session_factory, services, "bob")
    carol = new_account(session_factory, services, "carol")  # no email address
    with transaction(session_factory) as s:
        s.execute(update(Reviewer).where(Reviewer.id == alice.id).values(email="a@example.org"))
        s.execute(update(Reviewer).where(Reviewer.id == bob.id).values(email="b@example.org"))
    seed_categories(session_factory, {"security": [alice.id, carol.id]}, services=services)
    return alice, bob, carol


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
