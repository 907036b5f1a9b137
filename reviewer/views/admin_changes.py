"""Changes that wait for a second administrator (four eyes): intake routing proposals, the
list of pending changes, approving or refusing one, and proposing an identity custodian.
Accounts and their own pages are in reviewer.views.admin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.categories.intake_routes import read_routes, routed_handlers, unrouted_categories
from core.categories.lookup import active_categories
from core.errors import AccessDenied, Conflict, InvalidInput
from core.models import ChangeKind, RequestStatus, Role
from core.staff import authentication as staff_auth
from core.staff.accounts import get_reviewer_by_id, list_reviewers
from core.staff.approvals import (
    decide_change,
    intake_of,
    pending_changes,
    request_custodian,
    request_intake,
    tampered_changes,
)
from core.staff.change_tags import change_trusted
from core.staff.enrolment_codes import EnrolmentNotDone, WrongEnrolmentCode, code_of
from core.staff.keys import may_hold_case_keys
from reviewer.console import console
from reviewer.forms import ConfirmForm, DecisionForm, RoutingForm
from reviewer.session import current, current_actor, reauth_required
from reviewer.session import role_required as _role_required
from web.database import attempt, db
from web.forms import as_choices

# The same /admin addresses as the account pages; endpoints are changes.<view>.
blueprint = Blueprint("changes", __name__, url_prefix="/admin")
admin_only = _role_required(Role.ADMIN)


@blueprint.route("/routing", methods=["GET", "POST"])
@admin_only
@reauth_required
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
                    request_intake(db(), console().services, current_actor(), category.code, chosen)
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
    approved (core.staff.change_tags); an account is approved with the enrolment code its
    owner reads out, once they have enrolled."""
    return _approvals_page()


def _approvals_page(code_error: tuple[int, str] | None = None, status: int = 200) -> Any:
    """The approvals page; `code_error` is a change whose approval was refused and why (shown
    beside its code field)."""
    services = console().services
    changes = pending_changes(db())
    enrolled = {c.id for c in changes if c.kind in (ChangeKind.ACCOUNT, ChangeKind.RESET)
                and c.reviewer is not None and code_of(services.keyring, c.reviewer) is not None}
    return render_template("reviewer/admin_approvals.html", changes=changes,
                           me=current().reviewer.id, reviewers=_by_id(), categories=_categories(),
                           intake_of=intake_of, routes=read_routes(db(), services.keyring),
                           tampered=tampered_changes(db(), services), enrolled=enrolled,
                           code_error=code_error, form=DecisionForm(formdata=None)), status


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
        return _reauth_then(url_for("changes.approvals"))
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with attempt():
            change = decide_change(db(), console().services, current_actor(), change_id,
                                   approve=decision == "approve", code=form.code.data)
    except EnrolmentNotDone:
        return _approvals_page((change_id, _(
            "The owner has not completed enrolment yet: approve once they have logged in with "
            "the one-time passphrase and chosen their own.")), 409)
    except WrongEnrolmentCode as wrong:
        if wrong.mistyped:  # a typing error, caught by the check digit: not an attempt
            return _approvals_page((change_id, _(
                "That is not an enrolment code: it has twelve digits, and the last one "
                "checks the others, so a digit was mistyped or left out. Nothing was "
                "approved. Ask the owner to read it to you again.")), 422)
        # 403, so that the access log records the attempt (reviewer.refusals), never the code.
        return _approvals_page((change_id, _(
            "This is not the code on the owner's screen: nothing was approved. Ask the owner to "
            "read it to you again. If they have no code, someone else completed enrolment in "
            "their name: refuse the change and tell your security team.")), 403)
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
    return redirect(url_for("changes.approvals"), code=303)


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
            request_custodian(db(), console().services, current_actor(), target.username,
                              give == "give")
    except (InvalidInput, Conflict):
        flash(_("Only an approved case handler who has completed enrolment can be an identity "
                "custodian."))
    else:
        flash(_("Asked: the change takes effect when another administrator approves it."))
    return redirect(url_for("admin.reviewers"), code=303)
