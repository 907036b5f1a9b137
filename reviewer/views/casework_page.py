"""The page of a case's evidence log, decision and corrective actions, and its forms: add an
evidence entry (files streamed straight into encrypted blobs under the team key), record or
amend the decision, assign a corrective action and record its follow-up.

As on the case page (reviewer.views.handling), each step runs in a savepoint: a refused step
changes nothing and the page says why (400, 403, 404 or 409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from core.cases import actions as case_actions
from core.cases import workflow
from core.cases.casework import check_reviewer_file_key, store_checked_reviewer_file
from core.cases.casework_reading import CaseworkView, read_casework
from core.cases.evidence import add_evidence
from core.cases.files import StoredFile
from core.cases.team import case_team, get_case
from core.cases.team_changes import may_exclude
from core.cases.transitions import legal_targets
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.models import (
    ActionStatus,
    CaseStatus,
    EvidenceKind,
    Finding,
    KeyKind,
    RecognitionType,
    Role,
    RootCause,
    SanctionType,
)
from reviewer.casework_forms import ActionForm, ActionUpdateForm, DecisionForm, EvidenceForm
from reviewer.console import console
from reviewer.forms import first_form_error
from reviewer.session import current, require_member
from reviewer.session import role_required as _role_required
from reviewer.views.handling import team_choices
from reviewer.views.kept_forms import add_field_error
from reviewer.views.step_refusals import FIELD_ERRORS, refusal
from web.database import attempt, commit, db
from web.forms import as_choices
from web.streamed_forms import FileLimits, read_form_with_files
from web.uploads import FilePart

blueprint = Blueprint("casework", __name__)
#: The longest name of a corrective action (ActionForm.title).
TITLE_LIMIT = 200
role_required = _role_required(Role.REVIEWER)


def render_casework(case_id: int, *, error: str | None = None, status: int = 200,
                    decision_form: DecisionForm | None = None,
                    action_form: ActionForm | None = None,
                    evidence_form: EvidenceForm | None = None,
                    update_form: ActionUpdateForm | None = None,
                    updated_action: int | None = None) -> Any:
    """The case's evidence log, decision and corrective actions (decrypted: audited). A
    refused form is passed back as posted (`update_form`: the follow-up of the action
    `updated_action`), so that what the handler chose and typed is not lost."""
    services = console().services
    who = current().unlocked
    record: CaseworkView = read_casework(db(), services, who, case_id)
    case = get_case(db(), case_id)
    team = team_choices(case)
    if decision_form is None:
        decision_form = DecisionForm(formdata=None)
        current_decision = record.decision
        if current_decision is not None:  # an amendment starts from the current version
            decision_form.finding.data = current_decision.finding.value
            decision_form.root_cause.data = (current_decision.root_cause.value
                                             if current_decision.root_cause else "")
            decision_form.reasons.data = current_decision.content.text("reasons")
            decision_form.responsibility.data = current_decision.content.text("responsibility")
            decision_form.sanctions.data = [s.value for s in current_decision.sanctions]
            decision_form.sanction_details.data = current_decision.content.text(
                "sanction_details")
            decision_form.recognitions.data = [r.value for r in current_decision.recognitions]
            decision_form.recognition_details.data = current_decision.content.text(
                "recognition_details")
    if action_form is None:
        action_form = ActionForm(formdata=None)
    action_form.owner.choices = as_choices(team)
    if evidence_form is None:
        evidence_form = EvidenceForm(formdata=None)
    evidence_form.corrects.choices = as_choices(
        [(0, _("—")), *((e.id, f"#{e.position}") for e in record.evidence)])
    return render_template(
        "reviewer/casework.html", case=case, record=record, team=case_team(db(), case_id),
        decision_form=decision_form, action_form=action_form, evidence_form=evidence_form,
        update_form=update_form or ActionUpdateForm(formdata=None),
        updated_action=updated_action if update_form is not None else None, error=error,
        is_lead=may_exclude(console().services.keyring, case, current().reviewer.id),
        today=services.clock.today(), action_stages=case_actions.ACTION_STAGES,
        decidable=CaseStatus.DECIDED in legal_targets(case.status) or (
            case.status is CaseStatus.INFO_NEEDED),
        amendable=case.status in workflow.AMENDABLE), status


def _casework_refused(case_id: int, exc: Exception, **forms: Any) -> Any:
    """The page again, saying why the step was refused, with the posted forms as sent (the
    refused field carries the message)."""
    message, status = refusal(exc)
    if status == 400:
        for form in forms.values():
            if isinstance(form, FlaskForm):
                add_field_error(form, getattr(exc, "field", None), message)
    return render_casework(case_id, error=message, status=status, **forms)


def _run_casework(case_id: int, step: Callable[[], object], anchor: str,
                  **forms: Any) -> Any:
    try:
        with attempt():
            step()
    except (InvalidInput, Conflict, AccessDenied, NotFound) as exc:
        return _casework_refused(case_id, exc, **forms)
    return redirect(url_for("casework.show", case_id=case_id) + f"#{anchor}", code=303)


@blueprint.get("/cases/<id:case_id>/casework")
@role_required
def show(case_id: int) -> Any:
    """Evidence log, decision and corrective actions."""
    require_member(case_id)
    return render_casework(case_id)


@blueprint.post("/cases/<id:case_id>/decision")
@role_required
def decision(case_id: int) -> Any:
    """Record the decision, or amend it (a new version)."""
    require_member(case_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_casework(case_id, error=first_form_error(form), status=400,
                               decision_form=form)
    entered = workflow.DecisionInput(
        finding=Finding(form.finding.data),
        root_cause=RootCause(form.root_cause.data) if form.root_cause.data else None,
        reasons=form.reasons.data or "", responsibility=form.responsibility.data or "",
        sanctions=tuple(SanctionType(v) for v in form.sanctions.data or ()),
        sanction_details=form.sanction_details.data or "",
        recognitions=tuple(RecognitionType(v) for v in form.recognitions.data or ()),
        recognition_details=form.recognition_details.data or "")
    return _run_casework(case_id, lambda: workflow.record_decision(
        db(), console().services, current().unlocked, case_id, entered), "decision",
        decision_form=form)


@blueprint.post("/cases/<id:case_id>/actions")
@role_required
def add_action(case_id: int) -> Any:
    """Assign a corrective action."""
    require_member(case_id)
    form = ActionForm()
    form.owner.choices = as_choices(team_choices(get_case(db(), case_id)))
    if not form.validate_on_submit():
        _name_action_fields(form)
        return render_casework(case_id, error=first_form_error(form), status=400,
                               action_form=form)
    assert form.due_on.data is not None  # InputRequired
    due_on = form.due_on.data
    return _run_casework(case_id, lambda: case_actions.add_action(
        db(), console().services, current().unlocked, case_id, title=form.title.data or "",
        notes=form.notes.data or "", owner_id=int(form.owner.data), due_on=due_on),
        "actions", action_form=form)


def _name_action_fields(form: ActionForm) -> None:
    """Word WTForms' own refusals of the title and due date so that they name the field
    (outside tester: "Field cannot be longer than 200 characters", "Not a valid date")."""
    if form.title.errors and form.title.data:
        form.title.errors = [_("Keep the action's name under %(max)d characters.",
                               max=TITLE_LIMIT)]
    if form.due_on.errors and form.due_on.raw_data and form.due_on.raw_data[0]:
        form.due_on.errors = [str(FIELD_ERRORS["due_on"])]


@blueprint.post("/cases/<id:case_id>/actions/<id:action_id>")
@role_required
def update_action(case_id: int, action_id: int) -> Any:
    """A follow-up note and the status it leaves the action in."""
    require_member(case_id)
    form = ActionUpdateForm()
    form.owner.choices = as_choices(team_choices(get_case(db(), case_id)))
    if not form.validate_on_submit():
        # Name the field that failed (outside tester: a bad status asked for the note).
        failed = next((name for name in ("status", "owner", "note")
                       if getattr(form, name).errors), None)
        message = FIELD_ERRORS[failed] if failed else _("Check the form and try again.")
        return render_casework(case_id, error=str(message), status=400, update_form=form,
                               updated_action=action_id)
    return _run_casework(case_id, lambda: case_actions.update_action(
        db(), console().services, current().unlocked, case_id, action_id,
        status=ActionStatus(form.status.data), note=form.note.data or "",
        owner_id=form.owner.data or None), "actions", update_form=form,
        updated_action=action_id)


@blueprint.post("/cases/<id:case_id>/evidence")
@role_required
def evidence(case_id: int) -> Any:
    """Add an evidence log entry (files streamed straight into encrypted blobs, team key)."""
    require_member(case_id)
    c = console()
    who = current().unlocked

    checked: list[bool] = []

    def store(valid: EvidenceForm, part: FilePart) -> StoredFile:
        if not checked:
            checked.append(True)
            check_reviewer_file_key(db(), who, case_id, KeyKind.TEAM)
            commit()  # no transaction (SQLite: the write lock) open while the files stream in
        return store_checked_reviewer_file(c.services, db(), KeyKind.TEAM, part.filename,
                                           part.content_type, part.chunks())

    def make(data: Any) -> EvidenceForm:
        form = EvidenceForm(formdata=data)
        form.corrects.choices = []
        return form

    commit()  # what the checks above read: no transaction stays open while the body arrives
    post = read_form_with_files(
        make, store, FileLimits(total_bytes=c.config.max_submission_bytes,
                                files=c.config.max_files, fields=20, field_bytes=256 * 1024))
    if not post.valid:
        # The posted entry is shown again (its files cannot be: the page says to add them).
        return render_casework(case_id, error=post.error or first_form_error(post.form),
                               status=post.status if post.status != 200 else 400,
                               evidence_form=post.form)
    form = post.form
    corrects = form.corrects.data or None
    return _run_casework(case_id, lambda: add_evidence(
        db(), c.services, who, case_id, EvidenceKind(form.kind.data),
        text=form.text.data or "", interviewee=form.interviewee.data or "",
        files=post.files, corrects_id=int(corrects) if corrects else None), "evidence",
        evidence_form=form)
