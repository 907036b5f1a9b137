"""Audit coverage scenarios of sessions, administration and the auditor's pages: login
(success and failure), logout, enrolment, passphrases, re-authentication, accounts, routing,
custodians, four-eyes approvals, the access log, checkpoints, exports and proofs. (See
audit_calls.py.)"""

from __future__ import annotations

from sqlalchemy import select

from core.audit.checkpoints import sign_checkpoint
from core.audit.log import Actor
from core.audit.log import AuditAction as A
from core.models import Role, StaffChange
from core.staff.approvals import (
    request_account,
    request_custodian,
    request_display_name,
    request_intake,
)
from tests.core.factories import strong_passphrase
from tests.reviewer.audit_calls import TEXT, Call, Ctx, ev, scenario
from tests.reviewer.conftest import current_code, freeze_mid_totp_step, new_account


def _login_data(c: Ctx, username: str, passphrase: str, code: str = "") -> dict[str, str]:
    return {"username": username, "passphrase": passphrase, "code": code}


@scenario("login", "auth.login", A.LOGIN_SUCCEEDED)
def login(c: Ctx) -> Call:
    freeze_mid_totp_step(c.services)
    code = current_code(c.services, c.session_factory, c.alice.id)
    return Call(c.client(None), "POST", "/login", 303, [ev(A.LOGIN_SUCCEEDED, c.alice.id)],
                _login_data(c, c.alice.username, c.alice.passphrase, code))


@scenario("login, wrong passphrase", "auth.login", A.LOGIN_FAILED)
def login_failed(c: Ctx) -> Call:
    freeze_mid_totp_step(c.services)
    code = current_code(c.services, c.session_factory, c.alice.id)
    return Call(c.client(None), "POST", "/login", 400, [ev(A.LOGIN_FAILED, c.alice.id)],
                _login_data(c, c.alice.username, TEXT, code))


@scenario("login, unknown account", "auth.login", A.LOGIN_FAILED)
def login_unknown(c: Ctx) -> Call:
    return Call(c.client(None), "POST", "/login", 400, [ev(A.LOGIN_FAILED, None)],
                _login_data(c, "nobody", TEXT, "123456"))  # nobody to name: the system's


