"""The console's forms for the case cycle (acceptance, team, decision, outcome, actions,
evidence, closing). Field names are stable: the end-to-end tests use them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.models import (
    ActionStatus,
    CasePriority,
    EvidenceKind,
    Finding,
    RootCause,
    ScopeDecision,
)
from reviewer.labels import (
    ACTION_STATUS,
    EVIDENCE_KIND,
    FINDING,
    PRIORITY,
    RECOGNITION,
    ROOT_CAUSE,
    SANCTION,
    SCOPE,
)
from web.forms import as_choices
from web.routing import MAX_ROW_ID

LONG = 20_000


def _text(label: str, message: str, *, required: bool = True) -> TextAreaField:
    validators = [InputRequired(message=message)] if required else [Optional()]
    return TextAreaField(label, validators=[
        *validators, Length(max=LONG, message=_l("Keep this under %(max)d characters."))])


def _checkboxes(label: str, labels: dict) -> SelectMultipleField:  # type: ignore[type-arg]
    return SelectMultipleField(label, choices=as_choices((k.value, v) for k, v in labels.items()),
                               option_widget=CheckboxInput(),
                               widget=ListWidget(prefix_label=False))


class MessageTextForm(FlaskForm):
    """A message to the reporter prepared from a template (acknowledgement, review answer)."""

    body = _text(_l("Message to the reporter"), _l("Write the message."))


class ScopeForm(FlaskForm):
    """The acceptance decision: accept (with a lead and a priority), refer or reject."""

    decision = RadioField(_l("Decision"), choices=as_choices(
        (d.value, SCOPE[d]) for d in ScopeDecision),
        validators=[InputRequired(message=_l("Choose the decision."))])
    lead = SelectField(_l("Case lead (if accepted)"), coerce=int, validate_choice=False,
                       validators=[Optional()])
    priority = SelectField(_l("Priority"), choices=as_choices(
        (p.value, PRIORITY[p]) for p in CasePriority), default=CasePriority.NORMAL.value)
    message = _text(_l("Message to the reporter"),
                    _l("Tell the reporter where the report goes, or why it is not handled."),
                    required=False)


class PriorityForm(FlaskForm):
    """Change the priority."""

    priority = SelectField(_l("Priority"), choices=as_choices(
        (p.value, PRIORITY[p]) for p in CasePriority),
        validators=[InputRequired()])


class CategoryForm(FlaskForm):
    """Change (or confirm) the category; choices: the active categories, set per request."""

    category = SelectField(_l("Category"), validators=[InputRequired()])


class LegalHoldForm(FlaskForm):
    """Place ("on") or lift ("off") a legal hold, which stops retention for the case."""

    hold = RadioField(_l("Legal hold"), choices=as_choices([("on", _l("Place a legal hold")),
                                                            ("off", _l("Lift the legal hold"))]),
                      validators=[InputRequired()])


class LeadForm(FlaskForm):
    """Hand the lead over."""

    reviewer = SelectField(_l("New case lead"), coerce=int, validate_choice=True,
                           validators=[InputRequired()])


class RoleForm(FlaskForm):
    """Give a member their part in the investigation."""

    reviewer = SelectField(_l("Member"), coerce=int, validate_choice=True,
                           validators=[InputRequired()])
    role = SelectField(_l("Role"), validate_choice=True, validators=[InputRequired()])


class DecisionForm(FlaskForm):
    """The decision (or an amendment: a new version)."""

    finding = RadioField(_l("Finding"), choices=as_choices(
        (f.value, FINDING[f]) for f in Finding),
        validators=[InputRequired(message=_l("Choose the finding."))])
    root_cause = SelectField(_l("Root cause"), choices=as_choices(
        [("", _l("Not determined")), *((r.value, ROOT_CAUSE[r]) for r in RootCause)]),
        validators=[Optional()])
    reasons = _text(_l("Reasons (team only)"), _l("Write the reasons for the finding."))
    responsibility = _text(_l("Responsibility: who, and how much (team only)"), "",
                           required=False)
    sanctions = _checkboxes(_l("Sanctions"), SANCTION)
    sanction_details = _text(_l("Sanction details (team only)"), "", required=False)
    recognitions = _checkboxes(_l("Recognition"), RECOGNITION)
    recognition_details = _text(_l("Recognition details (team only)"), "", required=False)


class FeedbackForm(FlaskForm):
    """The outcome to the reporter, with its grounds."""

    outcome = _text(_l("Outcome"), _l("Write the outcome."))
    grounds = _text(_l("Grounds for the decision"),
                    _l("Explain the grounds: the reporter is owed the reasons."))


class ActionForm(FlaskForm):
    """A new corrective action."""

    title = StringField(_l("Corrective action"), validators=[
        InputRequired(message=_l("Name the action.")), Length(max=200)])
    notes = _text(_l("Notes (team only)"), "", required=False)
    owner = SelectField(_l("Owner"), coerce=int, validate_choice=True,
                        validators=[InputRequired()])
    due_on = DateField(_l("Due date"), validators=[
        InputRequired(message=_l("Give the due date (YYYY-MM-DD)."))])


class ActionUpdateForm(FlaskForm):
    """A follow-up note and the status it leaves the action in."""

    status = SelectField(_l("Status"), choices=as_choices(
        (s.value, ACTION_STATUS[s]) for s in ActionStatus), validators=[InputRequired()])
    note = _text(_l("Follow-up note"), _l("Write what was done or checked."))
    #: Choices: the team (set by the view); the current owner keeps the action.
    owner = SelectField(_l("Owner"), coerce=int, validate_choice=True,
                        validators=[Optional()])


class EvidenceForm(FlaskForm):
    """An evidence log entry. Posted as a streamed multipart form (files for a file entry):
    the view validates the text fields with this class (CSRF checked by the stream parser)."""

    class Meta:
        csrf = False

    kind = RadioField(_l("Kind of entry"), choices=as_choices(
        (k.value, EVIDENCE_KIND[k]) for k in EvidenceKind),
        validators=[InputRequired(message=_l("Choose the kind of entry."))])
    interviewee = StringField(_l("Who was interviewed (interviews)"),
                              validators=[Optional(), Length(max=200)])
    text = _text(_l("Note, summary or description"), "", required=False)
    corrects = SelectField(_l("Corrects entry (optional)"), coerce=int, validate_choice=False,
                           validators=[Optional(), NumberRange(
                               min=0, max=MAX_ROW_ID,  # 0: "—", corrects nothing
                               message=_l("Choose the entry to correct from the list."))])


class ReasonForm(FlaskForm):
    """A reason kept for the team (closing with open actions, reopening)."""

    reason = _text(_l("Reason (team only)"), "", required=False)


class StaffReportForm(FlaskForm):
    """A report a case handler records on the reporter's behalf."""

    channel = RadioField(_l("How the report was received"), choices=[],
                         validators=[InputRequired(message=_l("Choose how it was received."))])
    # Each required field names itself: an empty form listed "This field is required." twice.
    category = SelectField(_l("Category"), validate_choice=True, validators=[
        InputRequired(message=_l("Choose a category."))])
    language = RadioField(_l("The reporter's language"), choices=as_choices(
        [("zh-Hans-CN", _l("Chinese")), ("en", _l("English"))]), default="zh-Hans-CN",
        validators=[InputRequired(message=_l("Choose the reporter's language."))])
    summary = StringField(_l("Summary"), validators=[
        InputRequired(message=_l("Write a one-line summary.")), Length(max=200)])
    what_happened = _text(_l("What happened, in the reporter's words"),
                          _l("Write what the reporter said."))
    when = StringField(_l("When"), validators=[Optional(), Length(max=200)])
    where = StringField(_l("Where"), validators=[Optional(), Length(max=200)])
    who_involved = _text(_l("Systems or people involved"), "", required=False)
    evidence = _text(_l("Evidence the reporter mentioned or handed over"), "", required=False)
    name = StringField(_l("The reporter's name, if they want to give it (sealed for the "
                          "identity custodians)"), validators=[Optional(), Length(max=200)])
    contact = StringField(_l("How to reach them (optional)"),
                          validators=[Optional(), Length(max=200)])
    receipt_explained = BooleanField(
        _l("I will give the reporter the receipt code and tell them it is the only way to "
           "follow up, and that nobody can recover it."),
        validators=[InputRequired(message=_l("Confirm that you will hand over the receipt "
                                             "code."))])
