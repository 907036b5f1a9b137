"""core.staff.account_contact: an existing account's email address and display name, checked
as at creation, audited in the same transaction without the values; and who can be mailed."""

from __future__ import annotations

import json

import pytest

from core.audit.log import Actor, AuditAction
from core.db import transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.models import AuditEvent, Reviewer, Role
from core.staff.account_contact import edit_account, mail_reach
from core.staff.accounts import deactivate_reviewer
from tests.core.factories import add_reviewer, audit_size

ADDRESS = "alice.private@example.org"


def row(session_factory, username="alice"):
    with session_factory() as s:
        reviewer = s.query(Reviewer).filter_by(username=username).one()
        return reviewer.email, reviewer.display_name


def last_event(session_factory):
    with session_factory() as s:
        return s.query(AuditEvent).order_by(AuditEvent.position.desc()).first()


def test_set_and_remove_the_email_address(session_factory, services):
    alice = add_reviewer(session_factory, services, "alice")
    with transaction(session_factory) as s:
        edit_account(s, services, "alice", email=f"  {ADDRESS} ")
    assert row(session_factory) == (ADDRESS, None)
    event = last_event(session_factory)
    assert event.action == AuditAction.REVIEWER_EDITED
    assert json.loads(event.detail) == {"reviewer_id": alice.id, "email": "set",
                                        "display_name": "unchanged"}
    assert "example.org" not in event.detail  # never the address

    with transaction(session_factory) as s:
        edit_account(s, services, "alice", email=None)
    assert row(session_factory) == (None, None)
    assert json.loads(last_event(session_factory).detail)["email"] == "removed"


def test_display_name_is_cleaned_and_not_logged(session_factory, services):
    add_reviewer(session_factory, services, "alice")
    admin = add_reviewer(session_factory, services, "root", Role.ADMIN)
    with transaction(session_factory) as s:
        edit_account(s, services, "alice", display_name="  Alice \t Martin\u00a0",
                     actor=Actor.reviewer(admin.id))
    assert row(session_factory) == (None, "Alice Martin")
    event = last_event(session_factory)
    assert event.reviewer_id == admin.id
    assert json.loads(event.detail)["display_name"] == "set"
    assert "Martin" not in event.detail


@pytest.mark.parametrize("email", ["not an email", "a@" + "b" * 250 + ".org",
                                   "two@a.org, three@b.org", "a@b",
                                   # Outside tester: stored with its brackets.
                                   "<x@example.org>", "Ivy <ivy@example.org>",
                                   "x@ex\u202eample.org", "x;y@example.org"])
def test_a_bad_address_is_refused_as_at_creation(session_factory, services, email):
    add_reviewer(session_factory, services, "alice")
    size = audit_size(session_factory)
    with pytest.raises(InvalidInput, match="Enter an email address like name@example.org"), \
            transaction(session_factory) as s:
        edit_account(s, services, "alice", email=email)
    assert row(session_factory) == (None, None)
    assert audit_size(session_factory) == size


def test_a_too_long_display_name_is_refused(session_factory, services):
    add_reviewer(session_factory, services, "alice")
    with pytest.raises(InvalidInput, match="at most 120"), transaction(session_factory) as s:
        edit_account(s, services, "alice", display_name="x" * 121)


def test_nothing_to_change_and_unknown_accounts(session_factory, services):
    add_reviewer(session_factory, services, "alice")
    with transaction(session_factory) as s:
        edit_account(s, services, "alice", email=ADDRESS, display_name="Alice")
    size = audit_size(session_factory)
    for change in ({}, {"email": ADDRESS}, {"email": ADDRESS, "display_name": "Alice"}):
        with pytest.raises(Conflict, match="nothing to change"), \
                transaction(session_factory) as s:
            edit_account(s, services, "alice", **change)
    with pytest.raises(NotFound), transaction(session_factory) as s:
        edit_account(s, services, "nobody", email=ADDRESS)
    assert audit_size(session_factory) == size


def test_the_change_and_its_event_commit_together(session_factory, services):
    add_reviewer(session_factory, services, "alice")
    size = audit_size(session_factory)
    with pytest.raises(RuntimeError), transaction(session_factory) as s:
        edit_account(s, services, "alice", email=ADDRESS)
        raise RuntimeError("the caller fails later in the transaction")
    assert row(session_factory) == (None, None)
    assert audit_size(session_factory) == size


def test_mail_reach_counts_active_accounts_of_the_roles(session_factory, services):
    handlers = frozenset({Role.REVIEWER})
    with session_factory() as s:
        empty = mail_reach(s, handlers)
    assert (empty.with_email, empty.without_email) == (0, 0)
    for name in ("alice", "bob", "carol", "dave"):
        add_reviewer(session_factory, services, name)
    add_reviewer(session_factory, services, "root", Role.ADMIN)
    with transaction(session_factory) as s:
        edit_account(s, services, "alice", email="a@example.org")
        edit_account(s, services, "dave", email="d@example.org")
        edit_account(s, services, "root", email="r@example.org")
        deactivate_reviewer(s, services, "dave")
    with session_factory() as s:
        reach = mail_reach(s, handlers)
        everyone = mail_reach(s, frozenset(Role))
    assert (reach.with_email, reach.without_email) == (1, 2)  # dave is deactivated
    assert (everyone.with_email, everyone.without_email) == (2, 2)


def test_two_active_accounts_are_never_shown_to_reporters_alike(session_factory, services):
    """Reporters leave handlers out by the names on the form: a rename that made one look
    like another (their display name, or the username of one without) is refused."""
    from core.staff.accounts import add_reviewer as add_account

    add_reviewer(session_factory, services, "ivy")
    add_reviewer(session_factory, services, "bob")
    add_reviewer(session_factory, services, "dan")
    with transaction(session_factory) as s:
        edit_account(s, services, "ivy", display_name="Ivy Wang")
    for taken in ("ivy wang", "IVY WANG ", "Dan"):
        with pytest.raises(InvalidInput, match="Another account"), \
                transaction(session_factory) as s:
            edit_account(s, services, "bob", display_name=taken)
    with pytest.raises(InvalidInput, match="Another account"), \
            transaction(session_factory) as s:
        add_account(s, services, username="carol", role=Role.REVIEWER,
                    passphrase="a one-time passphrase 12", display_name="Ivy Wang")
    assert row(session_factory, "bob") == (None, None)
    # Someone who left frees their name.
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "ivy")
    with transaction(session_factory) as s:
        edit_account(s, services, "bob", display_name="Ivy Wang")
    assert row(session_factory, "bob") == (None, "Ivy Wang")
