"""Login, logout, TOTP enrolment, passphrase change, re-authentication, language."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_babel import gettext as _

from core.errors import InvalidInput
from core.kdf_slots import SlotsBusy
from core.models import Role
from core.staff import authentication as staff_auth
from core.staff import login as staff_login
from core.staff import passphrase_change as own_change
from core.staff.authentication import NextStep
from core.staff.passphrase_change import PassphraseChange, PassphraseChangeResult
from reviewer.console import console
from reviewer.forms import (
    ChangePassphraseForm,
    CodeForm,
    LanguageForm,
    LoginForm,
    ReauthForm,
    form_page_status,
)
from reviewer.session import (
    clear_session_cookie,
    current,
    home_url,
    login_required,
    reauthenticate,
    role_required,
    set_session_cookie,
)
from reviewer.totp_display import grouped_secret, qr_svg
from web.database import commit, db
from web.i18n import SESSION_KEY as LANGUAGE_KEY
from web.i18n import safe_next, set_language

blueprint = Blueprint("auth", __name__)


def too_many(seconds: int) -> tuple[str, int, dict[str, str]]:
    """The 429 page: "try again in N seconds"."""
    return (render_template("reviewer/throttled.html", seconds=seconds), 429,
            {"Retry-After": str(seconds)})


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Username, passphrase and TOTP code on one form; one generic error for any failure."""
    if g.get("auth") is not None:
        return redirect(home_url(current().reviewer.role))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    if form.validate_on_submit():
        c = console()
        attempt = staff_login.admit_login(db(), c.services, form.username.data or "")
        if attempt.retry_after is not None:
            return too_many(attempt.retry_after)
        # The throttles are charged and the account read: end that transaction before the
        # Argon2id (on SQLite it holds the write lock every other request needs).
        commit()
        try:
            check = staff_login.check_passphrase(c.services, attempt,
                                                 form.passphrase.data or "")
        except SlotsBusy as busy:
            staff_login.refuse_busy(db(), c.services, attempt)
            return too_many(busy.retry_after)
        result = staff_login.finish_login(db(), c.services, attempt, check, form.code.data)
        if result.ok and result.token is not None:
            language = flask_session.get(LANGUAGE_KEY)
            flask_session.clear()  # new CSRF token with the new session
            if language:
                flask_session[LANGUAGE_KEY] = language
            if result.key_restored:  # the owner is told as well as the admins
                flash(_("The public key stored for your account had been changed in the "
                        "database. It has been put right, and the administrators were "
                        "alerted. Tell your security team if you did not expect this."))
            if result.next_step is NextStep.ENROL_TOTP:
                target = url_for("auth.enrol")
            elif result.next_step is NextStep.CHANGE_PASSPHRASE:
                target = url_for("auth.change_passphrase")
            else:
                target = safe_next(form.next.data, "/")
            response = redirect(target, code=303)
            set_session_cookie(response, result.token)
            return response
        error = _("The details you entered are not correct.")
    elif request.method == "POST":
        error = _("The details you entered are not correct.")
    form.passphrase.data = ""
    form.code.data = ""
    return render_template("reviewer/login.html", form=form, error=error), form_page_status()


@blueprint.post("/logout")
@login_required
def logout() -> Any:
    """End the session at once (the row is deleted)."""
    staff_auth.logout(db(), console().services, current())
    flask_session.clear()
    response = redirect(url_for("auth.login"), code=303)
    clear_session_cookie(response)
    return response


@blueprint.route("/enrol", methods=["GET", "POST"])
@login_required
def enrol() -> Any:
    """First login (or after a reset): scan the QR code, confirm with a code."""
    auth = current()
    if auth.reviewer.totp_confirmed:
        return redirect(url_for("index"))
    if auth.reviewer.wrapped_private_key is not None:
        # An account with keys re-enrols at login with a code from the new secret its admin
        # handed over; the passphrase alone must not show that secret (a session opened
        # before that rule).
        abort(409)
    c = console()
    provisioning = staff_auth.provisioning_uri(c.services, auth.reviewer)
    if provisioning is None:
        abort(409)
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if staff_auth.confirm_totp(db(), c.services, auth.reviewer, form.code.data):
            step = auth.next_step()
            target = (url_for("auth.change_passphrase") if step is NextStep.CHANGE_PASSPHRASE
                      else home_url(auth.reviewer.role))
            return redirect(target, code=303)
        error = _("That code is not correct. Wait for the next code and try again.")
    elif request.method == "POST":
        error = _("Enter the 6-digit code from your authenticator app.")
    form.code.data = ""
    uri, secret = provisioning
    return render_template("reviewer/enrol.html", form=form, error=error, qr=qr_svg(uri),
                           secret=grouped_secret(secret)), form_page_status()


