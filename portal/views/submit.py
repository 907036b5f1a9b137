"""Sending a report: the form, the streamed submission, the receipt page."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.exceptions import TooManyRequests

from core.cases.content import Identity, ReportContent
from core.cases.files import StoredFile
from core.cases.readers import IntakeReaders, intake_readers
from core.categories.lookup import active_categories
from core.errors import InvalidInput
from core.intake.receipts import ReceiptError, format_receipt, new_receipt, normalise_receipt
from core.intake.submission import SubmissionDraft, submit_report
from core.intake.submission_tokens import (
    AlreadySubmitted,
    claim_submission_token,
    new_submission_token,
    well_formed,
)
from core.kdf_slots import SlotsBusy
from core.models import Channel
from core.operations.notifications import queue_case_notification
from portal.forms import (
    TEXT_FIELD_BYTES,
    PrintReceiptForm,
    SubmissionForm,
    category_choices,
    readers_shown,
)
from portal.state import enforce_budget, services
from web import current_language
from web.database import attempt, commit, db
from web.errors import retry_after_seconds
from web.streamed_forms import FileLimits, read_form_with_files
from web.uploads import FilePart

blueprint = Blueprint("submit", __name__)

#: The report's text fields, and a "leave out" choice for each handler the form lists.
MAX_FORM_FIELDS = 200


class _ReadersChanged(Exception):
    """The report would reach someone the reporter was not shown (raised in the savepoint, so
    that nothing of the submission is kept)."""

    def __init__(self, readers: IntakeReaders) -> None:
        super().__init__("the readers changed")
        self.readers = readers


class _BotPost(Exception):
    """The honeypot was filled in, seen at the first file (raised from the upload's `store`
    callback, so that the rest of the body is never read and nothing of it stored)."""

    def __init__(self, form: SubmissionForm) -> None:
        super().__init__("the honeypot was filled in")
        self.form = form


def _bot_refused(form: SubmissionForm) -> ResponseReturnValue:
    """The plain refusal of a post with the honeypot filled in: no hint of the reason."""
    return _render_form(form, 400, upload_error=_("Your report could not be sent."))


def _readers_changed_message() -> str:
    message: str = _("The people who would read your report have changed since you opened "
                     "this page. Please check the list under “Who will read your report”, "
                     "then send your report again.")
    return message


def _form(formdata: object | None = None) -> SubmissionForm:
    categories = active_categories(db())
    descriptions = {c.code: (c.description_zh if current_language().startswith("zh")
                             else c.description_en) for c in categories}
    choices = category_choices(categories, current_language())
    readers = intake_readers(db(), services().keyring)
    commit()  # no transaction stays open while the files stream in
    form = SubmissionForm(formdata=formdata) if formdata is not None else SubmissionForm()
    if not well_formed(form.once.data):
        # A form from before tokens, or an edited one: shown again, it gets a token of its own.
        form.once.data = new_submission_token()
    form.category.choices = choices
    form.category_descriptions = descriptions
    form.readers = readers
    return form


def _render_form(form: SubmissionForm, status: int = 200, *,
                 files_dropped: bool = False, upload_error: str | None = None,
                 too_large: bool = False) -> ResponseReturnValue:
    """The form page; `too_large` (the files were too large or too many) adds the file
    limits to `upload_error`."""
    limit_mb = services().config.max_submission_bytes // (1024 * 1024)
    return render_template("portal/submit.html", form=form, shown=readers_shown(form.readers),
                           files_dropped=files_dropped,
                           upload_error=upload_error, limit_mb=limit_mb,
                           too_large=too_large,
                           max_files=services().config.max_files), status


def _busy_form(form: SubmissionForm, seconds: int, had_files: bool) -> ResponseReturnValue:
    """The form again, with the reporter's text, when the service is too busy (429): a long
    report must not be lost because others were sending at the same time. Files sent with it
    were received but are not kept (their blobs go with the request's transaction)."""
    response = make_response(_render_form(form, 429, files_dropped=had_files, upload_error=ngettext(
        "This service is busy right now. Please wait %(num)d second and send your report "
        "again.",
        "This service is busy right now. Please wait %(num)d seconds and send your report "
        "again.", seconds)))
    response.headers["Retry-After"] = str(seconds)
    return response


@blueprint.get("/report")
def report_form() -> ResponseReturnValue:
    """The empty submission form."""
    return _render_form(_form())


@blueprint.post("/report")
def report_submit() -> ResponseReturnValue:
    """Receive a report: files are encrypted while they arrive, then the case is created in
    one transaction. The files are kept only if that transaction commits the case
    (core.cases.pending_files): a refusal or a failure leaves nothing behind."""
    config = services().config
    draft = SubmissionDraft()

    def store(valid: SubmissionForm, part: FilePart) -> StoredFile:
        # The text fields before the first file are known here: a filled honeypot stops the
        # post at once, before its files are read on, encrypted or stored.
        if valid.is_bot():
            raise _BotPost(valid)
        return draft.add_file(services(), part.filename, part.content_type, part.chunks(),
                              session=db())

    try:
        post = read_form_with_files(_form, store, FileLimits(
            total_bytes=config.max_submission_bytes, files=config.max_files,
            fields=MAX_FORM_FIELDS, field_bytes=TEXT_FIELD_BYTES))
    except _BotPost as bot:
        return _bot_refused(bot.form)
    form = post.form
    if not post.valid:
        return _render_form(form, post.status, files_dropped=post.files_dropped,
                            upload_error=post.error, too_large=post.too_large)
    # Again for a honeypot that came after the files, or a post without any.
    if form.is_bot():
        return _bot_refused(form)
    # Only a post that passed every check above spends the shared budget or waits for an
    # Argon2id slot: a flood of empty or forged posts costs nobody else anything.
    try:
        enforce_budget("submissions", config.submissions_per_minute)
        # The receipt's Argon2id runs before the transaction, which on SQLite would hold the
        # write lock for its whole length.
        receipt = new_receipt(services())
    except TooManyRequests as busy:
        return _busy_form(form, retry_after_seconds(busy) or 60, bool(post.files))
    except SlotsBusy as busy:
        return _busy_form(form, busy.retry_after, bool(post.files))
    identity = None
    # Typed, then "stay anonymous" chosen: dropped (anonymity wins), and the receipt page
    # says so.
    identity_dropped = form.disclosure.data != "confidential" and any(
        (field.data or "").strip() for field in (form.name, form.contact, form.position))
    if form.disclosure.data == "confidential":
        identity = Identity(name=form.name.data or "", contact=form.contact.data or "",
                            position=form.position.data or "")
    report = ReportContent(
        summary=form.summary.data or "", what_happened=form.what_happened.data or "",
        when=form.when.data or "", where=form.where.data or "",
        who_involved=form.who_involved.data or "", how_known=form.how_known.data or "",
        # Encrypted with the report: the case team answers in the reporter's language.
        evidence=form.evidence.data or "", language=current_language())
    try:
        with attempt() as session:
            # Who the report reaches is decided in this transaction: the reporter must have
            # seen every one of them (and been able to leave them out).
            current = intake_readers(session, services().keyring)
            if form.unseen_readers(current):
                raise _ReadersChanged(current)
            result = submit_report(session, services(), draft, category_code=form.category.data,
                                   report=report, identity=identity, channel=Channel.WEB,
                                   excluded_handlers=form.left_out(), receipt=receipt)
            queue_case_notification(session, result.case_id)
            # Claimed last, by a post that made its case (undone with it if refused): no
            # refusal may tell whoever holds a copy of the form whether it was sent (outside
            # tester). A post without a well-formed token got a fresh one in _form: claimed,
            # it guards nothing and refuses nothing.
            claim_submission_token(session, form.once.data)
    except AlreadySubmitted:
        return render_template("portal/already_sent.html"), 409
    except _ReadersChanged as changed:
        form.readers = changed.readers
        return _render_form(form, 409, upload_error=_readers_changed_message())
    except InvalidInput as refused:
        if refused.field == "exclude":
            # Someone left out who is not on the list (any more): the list is shown afresh.
            form.readers = intake_readers(db(), services().keyring)
            return _render_form(form, 400, upload_error=_readers_changed_message())
        # The form validated but the use case refused (e.g. a category deactivated meanwhile).
        return _render_form(form, 400, upload_error=_(
            "Your report could not be sent. Please check the form and try again."))
    # The receipt is shown only for a case that is stored: commit before the page.
    commit()
    return _receipt_page(result.receipt_code, "portal/receipt.html",
                         identity_dropped=identity_dropped, reaches_nobody=result.unrouted)


def _receipt_page(receipt: str, template: str, *, identity_dropped: bool = False,
                  reaches_nobody: bool = False) -> ResponseReturnValue:
    """The receipt; `reaches_nobody`: no case handler got the report's keys, so no
    acknowledgement is promised (portal/_reaches_nobody.html says what happens instead)."""
    config = services().config
    response = make_response(render_template(
        template, receipt=format_receipt(receipt), print_form=PrintReceiptForm(receipt=receipt),
        acknowledge_days=config.acknowledge_days, feedback_months=config.feedback_months,
        identity_dropped=identity_dropped, reaches_nobody=reaches_nobody,
        recovery=services().keyring.recovery_public_key is not None))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/receipt/print")
def receipt_print() -> ResponseReturnValue:
    """The print-friendly receipt, reached by posting the code back (never in a URL)."""
    form = PrintReceiptForm()
    if not form.validate_on_submit():
        return render_template("portal/receipt_missing.html"), 400
    try:
        receipt = normalise_receipt(form.receipt.data or "")
    except ReceiptError:
        return render_template("portal/receipt_missing.html"), 400
    return _receipt_page(receipt, "portal/receipt_print.html")
