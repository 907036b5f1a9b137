"""Administration: the dashboard and staff accounts. Admins see no case content. What waits for
a second administrator (intake routing, approvals) is in reviewer.views.admin_changes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests
from wtforms import Field

from core.errors import Conflict, InvalidInput
from core.kdf_slots import SlotsBusy
from core.models import ChangeKind, Reviewer, Role, StaffChange
from core.staff import account_contact
from core.staff import authentication as staff_auth
from core.staff.account_contact import KEEP, Keep
from core.staff.accounts import (
    MAX_DISPLAY_NAME,
    LastAdminError,
    check_new_username,
    deactivate_reviewer,
    get_reviewer_by_id,
    list_reviewers,
    reset_totp,
)
from core.staff.approvals import (
    ChangeAlreadyPending,
    pending_changes,
    request_account,
    request_display_name,
    reset_with_approval,
)
from core.staff.overview import (
    KEY_ALARM_DAYS,
    admin_overview,
    recent_key_alarms,
    untrusted_keys,
)
from core.staff.passphrases import HashedPassphrase, one_time_passphrase
from reviewer.account_actions import ACTIONS, action_texts
from reviewer.console import console
from reviewer.forms import (
    AddReviewerForm,
    ConfirmForm,
    EditAccountForm,
    form_page_status,
)
from reviewer.session import current, current_actor, reauth_required, still_current
from reviewer.session import role_required as _role_required
from reviewer.totp_display import grouped_secret, qr_svg
from web.database import attempt, commit, db

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = _role_required(Role.ADMIN)


@blueprint.get("")
@admin_only
def dashboard() -> Any:
    """Alarms and routing problems first, then the numbers an admin may see (no case
    content)."""
    overview = admin_overview(db(), console().services.keyring)
    return render_template("reviewer/admin_dashboard.html", unrouted=overview.unrouted,
                           tampered_routes=overview.tampered_routes,
                           unreached=overview.unreached, waiting=overview.waiting_accounts,
                           counts=overview.active_accounts, total_cases=overview.total_cases,
                           key_alarms=untrusted_keys(db(), console().services.keyring),
                           recent_alarms=recent_key_alarms(db(), console().services.clock.today()),
                           alarm_days=KEY_ALARM_DAYS, pending=len(pending_changes(db())))


@blueprint.get("/reviewers")
@admin_only
def reviewers() -> Any:
    """Every staff account with its state."""
    return render_template("reviewer/admin_reviewers.html", reviewers=list_reviewers(db()))


@blueprint.route("/reviewers/new", methods=["GET", "POST"])
@admin_only
@reauth_required
def new_reviewer() -> Any:
    """Create an account; its one-time passphrase is shown once."""
    form = AddReviewerForm()
    if form.validate_on_submit():
        try:
            # A taken or invalid name is refused before the Argon2id (again in the write).
            check_new_username(db(), form.username.data or "")
            temporary = _one_time_passphrase()
            with attempt():
                created = request_account(db(), console().services, current_actor(),
                                          username=form.username.data or "",
                                          role=Role(form.role.data), passphrase=temporary,
                                          email=form.email.data or None,
                                          display_name=form.display_name.data or None)
        except Conflict:
            form.username.errors = [_("This username is already taken.")]
        except InvalidInput as exc:
            if exc.field == "display_name":
                form.display_name.errors = [_display_name_refused(exc)]
            else:
                form.username.errors = [_("Use a-z, 0-9, dot, dash and underscore.")]
        else:
            return render_template("reviewer/admin_created.html",
                                   reviewer=created.reviewer, passphrase=temporary.text)
    return render_template("reviewer/admin_new_reviewer.html", form=form), form_page_status()


@blueprint.route("/reviewers/<account:reviewer_id>/edit", methods=["GET", "POST"])
@admin_only
@reauth_required
def edit_account(reviewer_id: int) -> Any:
    """Change an account's email address and display name (an empty field removes it).

    The passphrase must have been entered recently, as for the other changes to an existing
    account (account_action): a session left open must not redirect a colleague's
    notifications. No second admin approves an address: it opens nothing (mail never holds
    case content). A case handler's new display name waits for a second admin
    (core.staff.approvals): reporters choose whom to leave out of their report by it, so one
    admin renaming two handlers could make a reporter leave out the wrong one (outside
    tester). The access log names the admin and which field changed, never the values."""
    target = get_reviewer_by_id(db(), reviewer_id)
    names_wait = target.role is Role.REVIEWER
    form = EditAccountForm(data={"email": target.email or "",
                                 "display_name": target.display_name or ""})
    pending_name = _pending_name(target)
    if form.validate_on_submit():
        new_name = _new_value(form.display_name)
        try:
            with attempt():  # a refusal undoes whatever it wrote: nothing is changed
                asked = (request_display_name(db(), console().services, current_actor(),
                                              target.username, new_name)
                         if names_wait and new_name is not KEEP else None)
                _edit_contact(target, email=_new_value(form.email),
                              display_name=KEEP if names_wait else new_name,
                              name_asked=asked is not None)
        except ChangeAlreadyPending:
            form.display_name.errors = [_("A new name for this account already waits for a "
                                          "second administrator: it is decided on the "
                                          "Approvals page first.")]
        except InvalidInput as exc:
            if exc.field == "display_name":
                form.display_name.errors = [_display_name_refused(exc)]
            else:
                form.email.errors = [_("Enter an email address.")]
        except Conflict:
            form.form_errors.append(_("Nothing to change: the account already has this email "
                                      "address and name."))
        else:
            if asked is not None:
                flash(_("The new name of %(username)s waits for a second administrator's "
                        "approval; any change of email address is saved.",
                        username=target.username))
            else:
                flash(_("Saved the email address and name of %(username)s.",
                        username=target.username))
            return redirect(url_for("admin.reviewers"), code=303)
    return render_template("reviewer/admin_edit_account.html", target=target, form=form,
                           names_wait=names_wait, pending_name=pending_name), \
        form_page_status()


def _edit_contact(target: Reviewer, *, email: str | None | Keep,
                  display_name: str | None | Keep, name_asked: bool) -> None:
    """Save what changes at once; "nothing to change" is no refusal when a new name was
    asked for in the same post."""
    try:
        account_contact.edit_account(db(), console().services, target.username,
                                     actor=current_actor(), email=email, display_name=display_name)
    except Conflict:
        if not name_asked:
            raise


def _pending_name(target: Reviewer) -> StaffChange | None:
    """The display-name change of `target` that waits for a second admin, if any."""
    return next((c for c in pending_changes(db())
                 if c.kind is ChangeKind.DISPLAY_NAME and c.reviewer_id == target.id), None)


def _display_name_refused(exc: InvalidInput) -> str:
    """Why a display name was refused (core.staff.accounts), in the console's language."""
    if str(exc).startswith("Another account"):
        taken: str = _("Another account is shown to reporters under this name, or one that "
                       "looks like it: choose one that tells them apart.")
        return taken
    if str(exc).startswith("A display name may contain"):
        invisible: str = _("Use visible characters and spaces only: control, format and "
                           "blank characters cannot be told apart on the reporters' form.")
        return invisible
    too_long: str = _("Use at most %(count)d characters.", count=MAX_DISPLAY_NAME)
    return too_long


