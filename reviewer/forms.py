"""The console's forms. Field names and ids are stable (the end-to-end tests use them)."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from core.cases.kinds import reply_kinds
from core.models import Role
from core.staff.accounts import EMAIL_PATTERN
from reviewer.labels import KIND_CHOICE
from web.forms import as_choices

MAX_PASSPHRASE = 1024


def form_page_status() -> int:
    """The status of a form page: 200 when it is shown, 400 when it comes back because what
    was posted was refused (wrong passphrase or code, a field to correct), so that clients
    and scanners can tell a refusal from a page (outside tester: those were 200)."""
    return 400 if request.method == "POST" else 200


def first_form_error(form: FlaskForm | None) -> str:
    """What is wrong with the form, in the words of its first refused field: a text field's
    own message ("Write the message.", "Keep this under 20000 characters.") first, then any
    other field's ("Choose the decision."), or to check the form."""
    fields = [field for field in (form or ())
              if field.errors and field.short_name != "csrf_token"]
    fields.sort(key=lambda field: not isinstance(field, TextAreaField))
    return next((str(field.errors[0]) for field in fields),
                str(_l("Check the form and try again.")))


class LoginForm(FlaskForm):
    """Username, passphrase and authenticator code on one form."""

    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    passphrase = PasswordField(_l("Passphrase"),
                               validators=[InputRequired(), Length(max=MAX_PASSPHRASE)])
    code = StringField(_l("Code from your authenticator app"),
                       validators=[Optional(), Length(max=16)])
    next = HiddenField()


class CodeForm(FlaskForm):
    """A TOTP code (enrolment)."""

    code = StringField(_l("Code from your authenticator app"),
                       validators=[InputRequired(), Length(max=16)])


class ChangePassphraseForm(FlaskForm):
    """The reviewer's own passphrase change (forced at first login)."""

    current = PasswordField(_l("Current passphrase"),
                            validators=[InputRequired(), Length(max=MAX_PASSPHRASE)])
    new = PasswordField(_l("New passphrase"),
                        validators=[InputRequired(), Length(max=MAX_PASSPHRASE)])
    confirm = PasswordField(_l("New passphrase again"),
                            validators=[InputRequired(),
                                        EqualTo("new", message=_l("The two passphrases differ."))])


class ReauthForm(FlaskForm):
    """Passphrase re-entry before a sensitive action."""

    passphrase = PasswordField(_l("Passphrase"),
                               validators=[InputRequired(), Length(max=MAX_PASSPHRASE)])
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """A confirm step for something that cannot be undone (only the CSRF token)."""


class DecisionForm(FlaskForm):
    """Approve or refuse a change waiting for a second admin; approving an account takes the
    enrolment code its owner reads out (core.staff.enrolment_codes)."""

    code = StringField(_l("Enrolment code, as the owner reads it to you"),
                       validators=[Optional(), Length(max=64)])


class LanguageForm(FlaskForm):
    """Switch the console's language."""

    language = HiddenField(validators=[InputRequired(), Length(max=8)])
    next = HiddenField()


class ReplyForm(FlaskForm):
    """A reply to the reporter or an internal note. Posted as a streamed multipart form: the
    view validates the text fields with this class (CSRF checked by the stream parser)."""

    class Meta:
        csrf = False

    kind = RadioField(_l("Kind of message"), choices=as_choices(
        (kind.value, KIND_CHOICE[kind]) for kind in reply_kinds()),
        validators=[InputRequired(message=_l("Choose the kind of message."))])
    body = TextAreaField(_l("Message"), validators=[
        InputRequired(message=_l("Write a message.")),
        Length(max=20_000, message=_l("Keep this under %(max)d characters."))])


class RevealForm(FlaskForm):
    """The reason for opening a confidential reporter's identity, and the passphrase again:
    a reveal always asks for it, however recently the reviewer logged in."""

    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=1000)])
    passphrase = PasswordField(_l("Your passphrase"),
                               validators=[InputRequired(), Length(max=MAX_PASSPHRASE)])


class IdentityRequestForm(FlaskForm):
    """Ask an identity custodian for a confidential reporter's identity, with a reason."""

    reason = TextAreaField(_l("Reason"), validators=[
        InputRequired(message=_l("Give the reason the identity is needed.")), Length(max=1000)])


class PassphraseConfirmForm(FlaskForm):
    """An irreversible or key-granting step that asks for the passphrase on its own form."""

    passphrase = PasswordField(_l("Your passphrase"),
                               validators=[InputRequired(), Length(max=MAX_PASSPHRASE)])


class GrantForm(FlaskForm):
    """Add a colleague to the case team."""

    reviewer = SelectField(_l("Case handler"), coerce=int, validate_choice=True,
                           validators=[InputRequired()])


class AddReviewerForm(FlaskForm):
    """An administrator creates a staff account."""

    username = StringField(_l("Username"), validators=[
        InputRequired(), Length(min=2, max=63),
        Regexp(r"^[a-z0-9][a-z0-9._-]+$",
               message=_l("Use a-z, 0-9, dot, dash and underscore."))])
    role = RadioField(_l("Role"), choices=as_choices([
        (Role.REVIEWER.value, _l("Case handler")),
        (Role.ADMIN.value, _l("Administrator")),
        (Role.AUDITOR.value, _l("Auditor")),
    ]), validators=[InputRequired()])
    email = StringField(_l("Email for notifications (optional)"), validators=[
        Optional(), Length(max=254),
        # The core's own pattern (core.staff.accounts), so that both refuse the same.
        Regexp(rf"^{EMAIL_PATTERN.pattern}$", message=_l("Enter an email address."))])
    display_name = StringField(_l("Name shown to reporters (optional)"),
                               validators=[Optional(), Length(max=120)])


class EditAccountForm(FlaskForm):
    """An administrator changes an existing account's email address and display name; an
    empty field removes the value."""

    # The same fields (label, checks, lengths) as at creation: core.staff.account_contact
    # checks a change as add_reviewer checks a new account.
    email = AddReviewerForm.email
    display_name = AddReviewerForm.display_name


class RoutingForm(FlaskForm):
    """The intake reviewers of one category."""

    reviewers = SelectMultipleField(_l("Intake case handlers"), coerce=int,
                                    option_widget=CheckboxInput(),
                                    widget=ListWidget(prefix_label=False))


class AcknowledgeForm(FlaskForm):
    """Tick to confirm an irreversible step."""

    understood = BooleanField(_l("I understand that this cannot be undone."),
                              validators=[InputRequired()])
