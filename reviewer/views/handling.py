"""The case cycle in the console: one POST route per step (acknowledge, scope decision,
priority, lead, roles, decision, outcome, actions, evidence, follow-up, close, review,
reopen) and the page of the evidence log, decision and corrective actions.

Each step runs its use case (core.cases.workflow, .actions, .evidence) in a savepoint: a
refused step changes nothing and the page says why, in the console's language (400 for a
form to correct, 409 for a step the stage does not allow, 403 for one only the lead may
take)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.cases import actions as case_actions
from core.cases import workflow
from core.cases.casework import may_exclude, read_case_for_reviewer, store_reviewer_file
from core.cases.casework_reading import CaseworkView, read_casework
from core.cases.evidence import add_evidence
from core.cases.files import StoredFile
from core.cases.letters import Letter, grounds_heading, letter
from core.cases.stages import stage_before_request
from core.cases.team import case_team, get_case
from core.cases.transitions import legal_targets
from core.cases.views import CaseView
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.models import (
    ActionStatus,
    Case,
    CasePriority,
    CaseStatus,
    EvidenceKind,
    Finding,
    KeyKind,
    MemberRole,
    RecognitionType,
    Role,
    RootCause,
    SanctionType,
    ScopeDecision,
)
from reviewer.casework_forms import (
    ActionForm,
    ActionUpdateForm,
    DecisionForm,
    EvidenceForm,
    FeedbackForm,
    LeadForm,
    MessageTextForm,
    PriorityForm,
    ReasonForm,
    RoleForm,
    ScopeForm,
)
from reviewer.console import console
from reviewer.labels import MEMBER_ROLE
from reviewer.session import current, require_member
from reviewer.session import role_required as _role_required
from web.database import attempt, db
from web.forms import as_choices
from web.streamed_forms import FileLimits, read_form_with_files
from web.uploads import FilePart

blueprint = Blueprint("handling", __name__)
role_required = _role_required(Role.REVIEWER)

#: What to tell the handler when a field is refused (the use cases name the field).
_FIELD_ERRORS = {
    "lead": _l("Choose the case lead from the case team."),
    "message": _l("Write the message to the reporter: where the report goes, or why it is "
                  "not handled."),
    "reason": _l("Give the reason (it is kept for the case team only). A case with open "
                 "corrective actions closes only with one."),
    "owner": _l("Choose an owner from the case team."),
    "due_on": _l("Choose a due date from today on, within five years."),
    "outcome": _l("Write the outcome."),
    "grounds": _l("Explain the grounds for the decision."),
    "reasons": _l("Write the reasons for the finding."),
    "text": _l("Write the note or summary."),
    "interviewee": _l("Say who was interviewed."),
    "files": _l("Choose the file to add (and only for a file entry)."),
    "title": _l("Name the corrective action."),
    "note": _l("Write the follow-up note."),
    "role": _l("Choose a role; hand the lead over on its own form."),
    "body": _l("Write the message."),
}
_STAGE_ERROR = _l("This step is not possible in the case's current stage. The page shows "
                  "what can be done now.")
_LEAD_ERROR = _l("Only the case lead can take this step.")


def _team_choices(case: Case) -> list[tuple[int, str]]:
    return [(m.reviewer_id, m.reviewer.username) for m in case.members if not m.excluded]


def handling_context(case: Case, view: CaseView) -> dict[str, Any]:
    """The forms and facts the case page's "Handling" panel shows for the case's stage."""
    language = view.report.language
    me = current().reviewer.id
    team = _team_choices(case)
    scope = ScopeForm(formdata=None, message=letter(Letter.ACCEPTED, language))
    scope.lead.choices = as_choices(team)
    lead = LeadForm(formdata=None, prefix="lead")
    lead.reviewer.choices = as_choices((rid, name) for rid, name in team if rid != me)
    role = RoleForm(formdata=None, prefix="role")
    role.reviewer.choices = as_choices(team)
    role.role.choices = as_choices((r.value, MEMBER_ROLE[r]) for r in workflow.TEAM_ROLES)
    before = (stage_before_request(db(), case.id)
              if case.status is CaseStatus.INFO_NEEDED else None)
    return {
        "next_stages": legal_targets(case.status, before),
        "is_lead": may_exclude(case, me),
        "lead_name": next((m.reviewer.username for m in case.members
                           if m.role is MemberRole.LEAD and not m.excluded), None),
        "acknowledge_form": MessageTextForm(formdata=None, prefix="ack",
                                            body=letter(Letter.ACKNOWLEDGEMENT, language)),
        "scope_form": scope,
        "letters": {name.value: letter(name, language) for name in Letter},
        "priority_form": PriorityForm(formdata=None, prefix="prio",
                                      priority=case.priority.value),
        "lead_form": lead,
        "role_form": role,
        "feedback_form": FeedbackForm(formdata=None, outcome=letter(Letter.OUTCOME, language)),
        "review_form": MessageTextForm(formdata=None, prefix="review",
                                       body=letter(Letter.REVIEW_ANSWER, language)),
        "reason_form": ReasonForm(formdata=None),
    }


def _done(case_id: int, anchor: str = "handling") -> Any:
    return redirect(url_for("cases.show", case_id=case_id) + f"#{anchor}", code=303)


def _refused(case_id: int, exc: Exception) -> Any:
    """The case page again, saying why the step was refused (nothing was changed)."""
    from reviewer.views.cases import render_case
    if isinstance(exc, InvalidInput):
        message = _FIELD_ERRORS.get(exc.field or "", _l("Check the form and try again."))
        return render_case(case_id, error=str(message), status=400)
    if isinstance(exc, AccessDenied):
        return render_case(case_id, error=str(_LEAD_ERROR), status=403)
    return render_case(case_id, error=str(_STAGE_ERROR), status=409)


def _run(case_id: int, step: Callable[[], object], anchor: str = "handling") -> Any:
    """Run one step in a savepoint; redirect on success, explain a refusal."""
    try:
        with attempt():
            step()
    except (InvalidInput, Conflict, AccessDenied) as exc:
        return _refused(case_id, exc)
    return _done(case_id, anchor)


def _invalid_form(case_id: int) -> Any:
    from reviewer.views.cases import render_case
    return render_case(case_id, error=_("Check the form and try again."), status=400)


@blueprint.post("/cases/<id:case_id>/acknowledge")
@role_required
def acknowledge(case_id: int) -> Any:
    """Acknowledge the report with a message to the reporter."""
    require_member(case_id)
    form = MessageTextForm(prefix="ack")
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    return _run(case_id, lambda: workflow.acknowledge(
        db(), console().services, current().unlocked, case_id, form.body.data or ""))


@blueprint.post("/cases/<id:case_id>/scope")
@role_required
def scope(case_id: int) -> Any:
    """Accept (lead and priority), refer elsewhere or find not admissible."""
    require_member(case_id)
    form = ScopeForm()
    form.lead.choices = as_choices(_team_choices(get_case(db(), case_id)))
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    decision = ScopeDecision(form.decision.data)
    return _run(case_id, lambda: workflow.decide_scope(
        db(), console().services, current().unlocked, case_id, decision,
        message=form.message.data or "", lead_id=form.lead.data or None,
        priority=CasePriority(form.priority.data)))


@blueprint.post("/cases/<id:case_id>/priority")
@role_required
def priority(case_id: int) -> Any:
    """Change the priority."""
    require_member(case_id)
    form = PriorityForm(prefix="prio")
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    return _run(case_id, lambda: workflow.set_priority(
        db(), console().services, current().unlocked, case_id,
        CasePriority(form.priority.data)))


@blueprint.post("/cases/<id:case_id>/lead")
@role_required
def lead(case_id: int) -> Any:
    """Hand the lead over to another member."""
    require_member(case_id)
    form = LeadForm(prefix="lead")
    form.reviewer.choices = as_choices(_team_choices(get_case(db(), case_id)))
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    return _run(case_id, lambda: workflow.hand_over_lead(
        db(), console().services, current().unlocked, case_id, int(form.reviewer.data)),
        "team")


@blueprint.post("/cases/<id:case_id>/role")
@role_required
def role(case_id: int) -> Any:
    """Give a member a role on the team."""
    require_member(case_id)
    form = RoleForm(prefix="role")
    form.reviewer.choices = as_choices(_team_choices(get_case(db(), case_id)))
    form.role.choices = as_choices((r.value, MEMBER_ROLE[r]) for r in workflow.TEAM_ROLES)
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    return _run(case_id, lambda: workflow.set_member_role(
        db(), console().services, current().unlocked, case_id, int(form.reviewer.data),
        MemberRole(form.role.data)), "team")


@blueprint.post("/cases/<id:case_id>/feedback")
@role_required
def feedback(case_id: int) -> Any:
    """Send the outcome with its grounds."""
    require_member(case_id)
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    who = current().unlocked
    language = read_case_for_reviewer(db(), console().services, who, case_id).report.language
    return _run(case_id, lambda: workflow.give_feedback(
        db(), console().services, who, case_id, form.outcome.data or "",
        form.grounds.data or "", grounds_heading=grounds_heading(language)), "thread")


@blueprint.post("/cases/<id:case_id>/follow-up")
@role_required
def follow_up(case_id: int) -> Any:
    """Move on to following up the corrective actions."""
    require_member(case_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    return _run(case_id, lambda: workflow.start_follow_up(
        db(), console().services, current().unlocked, case_id))


@blueprint.post("/cases/<id:case_id>/close")
@role_required
def close(case_id: int) -> Any:
    """Close and archive the case (a reason if actions are still open)."""
    require_member(case_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    return _run(case_id, lambda: workflow.close_case(
        db(), console().services, current().unlocked, case_id, form.reason.data or ""))


@blueprint.post("/cases/<id:case_id>/review")
@role_required
def review(case_id: int) -> Any:
    """Answer a reporter who is not satisfied, without reopening."""
    require_member(case_id)
    form = MessageTextForm(prefix="review")
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    return _run(case_id, lambda: workflow.answer_review(
        db(), console().services, current().unlocked, case_id, form.body.data or ""),
        "thread")


@blueprint.post("/cases/<id:case_id>/reopen")
@role_required
def reopen(case_id: int) -> Any:
    """Reopen the case, with a reason for the team."""
    require_member(case_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _invalid_form(case_id)
    reason = form.reason.data or ""
    return _run(case_id, lambda: workflow.reopen_case(
        db(), console().services, current().unlocked, case_id, reason))


# --- Evidence, decision and corrective actions ------------------------------------------------


def render_casework(case_id: int, *, error: str | None = None, status: int = 200,
                    decision_form: DecisionForm | None = None,
                    action_form: ActionForm | None = None,
                    evidence_form: EvidenceForm | None = None) -> Any:
    """The case's evidence log, decision and corrective actions (decrypted: audited)."""
    services = console().services
    who = current().unlocked
    record: CaseworkView = read_casework(db(), services, who, case_id)
    case = get_case(db(), case_id)
    team = _team_choices(case)
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
        update_form=ActionUpdateForm(formdata=None), error=error,
        is_lead=may_exclude(case, current().reviewer.id),
        today=services.clock.today(), action_stages=case_actions.ACTION_STAGES,
        decidable=CaseStatus.DECIDED in legal_targets(case.status) or (
            case.status is CaseStatus.INFO_NEEDED),
        amendable=case.status in workflow.AMENDABLE), status


