"""The case cycle in the console: one POST route per step (acknowledge, scope decision,
priority, lead, roles, decision, outcome, actions, evidence, follow-up, close, review,
reopen) and the page of the evidence log, decision and corrective actions.

Each step runs its use case (core.cases.workflow, .actions, .evidence) in a savepoint: a
refused step changes nothing and the page says why, in the console's language (400 for a
form to correct, 409 for a step the stage does not allow, 403 for one only the lead may
take)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from core.cases import workflow
from core.cases.casework import before_request, read_case_for_reviewer
from core.cases.letters import Letter, grounds_heading, letter, unchanged_template
from core.cases.membership import case_team_in_effect
from core.cases.recategorise import set_category
from core.cases.retention import set_legal_hold
from core.cases.team import get_case
from core.cases.team_changes import may_exclude
from core.cases.transitions import REOPENABLE_STAGES, legal_targets, may_decide_scope
from core.cases.views import CaseView
from core.errors import AccessDenied, Conflict, InvalidInput
from core.models import (
    Case,
    CasePriority,
    CaseStatus,
    Disclosure,
    MemberRole,
    Role,
    ScopeDecision,
)
from reviewer.casework_forms import (
    CategoryForm,
    FeedbackForm,
    LeadForm,
    LegalHoldForm,
    MessageTextForm,
    PriorityForm,
    ReasonForm,
    RoleForm,
    ScopeForm,
)
from reviewer.console import console
from reviewer.forms import first_form_error
from reviewer.labels import MEMBER_ROLE
from reviewer.session import current, require_member
from reviewer.session import role_required as _role_required
from reviewer.views.category_panel import category_form, category_suggestion
from reviewer.views.kept_forms import Kept, add_field_error, keep_posted, kept_forms
from reviewer.views.step_refusals import ACCEPTANCE_LETTER_ERROR, refusal
from web.database import attempt, db
from web.forms import as_choices

blueprint = Blueprint("handling", __name__)
role_required = _role_required(Role.REVIEWER)

#: The real reason core refuses to follow up (workflow.start_follow_up), not the stage's.
NOTHING_TO_FOLLOW_UP = _l("There are no open corrective actions to follow up: every action is "
                          "done, or none was assigned. Close the case instead, or assign an "
                          "action on the page of the decision and corrective actions.")

def team_choices(case: Case) -> list[tuple[int, str]]:
    """The members a step may name (lead, part, an action's owner): the team in effect (a
    member planted by SQL, or put back after their exclusion, is offered nothing:
    core.cases.membership)."""
    team = case_team_in_effect(console().services.keyring, case)
    return [(m.reviewer_id, m.reviewer.username) for m in team.active]


def handling_context(case: Case, view: CaseView) -> dict[str, Any]:
    """The forms and facts the case page's "Handling" panel shows for the case's stage."""
    language = view.report.language
    me = current().reviewer.id
    team = team_choices(case)
    # Named reports get closer follow-up (docs/PROCESS.md, acceptance): high by default.
    suggested = (CasePriority.HIGH if case.disclosure is Disclosure.CONFIDENTIAL
                 else CasePriority.NORMAL)
    scope = ScopeForm(formdata=None, message=letter(Letter.ACCEPTED, language),
                      priority=suggested.value)
    scope.lead.choices = as_choices(team)
    lead = LeadForm(formdata=None, prefix="lead")
    lead.reviewer.choices = as_choices((rid, name) for rid, name in team if rid != me)
    role = RoleForm(formdata=None, prefix="role")
    role.reviewer.choices = as_choices(team)
    role.role.choices = as_choices((r.value, MEMBER_ROLE[r]) for r in workflow.TEAM_ROLES)
    before = before_request(db(), case)
    is_lead = may_exclude(console().services.keyring, case, me)
    return {
        "next_stages": legal_targets(case.status, before),
        # Any member before the case has a lead, then the lead (core.cases.workflow).
        "scope_open": may_decide_scope(case.status, before) and is_lead,
        "reopen_open": case.status in REOPENABLE_STAGES,
        "is_lead": is_lead,
        "lead_name": next((m.reviewer.username for m in case.members
                           if m.role is MemberRole.LEAD and not m.excluded), None),
        "acknowledge_form": MessageTextForm(formdata=None, prefix="ack",
                                            body=letter(Letter.ACKNOWLEDGEMENT, language)),
        "scope_form": scope,
        "letters": {name.value: letter(name, language) for name in Letter},
        "priority_form": PriorityForm(formdata=None, prefix="prio",
                                      priority=case.priority.value),
        "category_form": category_form(
            case.category.code if case.category is not None else None),
        "suggestion": category_suggestion(case, view),
        "lead_form": lead,
        "role_form": role,
        # The reporter is thanked whether or not they will be satisfied (the seed's stage 5).
        "feedback_form": FeedbackForm(formdata=None, outcome=(
            f"{letter(Letter.OUTCOME, language)}\n\n{letter(Letter.THANKS, language)}")),
        "review_form": MessageTextForm(formdata=None, prefix="review",
                                       body=letter(Letter.REVIEW_ANSWER, language)),
        "reason_form": ReasonForm(formdata=None),
        "reopen_form": reopen_form(formdata=None),
        # "Follow up" only when core would allow it (workflow.start_follow_up).
        "has_open_actions": (case.status is CaseStatus.FEEDBACK_GIVEN
                             and bool(workflow.open_actions(db(), case.id))),
        **kept_forms(),
    }


def _done(case_id: int, anchor: str = "handling") -> Any:
    return redirect(url_for("cases.show", case_id=case_id) + f"#{anchor}", code=303)


def _refused(case_id: int, exc: Exception, errors: Mapping[str, str] | None = None,
             kept: Kept | None = None) -> Any:
    """The case page again, saying why the step was refused (nothing was changed), with the
    posted form `kept` as it was sent (a refused field carries the message)."""
    from reviewer.views.cases import render_case
    if kept is not None:
        keep_posted(*kept)
    message, status = refusal(exc, errors)
    if kept is not None and status == 400:
        add_field_error(kept[1], getattr(exc, "field", None), message)
    return render_case(case_id, error=message, status=status)


def _run(case_id: int, step: Callable[[], object], anchor: str = "handling",
         errors: Mapping[str, str] | None = None, kept: Kept | None = None) -> Any:
    """Run one step in a savepoint; redirect on success, explain a refusal (`errors`: this
    step's own messages for refused fields, before step_refusals.FIELD_ERRORS; `kept`: the
    posted form, shown again as sent)."""
    try:
        with attempt():
            step()
    except (InvalidInput, Conflict, AccessDenied) as exc:
        return _refused(case_id, exc, errors, kept)
    return _done(case_id, anchor)


def _invalid_form(case_id: int, form: FlaskForm | None = None, key: str | None = None) -> Any:
    """The case page again, 400, saying what is wrong with the form (`first_form_error`),
    and showing the posted form again under `key` with its field errors."""
    from reviewer.views.cases import render_case
    if form is not None and key is not None:
        keep_posted(key, form)
    return render_case(case_id, error=first_form_error(form), status=400)


@blueprint.post("/cases/<id:case_id>/acknowledge")
@role_required
def acknowledge(case_id: int) -> Any:
    """Acknowledge the report with a message to the reporter."""
    require_member(case_id)
    form = MessageTextForm(prefix="ack")
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "acknowledge_form")
    return _run(case_id, lambda: workflow.acknowledge(
        db(), console().services, current().unlocked, case_id, form.body.data or ""),
        kept=("acknowledge_form", form))


@blueprint.post("/cases/<id:case_id>/scope")
@role_required
def scope(case_id: int) -> Any:
    """Accept (lead and priority), refer elsewhere or find not admissible."""
    require_member(case_id)
    form = ScopeForm()
    form.lead.choices = as_choices(team_choices(get_case(db(), case_id)))
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "scope_form")
    decision = ScopeDecision(form.decision.data)
    if decision is not ScopeDecision.ACCEPTED and _swap_acceptance_letter(form, decision):
        from reviewer.views.cases import render_case
        keep_posted("scope_form", form)
        return render_case(case_id, error=str(ACCEPTANCE_LETTER_ERROR), status=400)
    return _run(case_id, lambda: workflow.decide_scope(
        db(), console().services, current().unlocked, case_id, decision,
        message=form.message.data or "", lead_id=form.lead.data or None,
        priority=CasePriority(form.priority.data)), kept=("scope_form", form))


#: The template for the reporter of a report referred elsewhere or found not admissible.
REFUSAL_LETTERS = {ScopeDecision.REFERRED: Letter.REFERRAL,
                   ScopeDecision.NOT_ADMISSIBLE: Letter.NOT_ADMISSIBLE}


def _swap_acceptance_letter(form: ScopeForm, decision: ScopeDecision) -> bool:
    """Whether the message is the acceptance letter unchanged (in English, Chinese or both,
    as the page may have offered it); if so, put the template for `decision` in the same
    language in its place, with the reason on the field."""
    language = unchanged_template(form.message.data or "", Letter.ACCEPTED)
    if language is None:
        return False
    form.message.data = letter(REFUSAL_LETTERS[decision], language)
    add_field_error(form, "message", str(ACCEPTANCE_LETTER_ERROR))
    return True


@blueprint.post("/cases/<id:case_id>/priority")
@role_required
def priority(case_id: int) -> Any:
    """Change the priority."""
    require_member(case_id)
    form = PriorityForm(prefix="prio")
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "priority_form")
    return _run(case_id, lambda: workflow.set_priority(
        db(), console().services, current().unlocked, case_id,
        CasePriority(form.priority.data)), kept=("priority_form", form))


@blueprint.post("/cases/<id:case_id>/category")
@role_required
def category(case_id: int) -> Any:
    """Change (or confirm) the case's category."""
    require_member(case_id)
    form = CategoryForm(prefix="cat")
    form.category.choices = category_form().category.choices
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "category_form")
    return _run(case_id, lambda: set_category(
        db(), console().services, current().unlocked, case_id, form.category.data or ""),
        kept=("category_form", form))


