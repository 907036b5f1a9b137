"""The portal's forms. Text fields are validated with WTForms; files are streamed separately
(web.uploads), so they never pass through WTForms or Werkzeug's temporary files."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.cases.content import MAX_LONG_TEXT, MAX_SHORT_TEXT
from core.cases.readers import IntakeReaders
from core.categories.lookup import CODE_PATTERN
from core.errors import InvalidInput
from core.intake.submission_tokens import new_submission_token
from core.models import Category
from web.forms import as_choices

#: Field name of the file input; the template puts it after every text field.
ATTACHMENTS_FIELD = "attachments"
#: Honeypot: hidden from people by CSS and labelled "leave empty"; bots fill it in.
HONEYPOT_FIELD = "website"
#: Bytes a streamed text field may carry: the longest text a field accepts at 4 bytes a
#: character (UTF-8 at its widest), so the parser never refuses a text the form would accept,
#: and its refusal names the same number of characters as the form (web.uploads).
TEXT_FIELD_BYTES = 4 * MAX_LONG_TEXT


class StreamedForm(FlaskForm):
    """A form whose data comes from the streaming parser: its CSRF token is checked by the
    view (web.csrf.validate_csrf_token) before any other field is read."""

    class Meta:
        csrf = False


def category_choices(categories: list[Category], language: str) -> list[SelectChoice]:
    """(code, name in the reader's language) choices, in the operator's order."""
    chinese = language.startswith("zh")
    return as_choices((c.code, c.name_zh if chinese else c.name_en) for c in categories)


class CategoryField(RadioField):
    """The category choice; a code not on offer (one the operator has just deactivated, with
    the form open in the reporter's browser) is refused in plain words."""

    def pre_validate(self, form: Any) -> None:
        if self.data and self.data not in {choice[0] for choice in self.iter_choices()}:
            raise ValidationError(_l("This category is no longer offered. Please choose "
                                     "another."))


class SubmissionForm(StreamedForm):
    """A new report."""

    # Set per request by portal.views.submit (category code -> hint text in the
    # visitor's language; who each category reaches); annotations only, so wtforms sees no
    # extra field.
    category_descriptions: dict[str, str]
    readers: IntakeReaders

    category = CategoryField(_l("What is your report about?"),
                             validators=[DataRequired(_l("Choose what your report is about."))])
    summary = StringField(_l("Summary in one sentence"), validators=[
        DataRequired(_l("Write a short summary of your report.")),
        Length(max=MAX_SHORT_TEXT, message=_l("Keep the summary under %(max)d characters."))])
    what_happened = TextAreaField(_l("What happened?"), validators=[
        DataRequired(_l("Describe what happened.")),
        Length(max=MAX_LONG_TEXT, message=_l("Keep this under %(max)d characters."))])
    when = StringField(_l("When did it happen? (optional)"), validators=[
        Optional(), Length(max=MAX_SHORT_TEXT,
                           message=_l("Keep this under %(max)d characters."))])
    where = StringField(_l("Where did it happen? (optional)"), validators=[
        Optional(), Length(max=MAX_SHORT_TEXT,
                           message=_l("Keep this under %(max)d characters."))])
    who_involved = TextAreaField(_l("Which systems or people are involved? (optional)"),
                                 validators=[Optional(), Length(
                                     max=MAX_LONG_TEXT,
                                     message=_l("Keep this under %(max)d characters."))])
    how_known = TextAreaField(_l("How do you know about it? (optional)"), validators=[
        Optional(), Length(max=MAX_LONG_TEXT, message=_l("Keep this under %(max)d characters."))])
    evidence = TextAreaField(_l("What evidence exists, and where? (optional)"), validators=[
        Optional(), Length(max=MAX_LONG_TEXT, message=_l("Keep this under %(max)d characters."))])
    disclosure = RadioField(
        _l("Do you want to give your name?"),
        choices=as_choices([("anonymous", _l("No, stay anonymous")),
                            ("confidential", _l("Yes, confidentially"))]),
        default="anonymous",
        validators=[DataRequired(_l("Choose whether to give your name."))],
    )
    name = StringField(_l("Your name"), validators=[
        Optional(), Length(max=MAX_SHORT_TEXT, message=_l("Keep this under %(max)d characters."))])
    contact = StringField(_l("How can the case handlers reach you? (optional)"), validators=[
        Optional(), Length(max=MAX_SHORT_TEXT, message=_l("Keep this under %(max)d characters."))])
    position = StringField(_l("Your role or department (optional)"), validators=[
        Optional(), Length(max=MAX_SHORT_TEXT, message=_l("Keep this under %(max)d characters."))])
    website = StringField(_l("Leave this field empty"))
    #: Handlers the reporter leaves out: "<category code>:<id>" (only those of the chosen
    #: category count, so that the form works without JavaScript) or "custodian:<id>".
    #: A value of another shape is refused (validate_exclude), never read as a change.
    exclude = SelectMultipleField(validate_choice=False)
    #: The readers the page listed (readers_shown), so that a report never reaches someone
    #: added to its category after the reporter read the list.
    shown = HiddenField()
    #: This form's one-time token: the same form sent again creates no second case
    #: (core.intake.submission_tokens).
    once = HiddenField(default=new_submission_token)

    def validate(self, extra_validators: Any = None) -> bool:
        """The field checks, then: a confidential report needs a name. (Written here rather
        than as a field validator because Optional() stops the chain on an empty name.)"""
        valid: bool = super().validate(extra_validators)
        if self.disclosure.data == "confidential" and not (self.name.data or "").strip():
            self.name.errors = [*self.name.errors,
                                _l("Enter your name, or choose to stay anonymous.")]
            return False
        return valid

    def validate_exclude(self, field: SelectMultipleField) -> None:
        """Every "leave out" value has the shape our form sends. A malformed one is refused
        here, with the other field errors and before any file is stored: it is not a sign
        that the readers changed (core refuses a well-formed id that was not offered)."""
        if any(_exclusion(value) is None for value in field.data or []):
            raise ValidationError(_l("The choice of people to leave out could not be read. "
                                     "Please choose them again under “Who will read your "
                                     "report”."))

    def is_bot(self) -> bool:
        """Whether the honeypot was filled in."""
        return bool((self.website.data or "").strip())

    def left_out(self) -> list[int]:
        """The ids of the handlers the reporter left out, for the chosen category and as
        identity custodians. InvalidInput for a value no form of ours sends."""
        ids = []
        for value in self.exclude.data or []:
            choice = _exclusion(value)
            if choice is None:  # validate_exclude refused it already; never guessed at
                raise InvalidInput("Choose the people to leave out from the list shown.",
                                   field="exclude")
            scope, reviewer_id = choice
            if scope in (self.category.data, CUSTODIAN_SCOPE):
                ids.append(reviewer_id)
        return ids

    def unseen_readers(self, current: IntakeReaders) -> bool:
        """Whether the report would now reach someone the page did not list: a handler added
        to the chosen category, or (a named report) a new identity custodian, since the
        reporter opened the form. A post without the list (not from our form) is not checked:
        it is refused only if it leaves out someone not offered (core.intake.submission)."""
        if self.shown.data is None:
            return False
        shown = _parse_shown(self.shown.data)
        reached = {r.id for r in current.by_category.get(self.category.data or "", ())}
        custodians = ({r.id for r in current.custodians}
                      if self.disclosure.data == "confidential" else set())
        return not (reached <= shown.get(self.category.data or "", set())
                    and custodians <= shown.get(CUSTODIAN_SCOPE, set()))


#: The scope of a "leave out" choice of an identity custodian, beside the category codes.
CUSTODIAN_SCOPE = "custodian"


def _exclusion(value: str) -> tuple[str, int] | None:
    """A "leave out" value read: ("<category code>" or "custodian", reviewer id), or None
    when it is not of the shape the form sends."""
    scope, sep, raw = value.partition(":")
    if not (sep and CODE_PATTERN.fullmatch(scope)
            and raw.isascii() and raw.isdigit() and len(raw) <= 10):
        return None
    return scope, int(raw)


def readers_shown(readers: IntakeReaders) -> str:
    """The readers a form lists, as it sends them back: "it_fault:3.7 security:3 custodian:9"
    (category codes are [a-z0-9_], so neither ":" nor "." nor a space occurs in them)."""
    scopes = [*readers.by_category.items(), (CUSTODIAN_SCOPE, readers.custodians)]
    return " ".join(f"{code}:{'.'.join(str(r.id) for r in listed)}" for code, listed in scopes)


def _parse_shown(value: str) -> dict[str, set[int]]:
    """readers_shown read back; what does not parse lists nobody (so nobody is unseen only
    if nobody is reached)."""
    shown: dict[str, set[int]] = {}
    for part in value.split()[:1000]:
        code, _sep, ids = part.partition(":")
        shown[code] = {int(i) for i in ids.split(".") if i.isascii() and i.isdigit()
                       and len(i) <= 10}
    return shown


class ReceiptLoginForm(FlaskForm):
    """The follow-up login."""

    receipt = StringField(_l("Your receipt code"), validators=[
        DataRequired(_l("Enter the receipt code you received when you sent your report.")),
        Length(max=100, message=_l("This is longer than a receipt code."))])


class ReplyForm(StreamedForm):
    """A reporter's message (answer, or more information) with optional files."""

    body = TextAreaField(_l("Your message"), validators=[
        Optional(), Length(max=MAX_LONG_TEXT, message=_l("Keep this under %(max)d characters."))])


class OutcomeAnswerForm(FlaskForm):
    """The reporter's answer to the outcome: satisfied or not, with an optional comment."""

    satisfied = RadioField(_l("Are you satisfied with how your report was handled?"),
                           choices=as_choices([("yes", _l("Yes, I am satisfied")),
                                               ("no", _l("No, I am not satisfied"))]),
                           validators=[DataRequired(message=_l("Choose an answer."))])
    comment = TextAreaField(_l("Your comment (optional)"), validators=[
        Optional(), Length(max=MAX_LONG_TEXT, message=_l("Keep this under %(max)d characters."))])


class PrintReceiptForm(FlaskForm):
    """Posts the receipt back to get the print-friendly page (the code is never in a URL)."""

    receipt = HiddenField(validators=[DataRequired(), Length(max=100)])


def form_data(fields: dict[str, list[str]]) -> Any:
    """Turn streamed fields into the MultiDict WTForms expects."""
    from werkzeug.datastructures import MultiDict

    return MultiDict([(name, value) for name, values in fields.items() for value in values])