def _new_value(field: Field) -> str | None | Keep:
    """The posted value (None: remove it), or KEEP for a field the POST did not send: a
    client that posts only the name must not remove the address."""
    if field.name not in request.form:
        return KEEP
    return field.data or None


@blueprint.route("/reviewers/<account:reviewer_id>/<action>", methods=["GET", "POST"])
@admin_only
@reauth_required
def account_action(reviewer_id: int, action: str) -> Any:
    """Deactivate, reset TOTP, reset passphrase or end sessions, after a confirm step."""
    if action not in ACTIONS:
        abort(404)
    target = get_reviewer_by_id(db(), reviewer_id)
    if action == "deactivate" and not target.active:
        abort(409)
    form = ConfirmForm()
    title, explanation = action_texts(action)
    if form.validate_on_submit():
        services, actor = console().services, current().unlocked.actor
        temporary = None
        totp = None
        if action == "deactivate":
            try:
                deactivate_reviewer(db(), services, target.username, actor=actor)
            except LastAdminError:
                flash(_("The last active administrator cannot be deactivated: add another "
                        "administrator first."))
                return redirect(url_for("admin.reviewers"), code=303)
        elif action == "reset-totp":
            # Shown to the admin to hand over: an account with keys needs a code from it at
            # its next login (core.staff.login), and the console never shows it to them.
            new = reset_totp(db(), services, target.username, actor=actor)
            totp = (qr_svg(new.provisioning_uri), grouped_secret(new.totp_secret))
        elif action == "reset-passphrase":
            temporary = reset_with_approval(db(), services, actor, target.username,
                                            _one_time_passphrase())
        else:
            staff_auth.revoke_sessions(db(), services, actor, target)
        if target.id == current().reviewer.id and action not in ("reset-passphrase",
                                                                 "reset-totp"):
            return redirect(url_for("auth.login"), code=303)
        return render_template("reviewer/admin_done.html", target=target, title=title,
                               passphrase=temporary, totp=totp,
                               waits=temporary is not None and not target.approved)
    return render_template("reviewer/admin_confirm.html", target=target, form=form,
                           title=title, explanation=explanation,
                           action=action), form_page_status()


def _one_time_passphrase() -> HashedPassphrase:
    """A one-time passphrase, hashed with no transaction open (what the request read is
    committed first: on SQLite a transaction holds the write lock every other request
    needs); 429 when no kdf slot frees in time."""
    commit()
    services = console().services
    try:
        hashed = services.kdf_slots.run(lambda: one_time_passphrase(services.config.kdf))
    except SlotsBusy as busy:
        raise TooManyRequests(retry_after=busy.retry_after) from None
    # The admin may have been deactivated, or signed out, while it ran.
    still_current(Role.ADMIN)
    return hashed