@blueprint.post("/cases/<id:case_id>/legal-hold")
@role_required
def legal_hold(case_id: int) -> Any:
    """Place or lift a legal hold (the case lead): retention does not destroy a held case."""
    require_member(case_id)
    form = LegalHoldForm(prefix="hold")
    if not form.validate_on_submit():
        return _invalid_form(case_id, form)
    hold = form.hold.data == "on"
    return _run(case_id, lambda: set_legal_hold(
        db(), console().services, get_case(db(), case_id), hold, current().unlocked.actor))


@blueprint.post("/cases/<id:case_id>/lead")
@role_required
def lead(case_id: int) -> Any:
    """Hand the lead over to another member."""
    require_member(case_id)
    form = LeadForm(prefix="lead")
    form.reviewer.choices = as_choices(team_choices(get_case(db(), case_id)))
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "lead_form")
    return _run(case_id, lambda: workflow.hand_over_lead(
        db(), console().services, current().unlocked, case_id, int(form.reviewer.data)),
        "team", kept=("lead_form", form))


@blueprint.post("/cases/<id:case_id>/role")
@role_required
def role(case_id: int) -> Any:
    """Give a member a role on the team."""
    require_member(case_id)
    form = RoleForm(prefix="role")
    form.reviewer.choices = as_choices(team_choices(get_case(db(), case_id)))
    form.role.choices = as_choices((r.value, MEMBER_ROLE[r]) for r in workflow.TEAM_ROLES)
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "role_form")
    return _run(case_id, lambda: workflow.set_member_role(
        db(), console().services, current().unlocked, case_id, int(form.reviewer.data),
        MemberRole(form.role.data)), "team", kept=("role_form", form))


