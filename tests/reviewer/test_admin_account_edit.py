"""The console's page for an account's email address and display name (outside tester: admins
could not change them at all). Admins only, after a recent passphrase entry; the access log
names the admin and which field changed, never the values; a refusal changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import (
    ActorKind,
    ChangeKind,
    RequestStatus,
    Reviewer,
    ReviewerSession,
    Role,
    StaffChange,
)
from core.staff.accounts import deactivate_reviewer
from tests.reviewer.audit_calls import events_since, log_size
from tests.reviewer.conftest import login_client, new_account
from tests.reviewer.test_auth import csrf

EDITED = "reviewer:edit"


def _path(account_id: int) -> str:
    return f"/admin/reviewers/{account_id}/edit"


def _edit(client: FlaskClient, account_id: int, **fields: str) -> Any:
    """POST the edit form with the page's CSRF token and `fields`."""
    path = _path(account_id)
    return client.post(path, data={"csrf_token": csrf(client, path), **fields})


def _contact(session_factory: sessionmaker[Session], account_id: int
             ) -> tuple[str | None, str | None]:
    with session_factory() as s:
        reviewer = s.get(Reviewer, account_id)
        assert reviewer is not None
        return reviewer.email, reviewer.display_name


def _edits(session_factory: sessionmaker[Session], size: int) -> list[tuple[Any, ...]]:
    """The reviewer:edit events since `size`: (actor kind, actor id, detail)."""
    return [(e.actor_kind, e.reviewer_id, json.loads(e.detail))
            for e in events_since(session_factory, size) if e.action == EDITED]


def test_an_admin_sets_and_removes_the_email_and_the_name(app, session_factory, services,
                                                          world):
    alice, admin = world.auditor, world.admin  # an auditor: no reporter chooses by its name
    client = login_client(app, session_factory, services, admin)
    listing = client.get("/admin/reviewers").text
    assert f'id="edit-account-{alice.id}"' in listing and "no email address" in listing
    size = log_size(session_factory)
    response = _edit(client, alice.id, email="alice@example.org",
                     display_name="Audrey (internal audit)")
    assert response.status_code == 303 and response.location.endswith("/admin/reviewers")
    assert _contact(session_factory, alice.id) == ("alice@example.org", "Audrey (internal audit)")
    # One event, naming the admin and what changed; the values stay out of the log.
    added = events_since(session_factory, size)
    assert [e.action for e in added] == [EDITED]
    assert _edits(session_factory, size) == [
        (ActorKind.REVIEWER, admin.id,
         {"reviewer_id": alice.id, "email": "set", "display_name": "set"})]
    assert "alice@example.org" not in added[0].detail and "Audrey" not in added[0].detail
    page = client.get("/admin/reviewers").text
    assert "Saved the email address and name of audrey." in page
    assert "alice@example.org" in page and "Audrey (internal audit)" in page
    form = client.get(_path(alice.id)).text  # prefilled with the current values
    assert 'value="alice@example.org"' in form and 'value="Audrey (internal audit)"' in form

    size = log_size(session_factory)
    removed = _edit(client, alice.id, email="", display_name="")
    assert removed.status_code == 303
    assert _contact(session_factory, alice.id) == (None, None)
    assert _edits(session_factory, size) == [
        (ActorKind.REVIEWER, admin.id,
         {"reviewer_id": alice.id, "email": "removed", "display_name": "removed"})]


def test_one_field_changes_alone_and_the_same_values_change_nothing(app, session_factory,
                                                                     services, world):
    alice, admin = world.auditor, world.admin
    client = login_client(app, session_factory, services, admin)
    assert _edit(client, alice.id, email="alice@example.org").status_code == 303
    size = log_size(session_factory)
    # A POST without the email field keeps the address (only the name was sent).
    assert _edit(client, alice.id, display_name="Audrey").status_code == 303
    assert _contact(session_factory, alice.id) == ("alice@example.org", "Audrey")
    assert _edits(session_factory, size) == [
        (ActorKind.REVIEWER, admin.id,
         {"reviewer_id": alice.id, "email": "unchanged", "display_name": "set"})]
    size = log_size(session_factory)
    same = _edit(client, alice.id, email="alice@example.org", display_name="Audrey")
    assert same.status_code == 400 and "Nothing to change" in same.text
    assert events_since(session_factory, size) == []


