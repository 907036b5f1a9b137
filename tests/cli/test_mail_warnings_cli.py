"""`candor notify` and `candor remind` say on standard error why mail reached nobody (or fewer
than it should), with counts only; the exit status stays 0 and a quiet run prints nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from click import Command
from click.testing import CliRunner, Result

from cli.context import CliContext
from cli.notify_command import notify
from cli.remind_command import remind
from core.db import transaction
from core.operations.notifications import queue_notifications
from core.staff.account_contact import edit_account
from tests.core.factories import add_reviewer, seed_categories, submit
from tests.core.operations import mail_server

smtp = mail_server.smtp


def invoke(command: Command, services) -> Result:
    obj = CliContext(_config=services.config)
    obj._services = services
    try:
        result = CliRunner().invoke(command, [], obj=obj)
    finally:
        obj.close()
    assert result.exit_code == 0, result.output
    return result


def set_email(session_factory, services, username, email):
    with transaction(session_factory) as s:
        edit_account(s, services, username, email=email)


def mark(session_factory, *reviewer_ids):
    with transaction(session_factory) as s:
        queue_notifications(s, reviewer_ids)


def test_notify_warns_when_no_case_handler_has_an_address(session_factory, services, smtp):
    nobody = invoke(notify, services)
    assert "Sent 0 notification" in nobody.stdout
    assert "there is no active case handler" in nobody.stderr

    add_reviewer(session_factory, services, "alice")
    add_reviewer(session_factory, services, "bob")
    result = invoke(notify, services)
    assert "Sent 0 notification" in result.stdout
    assert result.stderr.startswith("Warning: none of the 2 active case handler(s) has an "
                                    "email address: notification emails reach nobody.")
    assert "candor reviewer edit NAME --email ADDRESS" in result.stderr
    assert "alice" not in result.stderr  # counts only: cron mails this output
    assert smtp.messages == []


def test_a_quiet_or_successful_run_warns_of_nothing(session_factory, services, smtp):
    alice = add_reviewer(session_factory, services, "alice")
    set_email(session_factory, services, "alice", "a@example.org")
    quiet = invoke(notify, services)
    assert "Sent 0 notification" in quiet.stdout and quiet.stderr == ""
    mark(session_factory, alice.id)
    sent = invoke(notify, services)
    assert "Sent 1 notification" in sent.stdout and sent.stderr == ""


def test_notify_warns_when_the_server_accepts_nothing(session_factory, services):
    services.config = replace(services.config, smtp_host="127.0.0.1",
                              smtp_port=mail_server.free_port())  # nothing listens there
    alice = add_reviewer(session_factory, services, "alice")
    set_email(session_factory, services, "alice", "a@example.org")
    mark(session_factory, alice.id)
    result = invoke(notify, services)
    assert "Sent 0 notification" in result.stdout
    assert "the mail server accepted 0 of 1 notification email(s)" in result.stderr
    assert "stay queued for the next run" in result.stderr
    assert "a@example.org" not in result.stderr


def test_notify_warns_of_marks_whose_address_was_removed(session_factory, services, smtp):
    alice = add_reviewer(session_factory, services, "alice")
    add_reviewer(session_factory, services, "bob")
    set_email(session_factory, services, "alice", "a@example.org")
    set_email(session_factory, services, "bob", "b@example.org")
    mark(session_factory, alice.id)
    set_email(session_factory, services, "alice", None)
    result = invoke(notify, services)
    assert "Sent 0 notification" in result.stdout
    assert ("1 queued notification(s) were for accounts that no longer have an email "
            "address") in result.stderr


def _due_case(session_factory, services, *handlers):
    seed_categories(session_factory, {"security": [h.id for h in handlers]}, services=services)
    submit(session_factory, services, category="security")
    services.clock.now = (lambda real=services.clock.now: real() + timedelta(days=30))


def test_remind_counts_who_is_due_without_an_address(session_factory, services, smtp):
    alice = add_reviewer(session_factory, services, "alice")
    carol = add_reviewer(session_factory, services, "carol")
    set_email(session_factory, services, "alice", "a@example.org")
    _due_case(session_factory, services, alice, carol)
    result = invoke(remind, services)
    assert "Sent 1 reminder" in result.stdout and len(smtp.messages) == 1
    assert result.stderr == ("Warning: 1 account(s) with deadlines due have no email address "
                             "and were not reminded (see `candor reviewer list`).\n")


def test_remind_warns_when_it_reaches_nobody(session_factory, services, smtp):
    carol = add_reviewer(session_factory, services, "carol")
    _due_case(session_factory, services, carol)
    result = invoke(remind, services)
    assert "Sent 0 reminder" in result.stdout and smtp.messages == []
    assert "none of the 1 active case handler(s) has an email address" in result.stderr
    assert "1 account(s) with deadlines due have no email address" in result.stderr
