"""Administration: staff accounts, intake routing, the dashboard. Admins see no case content."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.categories.admin import route_intake
from core.categories.lookup import active_categories, unrouted_categories
from core.errors import Conflict, InvalidInput
from core.models import Role
from core.staff import authentication as staff_auth
from core.staff.accounts import (
    add_reviewer,
    deactivate_reviewer,
    get_reviewer_by_id,
    list_reviewers,
    reset_passphrase,
    reset_totp,
)
from core.staff.overview import admin_overview
from reviewer.console import console
from reviewer.forms import AddReviewerForm, ConfirmForm, RoutingForm
from reviewer.session import current, reauth_required
from reviewer.session import role_required as _role_required
from web.database import db
from web.forms import as_choices

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = _role_required(Role.ADMIN)

#: action -> (title, explanation, button label); every one is confirmed on its own page.
ACTIONS = ("deactivate", "reset-totp", "reset-passphrase", "revoke")


def _action_texts(action: str) -> tuple[str, str]:
    return {
        "deactivate": (_("Deactivate this account"),
                       _("The person can no longer log in and their sessions end now. "
                         "This cannot be undone.")),
        "reset-totp": (_("Reset the authenticator app"),
                       _("Their sessions end now. At the next login they scan a new QR code.")),
        "reset-passphrase": (_("Reset the passphrase"),
                             _("They get a one-time passphrase and a NEW key: their cases stay "
                               "unreadable to them until a teammate grants them again or an "
                               "operator runs `candor recover`. This cannot be undone.")),
        "revoke": (_("End all sessions"), _("Every session of this account ends now.")),
    }[action]


@blueprint.get("")
@admin_only
def dashboard() -> Any:
    """Routing problems first, then the numbers an admin may see (no case content)."""
    overview = admin_overview(db())
    return render_template("reviewer/admin_dashboard.html", unrouted=overview.unrouted,
                           counts=overview.active_accounts, total_cases=overview.total_cases)


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
        temporary = "-".join(secrets.token_hex(3) for _ in range(5))
        try:
            with db().begin_nested():
                created = add_reviewer(db(), console().services,
                                       username=form.username.data or "",
                                       role=Role(form.role.data), passphrase=temporary,
                                       email=form.email.data or None,
                                       actor=current().unlocked.actor)
        except Conflict:
            form.username.errors = [_("This username is already taken.")]
        except InvalidInput:
            form.username.errors = [_("Use a-z, 0-9, dot, dash and underscore.")]
        else:
            return render_template("reviewer/admin_created.html",
                                   reviewer=created.reviewer, passphrase=temporary)
    return render_template("reviewer/admin_new_reviewer.html", form=form)


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
    title, explanation = _action_texts(action)
    if form.validate_on_submit():
        services, actor = console().services, current().unlocked.actor
        temporary = None
        if action == "deactivate":
            deactivate_reviewer(db(), services, target.username, actor=actor)
        elif action == "reset-totp":
            reset_totp(db(), services, target.username, actor=actor)
        elif action == "reset-passphrase":
            temporary = reset_passphrase(db(), services, target.username, actor=actor)
        else:
            staff_auth.revoke_sessions(db(), services, actor, target)
        if target.id == current().reviewer.id and action != "reset-passphrase":
            return redirect(url_for("auth.login"), code=303)
        return render_template("reviewer/admin_done.html", target=target, title=title,
                               passphrase=temporary)
    return render_template("reviewer/admin_confirm.html", target=target, form=form,
                           title=title, explanation=explanation, action=action)


@blueprint.route("/routing", methods=["GET", "POST"])
@admin_only
def routing() -> Any:
    """Choose the intake case handlers of each category."""
    categories = active_categories(db())
    eligible = [r for r in list_reviewers(db()) if r.active and r.role is Role.REVIEWER]
    choices = as_choices((r.id, r.username) for r in eligible)
    forms: dict[str, RoutingForm] = {}
    saved = None
    for category in categories:
        posted = request.method == "POST" and request.form.get("category") == category.code
        form = RoutingForm(prefix=category.code, formdata=None if not posted else request.form)
        form.reviewers.choices = choices
        if not posted:
            form.reviewers.data = [r.id for r in category.intake_reviewers
                                   if r.active and r.role is Role.REVIEWER]
        elif form.validate():
            chosen = [r.username for r in eligible if r.id in (form.reviewers.data or [])]
            route_intake(db(), console().services, category.code, chosen,
                         actor=current().unlocked.actor)
            saved = category.code
        forms[category.code] = form
    if request.method == "POST" and saved is None and request.form.get("category") not in forms:
        abort(400)
    unrouted = {c.code for c in unrouted_categories(db())}
    return render_template("reviewer/admin_routing.html", categories=categories, forms=forms,
                           unrouted=unrouted, saved=saved)