def test_a_bad_email_is_refused_and_changes_nothing(app, session_factory, services, world):
    alice = world.on_case
    client = login_client(app, session_factory, services, world.admin)
    size = log_size(session_factory)
    response = _edit(client, alice.id, email="not an address")
    assert response.status_code == 400
    page = response.text
    assert 'id="edit-account-form"' in page and "Enter an email address." in page
    assert "form-group-error" in page
    assert _contact(session_factory, alice.id) == (None, None)
    assert events_since(session_factory, size) == []


def _pending_names(session_factory: sessionmaker[Session]) -> list[tuple[int, str | None]]:
    """The display-name changes waiting for a second admin: (account id, proposed name)."""
    with session_factory() as s:
        return [(c.reviewer_id, c.display_name) for c in s.execute(
            select(StaffChange).where(StaffChange.kind == ChangeKind.DISPLAY_NAME,
                                      StaffChange.status == RequestStatus.PENDING)).scalars()]


def _decide(client: FlaskClient, change_id: int, decision: str) -> Any:
    return client.post(f"/admin/approvals/{change_id}/{decision}",
                       data={"csrf_token": csrf(client, "/admin/approvals")})


def test_a_case_handlers_new_name_waits_for_a_second_admin(app, session_factory, services,
                                                           world):
    """Outside tester: one admin could rename two handlers so that a reporter leaves out the
    wrong one. The new name of a case handler takes effect only when another admin approves
    it; the email address in the same post is saved at once."""
    alice, adam = world.on_case, world.admin
    ben = new_account(session_factory, services, "ben", Role.ADMIN)
    first = login_client(app, session_factory, services, adam)
    size = log_size(session_factory)
    asked = _edit(first, alice.id, email="alice@example.org", display_name=" Alice  W. ")
    assert asked.status_code == 303
    assert _contact(session_factory, alice.id) == ("alice@example.org", None)
    assert _pending_names(session_factory) == [(alice.id, "Alice W.")]
    added = events_since(session_factory, size)
    assert [e.action for e in added] == ["admin:change:request", EDITED]
    assert all("Alice W." not in e.detail for e in added)  # the log names no value
    assert "waits for a second administrator" in first.get("/admin/reviewers").text
    form = first.get(_path(alice.id)).text
    assert 'id="display-name-pending"' in form and "Alice W." in form
    # A second name while one waits is refused, and changes nothing.
    size = log_size(session_factory)
    again = _edit(first, alice.id, display_name="Alice Wang")
    assert again.status_code == 400 and "already waits" in again.text
    assert events_since(session_factory, size) == []

    change = _change_of(session_factory, alice.id)
    assert "Another administrator decides." in first.get("/admin/approvals").text
    _decide(first, change, "approve")  # the requester's own approval: refused
    assert _contact(session_factory, alice.id) == ("alice@example.org", None)
    second = login_client(app, session_factory, services, ben)
    listed = second.get("/admin/approvals").text
    assert f'id="approve-{change}"' in listed and "as Alice W. (now: alice)" in listed
    assert _decide(second, change, "approve").status_code == 303
    assert _contact(session_factory, alice.id) == ("alice@example.org", "Alice W.")
    assert _pending_names(session_factory) == []
    edits = _edits(session_factory, size)  # the rename is its requester's, as asked
    assert edits == [(ActorKind.REVIEWER, adam.id, {"reviewer_id": alice.id,
                                                    "email": "unchanged", "display_name": "set"})]


def test_a_name_taken_meanwhile_is_not_applied(app, session_factory, services, world):
    """The swap: asked names are checked again when approved, so two handlers cannot end up
    shown alike, and a refused approval changes nothing."""
    alice, bob = world.on_case, world.not_on_case
    ben = new_account(session_factory, services, "ben", Role.ADMIN)
    first = login_client(app, session_factory, services, world.admin)
    second = login_client(app, session_factory, services, ben)
    assert _edit(first, alice.id, display_name="Robin").status_code == 303
    assert _edit(second, bob.id, display_name="robin").status_code == 303  # not taken yet
    assert _decide(second, _change_of(session_factory, alice.id), "approve").status_code == 303
    assert _contact(session_factory, alice.id) == (None, "Robin")
    bobs = _change_of(session_factory, bob.id)
    size = log_size(session_factory)
    _decide(first, bobs, "approve")
    page = first.get("/admin/approvals").text
    assert "can no longer be applied" in page and "closed without effect" in page
    assert f'id="approve-{bobs}"' not in page  # not left pending for ever
    assert _contact(session_factory, bob.id) == (None, None)
    assert _pending_names(session_factory) == []
    [event] = events_since(session_factory, size)
    assert event.action == "admin:change:decide"
    assert json.loads(event.detail) == {"change_id": bobs, "kind": "display_name",
                                        "decision": "refused", "lapsed": True}
    # Asked now, the taken name is refused at once.
    taken = _edit(first, world.excluded.id, display_name="ROBIN")
    assert taken.status_code == 400
    assert "Another account is shown to reporters under this name" in taken.text


