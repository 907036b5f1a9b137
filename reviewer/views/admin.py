"""Administration: staff accounts, intake routing, the dashboard. Admins see no case content."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests
from wtforms import Field

from core.audit.log import Actor
from core.categories.intake_routes import read_routes, routed_handlers, unrouted_categories
from core.categories.lookup import active_categories
from core.errors import AccessDenied, Conflict, InvalidInput
from core.kdf_slots import SlotsBusy
from core.models import ChangeKind, RequestStatus, Reviewer, Role, StaffChange
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
    decide_change,
    intake_of,
    pending_changes,
    request_account,
    request_custodian,
    request_display_name,
    request_intake,
    reset_with_approval,
    tampered_changes,
)
from core.staff.change_tags import change_trusted
from core.staff.keys import may_hold_case_keys
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
    RoutingForm,
    form_page_status,
)
from reviewer.session import current, reauth_required, still_current
from reviewer.session import role_required as _role_required
from reviewer.totp_display import grouped_secret, qr_svg
from web.database import attempt, commit, db
from web.forms import as_choices

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = _role_required(Role.ADMIN)

#: action -> (title, explanation, button label); every one is confirmed on its own page.
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
def new_reviewer() -> Any:
    """Create an account; its one-time passphrase is shown once."""
    form = AddReviewerForm()
    if form.validate_on_submit():
        try:
            # A taken or invalid name is refused before the Argon2id (again in the write).
            check_new_username(db(), form.username.data or "")
            temporary = _one_time_passphrase()
            with attempt():
                created = request_account(db(), console().services, _actor(),
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
                asked = (request_display_name(db(), console().services, _actor(),
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
                                     actor=_actor(), email=email, display_name=display_name)
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


def _actor() -> Actor:
    """The logged-in admin as an audit actor (admins hold no case keys: no private key)."""
    return Actor.reviewer(current().reviewer.id)


@blueprint.route("/routing", methods=["GET", "POST"])
@admin_only
def routing() -> Any:
    """Propose the intake case handlers of each category; a second admin approves."""
    categories = active_categories(db())
    routes = read_routes(db(), console().services.keyring)
    eligible = [r for r in list_reviewers(db()) if may_hold_case_keys(r)]
    choices = as_choices((r.id, r.username) for r in eligible)
    forms: dict[str, RoutingForm] = {}
    saved = None
    for category in categories:
        posted = request.method == "POST" and request.form.get("category") == category.code
        form = RoutingForm(prefix=category.code, formdata=None if not posted else request.form)
        form.reviewers.choices = choices
        if not posted:
            # Only routes Candor wrote: one a database writer planted is not offered for
            # approval again (core.categories.intake_routes).
            form.reviewers.data = [r.id for r in routed_handlers(category, routes)
                                   if r.active and r.role is Role.REVIEWER]
        elif form.validate():
            chosen = [r.username for r in eligible if r.id in (form.reviewers.data or [])]
            try:
                with attempt():
                    request_intake(db(), console().services, _actor(), category.code, chosen)
            except Conflict:
                form.reviewers.errors = [_("This is already the category's intake.")]
            else:
                saved = category.code
        forms[category.code] = form
    if request.method == "POST" and saved is None and request.form.get("category") not in forms:
        abort(400)
    unrouted = {c.code for c in unrouted_categories(db(), console().services.keyring)}
    waiting = {c.category_id for c in pending_changes(db()) if c.kind is ChangeKind.INTAKE}
    return render_template("reviewer/admin_routing.html", categories=categories, forms=forms,
                           unrouted=unrouted, saved=saved, waiting=waiting)


@blueprint.get("/approvals")
@admin_only
def approvals() -> Any:
    """Changes waiting for a second admin (four eyes). A routing change shows the intake it
    would replace; a change written or edited outside Candor is marked and cannot be
    approved (core.staff.change_tags)."""
    services = console().services
    return render_template("reviewer/admin_approvals.html", changes=pending_changes(db()),
                           me=current().reviewer.id, reviewers=_by_id(), categories=_categories(),
                           intake_of=intake_of, routes=read_routes(db(), services.keyring),
                           tampered=tampered_changes(db(), services))


def _by_id() -> dict[int, Any]:
    return {r.id: r for r in list_reviewers(db())}


def _categories() -> dict[int, Any]:
    return {c.id: c for c in active_categories(db())}


def _reauth_then(back: str) -> Any:
    """A POST-only sensitive action whose passphrase entry is stale: ask for it, then come
    back to the page the button is on (not to the POST address)."""
    return redirect(url_for("auth.reauth", next=back), code=303)


# <account:>: ASCII digits bounded to a 32-bit id, as staff_changes.id is (Werkzeug's <int:>
# took any number, and one past the column's range raised an error: outside tester).
@blueprint.route("/approvals/<account:change_id>/<decision>", methods=["POST"])
@admin_only
def decide(change_id: int, decision: str) -> Any:
    """Approve (the change takes effect now) or refuse a pending change; the passphrase must
    have been entered in the last few minutes."""
    if decision not in ("approve", "refuse"):
        abort(404)
    if not staff_auth.reauth_fresh(console().services, current()):
        return _reauth_then(url_for("admin.approvals"))
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with attempt():
            change = decide_change(db(), console().services, _actor(), change_id,
                                   approve=decision == "approve")
    except AccessDenied:
        flash(_("A change is approved by an administrator other than the one who asked for "
                "it and the account it concerns."))
    except Conflict:
        flash(_("This change has already been decided."))
    else:
        if decision == "refuse":
            flash(_("Refused: nothing changed."))
        elif change.status is RequestStatus.APPROVED:
            flash(_("Approved: the change is in effect."))
        elif not change_trusted(console().services.keyring, change):  # closed, not vouched for
            flash(_("This change was written or altered outside Candor (someone wrote to the "
                    "database), so it has been closed without effect. Tell your security "
                    "team."))
        else:  # lapsed (core.staff.approvals.decide_change)
            flash(_("This change can no longer be applied (the name was taken meanwhile, or "
                    "someone it names can no longer take part), so it has been closed "
                    "without effect. Ask for it again if it is still wanted."))
    return redirect(url_for("admin.approvals"), code=303)


@blueprint.route("/reviewers/<account:reviewer_id>/custodian/<give>", methods=["POST"])
@admin_only
def custodian(reviewer_id: int, give: str) -> Any:
    """Propose giving or taking away the identity custodian role (a second admin approves)."""
    if give not in ("give", "take"):
        abort(404)
    if not staff_auth.reauth_fresh(console().services, current()):
        return _reauth_then(url_for("admin.reviewers"))
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    target = get_reviewer_by_id(db(), reviewer_id)
    try:
        with attempt():
            request_custodian(db(), console().services, _actor(), target.username,
                              give == "give")
    except (InvalidInput, Conflict):
        flash(_("Only an approved case handler who has completed enrolment can be an identity "
                "custodian."))
    else:
        flash(_("Asked: the change takes effect when another administrator approves it."))
    return redirect(url_for("admin.reviewers"), code=303)