@blueprint.post("/cases/<id:case_id>/feedback")
@role_required
def feedback(case_id: int) -> Any:
    """Send the outcome with its grounds."""
    require_member(case_id)
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "feedback_form")
    who = current().unlocked
    language = read_case_for_reviewer(db(), console().services, who, case_id).report.language
    return _run(case_id, lambda: workflow.give_feedback(
        db(), console().services, who, case_id, form.outcome.data or "",
        form.grounds.data or "", grounds_heading=grounds_heading(language)), "thread",
        kept=("feedback_form", form))


@blueprint.post("/cases/<id:case_id>/follow-up")
@role_required
def follow_up(case_id: int) -> Any:
    """Move on to following up the corrective actions."""
    require_member(case_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _invalid_form(case_id, form)
    if not workflow.open_actions(db(), case_id):
        # Core refuses this before looking at the stage: say its reason, not the stage's.
        from reviewer.views.cases import render_case
        return render_case(case_id, error=str(NOTHING_TO_FOLLOW_UP), status=409)
    return _run(case_id, lambda: workflow.start_follow_up(
        db(), console().services, current().unlocked, case_id))


@blueprint.post("/cases/<id:case_id>/close")
@role_required
def close(case_id: int) -> Any:
    """Close and archive the case (a reason if actions are still open)."""
    require_member(case_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "reason_form")
    return _run(case_id, lambda: workflow.close_case(
        db(), console().services, current().unlocked, case_id, form.reason.data or ""),
        kept=("reason_form", form))


@blueprint.post("/cases/<id:case_id>/review")
@role_required
def review(case_id: int) -> Any:
    """Answer a reporter who is not satisfied, without reopening."""
    require_member(case_id)
    form = MessageTextForm(prefix="review")
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "review_form")
    return _run(case_id, lambda: workflow.answer_review(
        db(), console().services, current().unlocked, case_id, form.body.data or ""),
        "thread", kept=("review_form", form))


def reopen_form(**kwargs: Any) -> ReasonForm:
    """The reopen form: posted as "reason" like the close form, which the page may show
    beside it, so its field has an id of its own."""
    form = ReasonForm(**kwargs)
    form.reason.id = "reopen-reason"
    return form


@blueprint.post("/cases/<id:case_id>/reopen")
@role_required
def reopen(case_id: int) -> Any:
    """Reopen the case, with a reason for the team."""
    require_member(case_id)
    form = reopen_form()
    if not form.validate_on_submit():
        return _invalid_form(case_id, form, "reopen_form")
    reason = form.reason.data or ""
    return _run(case_id, lambda: workflow.reopen_case(
        db(), console().services, current().unlocked, case_id, reason),
        errors={"reason": str(_("Give the reason for reopening (it is kept for the case team "
                                "only)."))}, kept=("reopen_form", form))
