"""Per-request state: the logged-in reviewer (from the cookie) and the page guards.

`g.auth` is a core.staff.authentication.LoadedSession (account, session row, private key) or
None. The database work of a request goes through web.database (`db()`, committed after the
view unless the response is a server error), as in the portal.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, g, redirect, render_template, request, url_for
from flask import session as flask_session
from werkzeug.wrappers import Response

from core.audit.log import Actor
from core.cases.team import get_case, is_active_member
from core.kdf_slots import SlotsBusy
from core.models import Reviewer, ReviewerSession, Role
from core.session_tokens import SessionToken, parse_session_token
from core.staff import authentication as staff_auth
from core.staff.authentication import LoadedSession, NextStep
from core.staff.enrolment_codes import code_for_session
from reviewer.console import console
from reviewer.destroyed import DESTROYED_CASE_ROUTES, destroyed_case_page
from web.database import commit, db
from web.i18n import SESSION_KEY as LANGUAGE_KEY

F = TypeVar("F", bound=Callable[..., Any])

#: Endpoints reachable while enrolment or a forced passphrase change is pending.
_ALWAYS_ALLOWED = {"auth.logout", "auth.language", "web.static", "static", "index"}
_STEP_ENDPOINT = {NextStep.ENROL_TOTP: "auth.enrol",
                  NextStep.CHANGE_PASSPHRASE: "auth.change_passphrase"}


def current() -> LoadedSession:
    """The logged-in reviewer (only inside views behind login_required)."""
    auth = g.get("auth")
    if auth is None:
        abort(401)
    return cast(LoadedSession, auth)


def current_actor() -> Actor:
    """The logged-in staff member as an audit actor, by account id (no private key: for
    steps that decrypt nothing, such as an admin's)."""
    return Actor.reviewer(current().reviewer.id)


def reauthenticate(passphrase: str) -> tuple[bool, int | None]:
    """Re-enter the passphrase for a sensitive action: (accepted, seconds to wait). The
    per-account throttle is charged first, then what the request read is committed and the
    Argon2id runs outside any transaction (on SQLite a transaction is the write lock every
    other request needs); a refusal for want of a kdf slot is audited too."""
    loaded = current()
    services = console().services
    wait = staff_auth.admit_reauth(db(), services, loaded)
    if wait is not None:
        return False, wait
    commit()
    try:
        checked = staff_auth.check_reauth_passphrase(services, loaded, passphrase)
    except SlotsBusy as busy:
        staff_auth.login_failed(db(), services, loaded.reviewer, "reauth-busy")
        return False, busy.retry_after
    return staff_auth.finish_reauth(db(), services, loaded, checked), None


def still_current(role: Role) -> None:
    """After a commit and slow work (an Argon2id): the session and the account read afresh
    and the account locked (like ending its sessions does). 401 when the session ended or the
    account was deactivated meanwhile, 403 when its role changed."""
    loaded = current()
    reviewer = db().get(Reviewer, loaded.reviewer.id, with_for_update={"key_share": True},
                        populate_existing=True)
    row = db().get(ReviewerSession, loaded.row.id_hash, populate_existing=True)
    if reviewer is None or row is None or not reviewer.active:
        abort(401)
    if reviewer.role is not role:
        abort(403)


def home_url(role: Role) -> str:
    """The landing page of a role."""
    return url_for({Role.ADMIN: "admin.dashboard", Role.AUDITOR: "audit_log.events"}.get(
        role, "inbox.index"))


def set_session_cookie(response: Response, token: SessionToken) -> None:
    """Hand the session token to the browser (HttpOnly, SameSite=Strict, Secure)."""
    c = console()
    response.set_cookie(c.cookie_name, token.encode(), httponly=True, secure=c.secure_cookies,
                        samesite="Strict", path="/")


def clear_session_cookie(response: Response) -> None:
    """Remove the session cookie."""
    c = console()
    response.delete_cookie(c.cookie_name, path="/", secure=c.secure_cookies, httponly=True,
                           samesite="Strict")


def _load() -> Any:
    g.auth = None
    if request.endpoint in ("web.static", "static"):
        return None
    c = console()
    raw = request.cookies.get(c.cookie_name)
    if raw is None:
        return None
    loaded = staff_auth.load_session(db(), c.services, parse_session_token(raw))
    if loaded is None:
        g.clear_cookie = True
        return None
    g.auth = loaded
    language = loaded.reviewer.language
    if language and flask_session.get(LANGUAGE_KEY) != language:
        flask_session[LANGUAGE_KEY] = language
    step = loaded.next_step()
    if step is not NextStep.READY and request.endpoint not in _ALWAYS_ALLOWED \
            and request.endpoint != _STEP_ENDPOINT[step]:
        return redirect(url_for(_STEP_ENDPOINT[step]))
    if not loaded.reviewer.approved and request.endpoint not in _ALWAYS_ALLOWED \
            and request.endpoint not in _STEP_ENDPOINT.values():
        # Made, or its passphrase reset, in the console: it may finish enrolling, and
        # nothing else until a second admin approves it (core.staff.approvals). Without
        # this, a waiting admin or auditor could act, and an admin who reset a colleague's
        # passphrase and authenticator could act in their name.
        # Its enrolment code is read to the approving admin (core.staff.enrolment_codes).
        code = code_for_session(console().services.keyring, loaded.reviewer,
                                loaded.private_key)
        return render_template("reviewer/awaiting_approval.html", code=code), 403
    return None


def _finish(response: Response) -> Response:
    if g.get("clear_cookie"):
        clear_session_cookie(response)
    return response


def install(app: Flask) -> None:
    """Register the per-request hooks."""
    app.before_request(_load)
    app.after_request(_finish)


def login_required(view: F) -> F:
    """Anonymous visitors go to the login page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("auth") is None:
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for("auth.login", next=target))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def role_required(*roles: Role) -> Callable[[F], F]:
    """Logged in with one of `roles`, else 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current().reviewer.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(cast(F, wrapper))

    return decorator


def reauth_required(view: F) -> F:
    """Sensitive actions: the passphrase must have been entered in the last few minutes."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not staff_auth.reauth_fresh(console().services, current()):
            return redirect(url_for("auth.reauth", next=request.path))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def require_member(case_id: int) -> None:
    """404 unless the current reviewer is a non-excluded member of the case (a non-member
    does not even learn that the case exists). For a case whose content retention destroyed,
    also 404, with its notice, on every route but those in DESTROYED_CASE_ROUTES."""
    if not is_active_member(db(), console().services.keyring, case_id, current().reviewer.id):
        abort(404)
    case = get_case(db(), case_id)
    if case.content_destroyed_on is not None and request.endpoint not in DESTROYED_CASE_ROUTES:
        # Retention destroyed the content: the notice instead of a page that would decrypt.
        abort(destroyed_case_page(case, 404))