@scenario("logout", "auth.logout", A.LOGOUT)
def logout(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", "/logout", 303, [ev(A.LOGOUT, c.alice.id)], {})


def _newcomer(c: Ctx, *, enrolled: bool):
    """An account an admin just made, logged in with its one-time passphrase (and, with
    `enrolled`, its authenticator app set up)."""
    freeze_mid_totp_step(c.services)
    handle = new_account(c.session_factory, c.services, "newbie", ready=False)
    client = c.client(None)
    assert client.post("/login", data=_login_data(c, "newbie", handle.passphrase)
                       ).status_code == 303
    if enrolled:
        code = current_code(c.services, c.session_factory, handle.id)
        assert client.post("/enrol", data={"code": code}).status_code == 303
    return handle, client


@scenario("enrol the authenticator app", "auth.enrol", A.REVIEWER_TOTP_ENROLLED)
def enrol(c: Ctx) -> Call:
    handle, client = _newcomer(c, enrolled=False)
    code = current_code(c.services, c.session_factory, handle.id)
    return Call(client, "POST", "/enrol", 303, [ev(A.REVIEWER_TOTP_ENROLLED, handle.id)],
                {"code": code})


@scenario("own passphrase at enrolment", "auth.change_passphrase",
          A.REVIEWER_PASSPHRASE_CHANGED, A.REVIEWER_KEYS_CREATED)
def first_passphrase(c: Ctx) -> Call:
    handle, client = _newcomer(c, enrolled=True)
    new = strong_passphrase("own")
    return Call(client, "POST", "/passphrase", 303,
                [ev(A.REVIEWER_PASSPHRASE_CHANGED, handle.id),
                 ev(A.REVIEWER_KEYS_CREATED, handle.id)],
                {"current": handle.passphrase, "new": new, "confirm": new})


@scenario("change one's passphrase", "auth.change_passphrase", A.REVIEWER_PASSPHRASE_CHANGED)
def change_passphrase(c: Ctx) -> Call:
    new = strong_passphrase("changed")
    return Call(c.client(c.alice), "POST", "/passphrase", 303,
                [ev(A.REVIEWER_PASSPHRASE_CHANGED, c.alice.id)],
                {"current": c.alice.passphrase, "new": new, "confirm": new})


@scenario("re-authenticate", "auth.reauth", A.SESSION_REAUTHENTICATED)
def reauth(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", "/reauth", 303,
                [ev(A.SESSION_REAUTHENTICATED, c.alice.id)],
                {"passphrase": c.alice.passphrase, "next": "/cases"})


@scenario("access log", "audit_log.events", A.AUDIT_LOG_READ)
def audit_events(c: Ctx) -> Call:
    return Call(c.client(c.world.auditor), "GET", f"/audit?case={c.case}", 200,
                [ev(A.AUDIT_LOG_READ, c.world.auditor.id, c.case)])  # filtered by the case


@scenario("checkpoints page", "audit_log.checkpoints", A.AUDIT_LOG_READ)
def audit_checkpoints(c: Ctx) -> Call:
    return Call(c.client(c.world.auditor), "GET", "/audit/checkpoints", 200,
                [ev(A.AUDIT_LOG_READ, c.world.auditor.id)])


@scenario("sign a checkpoint", "audit_log.sign_now", A.CHECKPOINT_SIGNED)
def sign_now(c: Ctx) -> Call:
    return Call(c.client(c.world.auditor), "POST", "/audit/checkpoints", 303,
                [ev(A.CHECKPOINT_SIGNED, c.world.auditor.id)], {})


@scenario("export", "audit_log.export", A.AUDIT_EXPORTED)
def export(c: Ctx) -> Call:
    return Call(c.client(c.world.auditor), "POST", "/audit/export", 200,
                [ev(A.AUDIT_EXPORTED, c.world.auditor.id)], {})


@scenario("proof", "audit_log.proof", A.AUDIT_PROOF_MADE)
def proof(c: Ctx) -> Call:
    with c.tx() as s:
        sign_checkpoint(s, c.services)
    return Call(c.client(c.world.auditor), "POST", "/audit/proof", 200,
                [ev(A.AUDIT_PROOF_MADE, c.world.auditor.id)],
                {"kind": "inclusion", "value": "0"})


@scenario("new account", "admin.new_reviewer", A.REVIEWER_ADDED, A.STAFF_CHANGE_REQUESTED)
def new_reviewer(c: Ctx) -> Call:
    admin = c.world.admin.id
    return Call(c.client(c.world.admin), "POST", "/admin/reviewers/new", 200,
                [ev(A.REVIEWER_ADDED, admin), ev(A.STAFF_CHANGE_REQUESTED, admin)],
                {"username": "dora", "role": "reviewer", "email": "dora@example.org"})


def _account_action(c: Ctx, action: str, *events: A) -> Call:
    admin = c.world.admin.id
    return Call(c.client(c.world.admin), "POST", f"/admin/reviewers/{c.alice.id}/{action}",
                200, [ev(e, admin) for e in events], {})


@scenario("deactivate", "admin.account_action", A.REVIEWER_DEACTIVATED)
def deactivate(c: Ctx) -> Call:
    return _account_action(c, "deactivate", A.REVIEWER_DEACTIVATED)


@scenario("reset the authenticator", "admin.account_action", A.REVIEWER_TOTP_RESET)
def reset_totp(c: Ctx) -> Call:
    return _account_action(c, "reset-totp", A.REVIEWER_TOTP_RESET)


@scenario("reset the passphrase", "admin.account_action", A.REVIEWER_PASSPHRASE_RESET,
          A.STAFF_CHANGE_REQUESTED)
def reset_passphrase(c: Ctx) -> Call:
    # Someone else's account then waits for a second admin (core.staff.approvals).
    return _account_action(c, "reset-passphrase", A.REVIEWER_PASSPHRASE_RESET,
                           A.STAFF_CHANGE_REQUESTED)


@scenario("end the sessions", "admin.account_action", A.SESSION_REVOKED)
def revoke(c: Ctx) -> Call:
    c.client(c.alice)  # a session to end
    return _account_action(c, "revoke", A.SESSION_REVOKED)


@scenario("edit an account's email", "admin.edit_account", A.REVIEWER_EDITED)
def edit_account(c: Ctx) -> Call:
    return Call(c.client(c.world.admin), "POST", f"/admin/reviewers/{c.alice.id}/edit", 303,
                [ev(A.REVIEWER_EDITED, c.world.admin.id)],
                {"email": "alice@example.org"})


@scenario("ask for a case handler's new name", "admin.edit_account", A.STAFF_CHANGE_REQUESTED)
def rename_handler(c: Ctx) -> Call:
    return Call(c.client(c.world.admin), "POST", f"/admin/reviewers/{c.alice.id}/edit", 303,
                [ev(A.STAFF_CHANGE_REQUESTED, c.world.admin.id)],
                {"display_name": "Alice W."})  # waits for a second admin: nothing else yet


@scenario("propose routing", "changes.routing", A.STAFF_CHANGE_REQUESTED)
def routing(c: Ctx) -> Call:
    return Call(c.client(c.world.admin), "POST", "/admin/routing", 200,
                [ev(A.STAFF_CHANGE_REQUESTED, c.world.admin.id)],
                {"category": "environment", "environment-reviewers": [str(c.alice.id)]})


@scenario("propose a custodian", "changes.custodian", A.STAFF_CHANGE_REQUESTED)
def custodian(c: Ctx) -> Call:
    return Call(c.client(c.world.admin), "POST",
                f"/admin/reviewers/{c.alice.id}/custodian/give", 303,
                [ev(A.STAFF_CHANGE_REQUESTED, c.world.admin.id)], {})


def _proposed(c: Ctx, how) -> tuple[int, int]:
    """A second admin proposes a change (`how(session, actor)`); (its id, theirs)."""
    second = new_account(c.session_factory, c.services, "second.admin", Role.ADMIN)
    with c.tx() as s:
        how(s, Actor.reviewer(second.id))
    with c.session_factory() as s:
        change = s.execute(select(StaffChange.id)).scalar_one()
    return change, second.id


@scenario("approve routing", "changes.decide", A.STAFF_CHANGE_DECIDED, A.CATEGORY_CHANGED)
def approve_routing(c: Ctx) -> Call:
    change, second = _proposed(c, lambda s, actor: request_intake(
        s, c.services, actor, "environment", [c.alice.username]))
    return Call(c.client(c.world.admin), "POST", f"/admin/approvals/{change}/approve", 303,
                [ev(A.CATEGORY_CHANGED, second),  # the change is its requester's
                 ev(A.STAFF_CHANGE_DECIDED, c.world.admin.id)], {})


@scenario("approve a custodian", "changes.decide", A.STAFF_CHANGE_DECIDED,
          A.REVIEWER_CUSTODIAN_CHANGED)
def approve_custodian(c: Ctx) -> Call:
    change, second = _proposed(c, lambda s, actor: request_custodian(
        s, c.services, actor, c.alice.username, True))
    return Call(c.client(c.world.admin), "POST", f"/admin/approvals/{change}/approve", 303,
                [ev(A.REVIEWER_CUSTODIAN_CHANGED, second),
                 ev(A.STAFF_CHANGE_DECIDED, c.world.admin.id)], {})


@scenario("approve a case handler's name", "changes.decide", A.STAFF_CHANGE_DECIDED,
          A.REVIEWER_EDITED)
def approve_name(c: Ctx) -> Call:
    change, second = _proposed(c, lambda s, actor: request_display_name(
        s, c.services, actor, c.alice.username, "Alice W."))
    return Call(c.client(c.world.admin), "POST", f"/admin/approvals/{change}/approve", 303,
                [ev(A.REVIEWER_EDITED, second),  # the change is its requester's
                 ev(A.STAFF_CHANGE_DECIDED, c.world.admin.id)], {})


@scenario("refuse an account", "changes.decide", A.STAFF_CHANGE_DECIDED)
def refuse_account(c: Ctx) -> Call:
    change, _second = _proposed(c, lambda s, actor: request_account(
        s, c.services, actor, username="mallory", role=Role.REVIEWER,
        passphrase=strong_passphrase("one-time")))
    return Call(c.client(c.world.admin), "POST", f"/admin/approvals/{change}/refuse", 303,
                [ev(A.STAFF_CHANGE_DECIDED, c.world.admin.id)], {})