def test_an_admins_and_an_auditors_name_change_at_once(app, session_factory, services,
                                                        world):
    """No reporter chooses by their names: no second admin is asked."""
    client = login_client(app, session_factory, services, world.admin)
    assert _edit(client, world.auditor.id, display_name="Audrey").status_code == 303
    assert _contact(session_factory, world.auditor.id) == (None, "Audrey")
    assert _pending_names(session_factory) == []


def _change_of(session_factory: sessionmaker[Session], account_id: int) -> int:
    with session_factory() as s:
        return s.execute(select(StaffChange.id).where(
            StaffChange.reviewer_id == account_id,
            StaffChange.status == RequestStatus.PENDING)).scalar_one()


def test_a_name_another_account_is_shown_under_is_refused(app, session_factory, services,
                                                         world):
    """Reporters leave handlers out by these names: no account may appear as "Bob"."""
    audrey = world.auditor
    client = login_client(app, session_factory, services, world.admin)
    size = log_size(session_factory)
    response = _edit(client, audrey.id, email="", display_name="BOB")
    assert response.status_code == 400
    assert "Another account is shown to reporters under this name" in response.text
    assert _contact(session_factory, audrey.id) == (None, None)
    assert events_since(session_factory, size) == []
    taken = client.post("/admin/reviewers/new", data={
        "csrf_token": csrf(client, "/admin/reviewers/new"), "username": "dora",
        "role": "reviewer", "email": "", "display_name": "bob"})
    assert taken.status_code == 400
    assert "Another account is shown to reporters under this name" in taken.text


def test_a_deactivated_account_can_lose_its_address(app, session_factory, services, world):
    """A departed colleague's private address need not stay in the database."""
    gone = new_account(session_factory, services, "gone")
    client = login_client(app, session_factory, services, world.admin)
    assert _edit(client, gone.id, email="gone@example.org").status_code == 303
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "gone")
    assert f'id="edit-account-{gone.id}"' in client.get("/admin/reviewers").text
    assert _edit(client, gone.id, email="").status_code == 303
    assert _contact(session_factory, gone.id) == (None, None)


def test_only_admins_edit_accounts(app, session_factory, services, world):
    target = world.not_on_case
    size = log_size(session_factory)
    for handle in (world.on_case, world.auditor):
        client = login_client(app, session_factory, services, handle)
        assert client.get(_path(target.id)).status_code == 403
        # The CSRF token of a page they may open: the refusal is the role's, not the token's.
        token = csrf(client, "/passphrase")
        posted = client.post(_path(target.id), data={"csrf_token": token,
                                                     "email": "x@example.org"})
        assert posted.status_code == 403
    assert _contact(session_factory, target.id) == (None, None)
    assert _edits(session_factory, size) == []
    anonymous = app.test_client().get(_path(target.id))
    assert anonymous.status_code == 302 and "/login" in anonymous.location


def test_a_stale_passphrase_entry_is_asked_again_first(app, session_factory, services,
                                                       world):
    client = login_client(app, session_factory, services, world.admin)
    token = csrf(client, _path(world.on_case.id))
    services.clock.now = lambda: datetime.now(UTC) + timedelta(minutes=6)
    with session_factory.begin() as s:  # the session itself stays alive
        for row in s.execute(select(ReviewerSession)).scalars():
            row.last_seen_at = services.clock.now()
    response = client.post(_path(world.on_case.id), data={"csrf_token": token,
                                                          "email": "x@example.org"})
    assert response.status_code == 302 and "/reauth" in response.location
    assert _contact(session_factory, world.on_case.id) == (None, None)


def test_an_impossible_change_number_is_not_found(app, session_factory, services, world):
    """Outside tester: a change id past the column's range raised an error (500)."""
    client = login_client(app, session_factory, services, world.admin)
    for change in ("9" * 23, "%C2%B2", "0"):
        assert _decide(client, change, "approve").status_code == 404, change
