"""Identity requests: a case member asks for a confidential reporter's identity; an identity
custodian other than the requester approves or refuses (core.cases.identity_requests)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.cases.identity_requests import (
    decide_identity_request,
    read_request,
    request_identity,
    requests_for,
)
from core.cases.team import get_case
from core.errors import Conflict
from core.models import RequestStatus, Role
from reviewer.console import console
from reviewer.forms import IdentityRequestForm, PassphraseConfirmForm
from reviewer.session import current, reauthenticate, require_member
from reviewer.session import role_required as _role_required
from reviewer.views.auth import too_many
from web.database import attempt, db

blueprint = Blueprint("identity", __name__)
role_required = _role_required(Role.REVIEWER)


@blueprint.route("/cases/<id:case_id>/identity-request", methods=["GET", "POST"])
@role_required
def ask(case_id: int) -> Any:
    """Ask the identity custodians for the reporter's identity, with a reason."""
    require_member(case_id)
    case = get_case(db(), case_id)
    form = IdentityRequestForm()
    error = None
    if form.validate_on_submit():
        try:
            with attempt():
                request_identity(db(), console().services, current().unlocked, case_id,
                                 form.reason.data or "")
        except Conflict as exc:
            error = _conflict_text(str(exc))
        else:
            flash(_("Your request was sent to the identity custodians."))
            return redirect(url_for("cases.show", case_id=case_id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("reviewer/identity_request.html", case=case, form=form,
                           error=error), status if error or form.errors else 200


def _conflict_text(message: str) -> str:
    """The refusals of request_identity, in the console's language."""
    known: dict[str, str] = {
        "this report is anonymous: there is no identity to reveal":
            _("This report is anonymous: there is no identity to reveal."),
        "you can already reveal this identity":
            _("You can already reveal this identity."),
        "your request is already waiting for a custodian":
            _("Your request is already waiting for a custodian."),
        "there is no identity custodian who could approve this request":
            _("There is no identity custodian who could approve this request. Ask an "
              "administrator to name one."),
    }
    fallback: str = _("The request could not be made.")
    return known.get(message, fallback)


def _decision_conflict_text(message: str) -> str:
    """What to tell a custodian whose decision was refused (core.cases.identity_requests)."""
    known: dict[str, str] = {
        "this request has already been decided":
            _("This request has already been decided: nothing was changed."),
        "the requester is excluded from this case":
            _("The requester is excluded from this case: the request cannot be approved."),
        "this request was altered outside Candor":
            _("This request was altered outside Candor (someone wrote to the database): it "
              "cannot be approved. Refuse it and tell your security team."),
    }
    fallback: str = _("The request could not be decided.")
    return known.get(message, fallback)


@blueprint.get("/identity-requests")
@role_required
def queue() -> Any:
    """The requests waiting for this custodian (and the ones this reviewer made)."""
    if not current().reviewer.identity_custodian:
        abort(404)
    pending = [r for r in requests_for(db(), console().services, current().unlocked)
               if r.requester != current().reviewer.username]
    return render_template("reviewer/identity_queue.html", requests=pending)


@blueprint.route("/identity-requests/<id:request_id>/<decision>", methods=["GET", "POST"])
@role_required
def decide(request_id: int, decision: str) -> Any:
    """Approve (the identity key is sealed to the requester) or refuse, passphrase first."""
    if decision not in ("approve", "refuse") or not current().reviewer.identity_custodian:
        abort(404)
    view = read_request(db(), console().services, current().unlocked, request_id)
    form = PassphraseConfirmForm()
    if form.validate_on_submit():
        accepted, wait = reauthenticate(form.passphrase.data or "")
        if wait is not None:
            return too_many(wait)
        if accepted:
            try:
                with attempt():  # a refusal leaves nothing of the attempt behind
                    decide_identity_request(db(), console().services, current().unlocked,
                                            request_id, approve=decision == "approve")
            except Conflict as exc:
                # Outside tester: deciding twice answered "Something went wrong".
                form.passphrase.data = ""
                return render_template("reviewer/identity_decide.html", view=view, form=form,
                                       decision=decision,
                                       refused=_decision_conflict_text(str(exc))), 409
            flash(_("The request was approved: the requester can now reveal the identity.")
                  if decision == "approve" else _("The request was refused."))
            return redirect(url_for("identity.queue"), code=303)
        form.passphrase.errors = [_("The passphrase is not correct.")]
    form.passphrase.data = ""
    status = 400 if request.method == "POST" else 200
    decided = (_decision_conflict_text("this request has already been decided")
               if view.status is not RequestStatus.PENDING else None)
    return render_template("reviewer/identity_decide.html", view=view, form=form,
                           decision=decision, refused=decided), status
