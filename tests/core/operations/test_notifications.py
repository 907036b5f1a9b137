"""core.operations.notifications through a real SMTP server: marks queued without a time, sent
in one generic batch, deadline reminders, and who is (not) written to."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from core.audit.log import Actor
from core.cases.casework import change_status
from core.cases.content import ReportContent
from core.cases.team_changes import exclude_member, grant_case
from core.db import transaction
from core.models import Case, CaseStatus, PendingNotification, Reviewer
from core.operations.notifications import (
    queue_case_notification,
    send_deadline_reminders,
    send_mail,
    send_pending_notifications,
)
from core.staff.accounts import deactivate_reviewer
from tests.core.factories import add_reviewer, seed_categories, submit, walk_to
from tests.core.operations import mail_server

CANARY = "CANARY-5e21b0 report text"

# The SMTP server fixture, shared with the console's reminder command test.
smtp = mail_server.smtp


@pytest.fixture
def team(session_factory, services):
    """alice and carol receive security cases; carol has no email; bob has one, no case."""
    alice = add_reviewer(session_factory, services, "alice")
    bob = add_reviewer(session_factory, services, "bob")
    carol = add_reviewer(session_factory, services, "carol")
    with transaction(session_factory) as s:
        s.execute(update(Reviewer).where(Reviewer.id == alice.id).values(email="a@example.org"))
        s.execute(update(Reviewer).where(Reviewer.id == bob.id).values(email="b@example.org"))
    seed_categories(session_factory, {"security": [alice.id, carol.id]}, services=services)
    return alice, bob, carol


def assert_no_content(raw: bytes, reference: str) -> None:
    text = raw.decode("utf-8", "replace")
    for secret in (reference, CANARY, "security", "Security", "安全", "Printer"):
        assert secret not in text, secret


def _submit(session_factory, services):
    return submit(session_factory, services, category="security",
                  report=ReportContent(summary="Printer", description=CANARY))


def _marks(session_factory) -> int:
    with session_factory() as s:
        return s.query(PendingNotification).count()


def _case(session_factory, case_id: int) -> tuple[CaseStatus, date, date]:
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case.status, case.acknowledge_due, case.feedback_due


def test_new_activity_is_queued_then_sent_in_one_batch(session_factory, services, smtp, team):
    result = _submit(session_factory, services)
    with transaction(session_factory) as s:
        # Two events for the same team member: one mark, no mail yet.
        assert queue_case_notification(s, result.case_id) == 1
        assert queue_case_notification(s, result.case_id) == 1
    assert smtp.messages == []
    assert _marks(session_factory) == 1
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
    result = _submit(session_factory, services)
    with session_factory() as s:
        assert send_deadline_reminders(s, services, services.clock.today()) == 0
        later = services.clock.today() + timedelta(days=6)
        assert send_deadline_reminders(s, services, later) == 1
    assert smtp.messages[0][0] == ["a@example.org"]
    assert_no_content(smtp.messages[0][1], result.reference)


def test_failure_to_send_never_breaks_the_caller(session_factory, services, team, caplog):
    services.config = replace(services.config, smtp_host="127.0.0.1",
                              smtp_port=mail_server.free_port())
    result = submit(session_factory, services, category="security")
    with transaction(session_factory) as s:
        queue_case_notification(s, result.case_id)
    with transaction(session_factory) as s:
        assert send_pending_notifications(s, services) == 0
    # Nothing was sent, so the mark stays for the next run.
    assert _marks(session_factory) == 1
    assert "a@example.org" not in caplog.text
    assert "could not be sent" in caplog.text


def test_only_active_members_with_an_address_are_marked(session_factory, services, team):
    """Guards the filters of the queue: a member excluded from the case, a deactivated account
    and one without an email address get no mark (an excluded member must not even learn that
    the case moved)."""
    alice, bob, _carol = team
    result = _submit(session_factory, services)
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, result.case_id, s.get(Reviewer, bob.id))
    with transaction(session_factory) as s:
        assert queue_case_notification(s, result.case_id) == 2  # alice and bob, not carol
    with transaction(session_factory) as s:
        send_pending_notifications(s, services)  # no SMTP host: nothing sent, marks kept
    assert _marks(session_factory) == 2

    with transaction(session_factory) as s:
        exclude_member(s, services, Actor.system(), result.case_id, s.get(Reviewer, bob.id))
        s.query(PendingNotification).delete()
    with transaction(session_factory) as s:
        assert queue_case_notification(s, result.case_id) == 1
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "alice")
    with transaction(session_factory) as s:
        assert queue_case_notification(s, result.case_id) == 0


def test_send_mail_sends_one_message_per_address(services, smtp):
    """Guards the de-duplication of recipients, and that without a mail server configured
    nothing is attempted (0, no error)."""
    sent = send_mail(services, ["b@example.org", "a@example.org", "b@example.org"], "S", "B")
    assert sent == 2
    assert sorted(m[0][0] for m in smtp.messages) == ["a@example.org", "b@example.org"]
    assert send_mail(services, [], "S", "B") == 0
    services.config = replace(services.config, smtp_host=None)
    assert send_mail(services, ["a@example.org"], "S", "B") == 0
    assert len(smtp.messages) == 2


def test_acknowledgement_reminder_starts_three_days_ahead(session_factory, services, smtp,
                                                          team):
    """Guards the horizon of the reminder: from `within_days` before the acknowledgement
    deadline on, not a day earlier."""
    result = _submit(session_factory, services)
    _status, acknowledge_due, _feedback_due = _case(session_factory, result.case_id)
    with session_factory() as s:
        assert send_deadline_reminders(s, services, acknowledge_due - timedelta(days=4)) == 0
        assert send_deadline_reminders(s, services, acknowledge_due - timedelta(days=3)) == 1
        assert send_deadline_reminders(s, services, acknowledge_due + timedelta(days=30)) == 1
        assert send_deadline_reminders(s, services, acknowledge_due - timedelta(days=1),
                                       within_days=0) == 0


def test_reminders_follow_the_stage(session_factory, services, smtp, team):
    """Guards which deadline counts in which stage: once acknowledged only the feedback date
    does; after feedback was given, or once the case is closed, none does."""
    result = _submit(session_factory, services)
    _status, acknowledge_due, _ = _case(session_factory, result.case_id)
    with transaction(session_factory) as s:
        change_status(s, services, Actor.system(), s.get(Case, result.case_id),
                      CaseStatus.ACKNOWLEDGED)
    _status, _, feedback_due = _case(session_factory, result.case_id)
    assert feedback_due > acknowledge_due + timedelta(days=30)
    with session_factory() as s:
        assert send_deadline_reminders(s, services, acknowledge_due + timedelta(days=1)) == 0
        assert send_deadline_reminders(s, services, feedback_due - timedelta(days=3)) == 1
    for stage in (CaseStatus.FEEDBACK_GIVEN, CaseStatus.CLOSED):
        with transaction(session_factory) as s:
            walk_to(s, services, Actor.system(), s.get(Case, result.case_id), stage)
        with session_factory() as s:
            assert send_deadline_reminders(s, services, feedback_due + timedelta(days=1)) == 0
    assert [m[0] for m in smtp.messages] == [["a@example.org"]]


def test_owners_of_due_corrective_actions_are_reminded(session_factory, services, smtp, team):
    """bob owns an action on a case whose own deadlines are met: he alone is reminded once it
    is due soon, and no more once it is done."""
    from core.cases.actions import add_action, update_action
    from core.cases.team_changes import grant_case
    from core.models import ActionStatus

    alice, bob, _carol = team
    result = _submit(session_factory, services)
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, result.case_id, s.get(Reviewer, bob.id))
        walk_to(s, services, Actor.system(), s.get(Case, result.case_id),
                CaseStatus.FEEDBACK_GIVEN)
        action = add_action(s, services, alice.unlocked, result.case_id, title="Patch",
                            notes="", owner_id=bob.id,
                            due_on=services.clock.today() + timedelta(days=20))
        action_id = action.id
    today = services.clock.today()
    with session_factory() as s:
        assert send_deadline_reminders(s, services, today) == 0
        assert send_deadline_reminders(s, services, today + timedelta(days=18)) == 1
    assert smtp.messages[-1][0] == ["b@example.org"]
    assert CANARY not in str(smtp.messages[-1]) and "Patch" not in str(smtp.messages[-1])
    with transaction(session_factory) as s:
        update_action(s, services, alice.unlocked, result.case_id, action_id,
                      status=ActionStatus.DONE, note="Patched.")
    with session_factory() as s:
        assert send_deadline_reminders(s, services, today + timedelta(days=30)) == 0
