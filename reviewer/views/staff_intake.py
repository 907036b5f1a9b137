"""Recording a report received by telephone, letter, the complaint mailbox or in person, and
the receipt page to hand to the reporter (shown once, printable, never cached)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from core.cases.content import Identity, ReportContent
from core.categories.lookup import list_categories
from core.errors import InvalidInput
from core.intake.receipts import format_receipt, new_receipt
from core.intake.staff_recorded import STAFF_CHANNELS, record_report
from core.kdf_slots import SlotsBusy
from core.models import Channel, Role
from core.operations.notifications import queue_case_notification
from reviewer.casework_forms import StaffReportForm
from reviewer.console import console
from reviewer.labels import CHANNEL, category_name
from reviewer.session import current
from reviewer.session import role_required as _role_required
from web import current_language
from web.database import attempt, commit, db
from web.forms import as_choices

blueprint = Blueprint("staff_intake", __name__)


def _form() -> StaffReportForm:
    form = StaffReportForm()
    form.channel.choices = as_choices((c.value, CHANNEL[c.value]) for c in STAFF_CHANNELS)
    form.category.choices = as_choices(
        (c.code, category_name(c, current_language()))
        for c in list_categories(db()) if c.active)
    return form


@blueprint.route("/intake/new", methods=["GET", "POST"])
@_role_required(Role.REVIEWER)
def new() -> Any:
    """The form; on success the receipt page (the code is shown this once)."""
    form = _form()
    error = None
    valid = form.validate_on_submit()
    name = (form.name.data or "").strip()
    if valid and (form.contact.data or "").strip() and not name:
        # A contact without a name would identify the reporter outside the sealed identity.
        form.contact.errors = [_("Give the reporter's name with the contact (both are "
                                 "sealed for the identity custodians), or leave it empty.")]
        valid = False
    if valid:
        report = ReportContent(
            summary=form.summary.data or "", what_happened=form.what_happened.data or "",
            when=form.when.data or "", where=form.where.data or "",
            who_involved=form.who_involved.data or "", evidence=form.evidence.data or "",
            language=form.language.data or "")
        identity = Identity(name=name, contact=form.contact.data or "") if name else None
        # The receipt's Argon2id runs outside any transaction (on SQLite one holds the write
        # lock): what the checks above read is committed first.
        commit()
        try:
            receipt = new_receipt(console().services)
        except SlotsBusy as busy:
            raise TooManyRequests(retry_after=busy.retry_after) from None
        try:
            with attempt():
                result = record_report(db(), console().services, current().unlocked,
                                       channel=Channel(form.channel.data),
                                       category_code=form.category.data or "",
                                       report=report, identity=identity, receipt=receipt)
                # The category's handlers hear of it like of a web report.
                queue_case_notification(db(), result.case_id)
        except InvalidInput:
            error = "invalid"
        else:
            response = render_template("reviewer/intake_receipt.html", result=result,
                                       receipt=format_receipt(result.receipt_code),
                                       chinese=report.language.startswith("zh"))
            return response, 200, {"Cache-Control": "no-store"}
    status = 400 if form.is_submitted() else 200
    return render_template("reviewer/intake_new.html", form=form, error=error), status