@blueprint.route("/passphrase", methods=["GET", "POST"])
@login_required
def change_passphrase() -> Any:
    """Change one's passphrase (forced at first login and after a reset)."""
    auth = current()
    form = ChangePassphraseForm()
    error = None
    if form.validate_on_submit():
        try:
            outcome = _change_own_passphrase(form.current.data or "", form.new.data or "")
        except InvalidInput as exc:
            form.new.errors = [_translate_policy(str(exc))]
        except SlotsBusy as busy:
            return too_many(busy.retry_after)
        else:
            if outcome.outcome is PassphraseChange.CHANGED:
                flash(_("Your passphrase was changed. Use the new one from now on."))
                response = redirect(home_url(auth.reviewer.role), code=303)
                if outcome.token is not None:  # enrolment completed: the session with the keys
                    set_session_cookie(response, outcome.token)
                return response
            error = {
                PassphraseChange.WRONG_CURRENT: _("The current passphrase is not correct."),
                PassphraseChange.THROTTLED:
                    _("Too many attempts. Please wait a few minutes and try again."),
            }.get(outcome.outcome, _("Your account changed while your passphrase was being "
                                     "checked (an admin may have reset it). Nothing was "
                                     "changed: please try again."))
    for field in (form.current, form.new, form.confirm):
        field.data = ""
    return render_template("reviewer/change_passphrase.html", form=form, error=error,
                           forced=auth.reviewer.must_change_passphrase,
                           waiting=not auth.reviewer.approved), form_page_status()


def _change_own_passphrase(current_text: str, new_text: str) -> PassphraseChangeResult:
    """The change in three steps (core.staff.passphrase_change): throttle and snapshot,
    then the Argon2ids with no transaction open (on SQLite one holds the write lock every
    other request needs), then the check against the account reloaded and the write.
    InvalidInput for a refused new passphrase; SlotsBusy (audited) when no slot frees."""
    auth, services = current(), console().services
    basis = own_change.admit_change(db(), services, auth, current_text, new_text)
    if basis.retry_after is not None:
        return PassphraseChangeResult(PassphraseChange.THROTTLED)
    commit()
    try:
        prepared = services.kdf_slots.run(lambda: own_change.prepare_change(
            services.config.kdf, basis, current_text, new_text))
    except SlotsBusy:
        staff_auth.login_failed(db(), services, auth.reviewer, "passphrase-change-busy")
        raise
    return own_change.finish_change(db(), services, auth, basis, prepared)


def _translate_policy(message: str) -> str:
    """The passphrase policy's messages, in the console's language."""
    # flask_babel is untyped (gettext returns Any); the annotations pin the results to str.
    known: dict[str, str] = {
        "Use at least 12 characters.": _("Use at least 12 characters."),
        "This passphrase is too easy to guess. Try several unrelated words.":
            _("This passphrase is too easy to guess. Try several unrelated words."),
        "Choose a passphrase different from the current one.":
            _("Choose a passphrase different from the current one."),
    }
    fallback: str = _("This passphrase cannot be used.")
    return known.get(message, fallback)


@blueprint.route("/reauth", methods=["GET", "POST"])
@login_required
def reauth() -> Any:
    """Re-enter the passphrase before a sensitive action."""
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    if form.validate_on_submit():
        ok, wait = reauthenticate(form.passphrase.data or "")
        if wait is not None:
            return too_many(wait)
        if ok:
            return redirect(safe_next(form.next.data, "/"), code=303)
        error = _("The passphrase is not correct.")
    elif request.method == "POST":
        error = _("Enter your passphrase.")
    form.passphrase.data = ""
    return render_template("reviewer/reauth.html", form=form, error=error), form_page_status()


@blueprint.post("/language")
def language() -> Any:
    """Remember the language choice (on the account too, when logged in)."""
    form = LanguageForm()
    if form.validate_on_submit() and set_language(form.language.data or ""):
        auth = g.get("auth")
        if auth is not None:
            auth.reviewer.language = form.language.data
    return redirect(safe_next(form.next.data, "/"), code=303)


@blueprint.get("/auditor")
@role_required(Role.AUDITOR)
def auditor() -> Any:
    """The auditor's old landing page: now the access log."""
    return redirect(url_for("audit_log.events"), code=303)