def _casework_refused(case_id: int, exc: Exception, **forms: Any) -> Any:
    if isinstance(exc, InvalidInput):
        message = _FIELD_ERRORS.get(exc.field or "", _l("Check the form and try again."))
        return render_casework(case_id, error=str(message), status=400, **forms)
    if isinstance(exc, AccessDenied):
        return render_casework(case_id, error=str(_LEAD_ERROR), status=403, **forms)
    if isinstance(exc, NotFound):
        return render_casework(case_id, error=_("That entry does not exist."), status=404,
                               **forms)
    return render_casework(case_id, error=str(_STAGE_ERROR), status=409, **forms)


def _run_casework(case_id: int, step: Callable[[], object], anchor: str,
                  **forms: Any) -> Any:
    try:
        with attempt():
            step()
    except (InvalidInput, Conflict, AccessDenied, NotFound) as exc:
        return _casework_refused(case_id, exc, **forms)
    return redirect(url_for("handling.casework", case_id=case_id) + f"#{anchor}", code=303)


@blueprint.get("/cases/<id:case_id>/casework")
@role_required
def casework(case_id: int) -> Any:
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
        return render_casework(case_id, error=_("Check the form and try again."), status=400,
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
    form.owner.choices = as_choices(_team_choices(get_case(db(), case_id)))
    if not form.validate_on_submit():
        return render_casework(case_id, error=_("Check the form and try again."), status=400,
                               action_form=form)
    assert form.due_on.data is not None  # InputRequired
    due_on = form.due_on.data
    return _run_casework(case_id, lambda: case_actions.add_action(
        db(), console().services, current().unlocked, case_id, title=form.title.data or "",
        notes=form.notes.data or "", owner_id=int(form.owner.data), due_on=due_on),
        "actions", action_form=form)


@blueprint.post("/cases/<id:case_id>/actions/<id:action_id>")
@role_required
def update_action(case_id: int, action_id: int) -> Any:
    """A follow-up note and the status it leaves the action in."""
    require_member(case_id)
    form = ActionUpdateForm()
    if not form.validate_on_submit():
        return render_casework(case_id, error=_("Write the follow-up note."), status=400)
    return _run_casework(case_id, lambda: case_actions.update_action(
        db(), console().services, current().unlocked, case_id, action_id,
        status=ActionStatus(form.status.data), note=form.note.data or ""), "actions")


@blueprint.post("/cases/<id:case_id>/evidence")
@role_required
def evidence(case_id: int) -> Any:
    """Add an evidence log entry (files streamed straight into encrypted blobs, team key)."""
    require_member(case_id)
    c = console()
    who = current().unlocked

    def store(valid: EvidenceForm, part: FilePart) -> StoredFile:
        return store_reviewer_file(c.services, who, db(), case_id, KeyKind.TEAM, part.filename,
                                   part.content_type, part.chunks())

    def make(data: Any) -> EvidenceForm:
        form = EvidenceForm(formdata=data)
        form.corrects.choices = []
        return form

    post = read_form_with_files(
        make, store, FileLimits(total_bytes=c.config.max_submission_bytes,
                                files=c.config.max_files, fields=20, field_bytes=256 * 1024))
    if not post.valid:
        return render_casework(case_id, error=post.error or _("Check the form and try again."),
                               status=post.status if post.status != 200 else 400)
    form = post.form
    corrects = form.corrects.data or None
    return _run_casework(case_id, lambda: add_evidence(
        db(), c.services, who, case_id, EvidenceKind(form.kind.data),
        text=form.text.data or "", interviewee=form.interviewee.data or "",
        files=post.files, corrects_id=int(corrects) if corrects else None), "evidence")
