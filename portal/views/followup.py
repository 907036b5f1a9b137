"""Coming back with a receipt code: login, the case page, replies, downloads, logout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as BaseResponse

from core.cases.files import StoredFile
from core.cases.identity_requests import identity_disclosures
from core.cases.readers import CaseReaders, case_readers_by_id
from core.cases.retention import ContentDestroyed
from core.cases.stages import reached_stages
from core.cases.transitions import SATISFACTION_STAGES
from core.cases.views import CaseView
from core.errors import (
    DecryptionError,
    InvalidInput,
    MessageLimitReached,
    NotFound,
    ReceiptNotRecognised,
)
from core.intake.outcome_answer import NoOutcomeYet, answer_outcome
from core.intake.receipts import (
    MalformedReceipt,
    MistypedReceipt,
    derive_receipt,
    normalise_receipt,
)
from core.intake.reporter import (
    SubmitterAccess,
    login_submitter,
    open_file_for_submitter,
    post_submitter_message,
    read_case_for_submitter,
    store_submitter_file,
    submitter_file_id,
    submitter_file_numbers,
)
from core.intake.reporter_sessions import (
    end_submitter_session,
    resume_submitter_session,
    start_submitter_session,
)
from core.kdf_slots import SlotsBusy
from core.models import Case, CaseStatus, Category, Satisfaction, ScopeDecision
from core.models.enums import FINAL_STATUSES
from core.operations.notifications import queue_case_notification
from core.session_tokens import new_session_token
from portal.forms import TEXT_FIELD_BYTES, OutcomeAnswerForm, ReceiptLoginForm, ReplyForm
from portal.stages import ANSWERED, STAGES, progress_steps, question_answered
from portal.state import services
from web import current_language
from web.database import attempt, commit, db
from web.downloads import attachment_response
from web.streamed_forms import FileLimits, FormPost, read_form_with_files, read_text_fields
from web.uploads import FilePart

blueprint = Blueprint("followup", __name__)


def _cookie_name() -> str:
    return str(current_app.config["FOLLOWUP_COOKIE"])


def _set_followup_cookie(response: BaseResponse, value: str) -> None:
    response.set_cookie(_cookie_name(), value, secure=current_app.config["SESSION_COOKIE_SECURE"],
                        httponly=True, samesite="Strict", path="/")


def _login_page(form: ReceiptLoginForm, status: int = 200, *,
                session_hint: bool = False) -> ResponseReturnValue:
    return render_template("portal/followup.html", form=form, session_hint=session_hint,
                           idle_minutes=services().config.submitter_session_idle_minutes), status


@blueprint.get("/follow-up")
def followup_form() -> ResponseReturnValue:
    """The receipt login form."""
    return _login_page(ReceiptLoginForm())


@blueprint.post("/follow-up")
def followup_login() -> ResponseReturnValue:
    """Check a receipt code. A valid and an unknown code get the same answer (303 to /case);
    only a code that fails its check digit, or is not a code at all, is told so here."""
    form = ReceiptLoginForm()
    if not form.validate_on_submit():
        return _login_page(form, 400)
    try:
        # The typo check needs no database and no budget: it reveals nothing.
        normalise_receipt(form.receipt.data or "")
    except MistypedReceipt:
        form.receipt.errors = [_("One of the digits seems to be mistyped. Please check the "
                                 "code and try again.")]
        return _login_page(form, 400)
    except MalformedReceipt:
        form.receipt.errors = [_("A receipt code has 28 digits, in groups of four.")]
        return _login_page(form, 400)
    try:
        # In arrival order, at the speed of the CPU (core.kdf_slots): guessers slow a
        # reporter down by the requests ahead of them, they cannot lock them out. Before any
        # transaction: on SQLite that would hold the write lock for the whole derivation.
        derived = derive_receipt(services(), form.receipt.data or "")
    except SlotsBusy as busy:
        raise TooManyRequests(retry_after=busy.retry_after) from None
    response = redirect(url_for("followup.case"), code=303)
    try:
        with attempt() as session:
            access = login_submitter(session, services(), form.receipt.data or "",
                                     derived=derived)
            cookie = start_submitter_session(session, services(), access)
    except (ReceiptNotRecognised, InvalidInput, DecryptionError):
        # A decoy of the same shape and length, which opens nothing: on the wire, an unknown
        # code's answer then looks exactly like a valid one's.
        cookie = new_session_token().encode()
    _set_followup_cookie(response, cookie)
    return response


def _resume() -> SubmitterAccess | None:
    access = resume_submitter_session(db(), services(), request.cookies.get(_cookie_name()))
    # Ended here, not after the view: no transaction stays open while an upload streams in.
    commit()
    return access


@blueprint.get("/case")
def case() -> ResponseReturnValue:
    """The reporter's case: stage, thread, reply form."""
    access = _resume()
    if access is None:
        return _login_page(ReceiptLoginForm(), session_hint=True)
    return _case_page(_read_case(access), ReplyForm())


@dataclass(frozen=True)
class _ShownCase:
    view: CaseView
    #: attachment id -> the number the page links it by (ids would tell the service's volume)
    file_numbers: dict[int, int]
    #: the stages the case has really been in (the progress list marks only those done)
    reached: frozenset[CaseStatus]
    #: who holds the case's keys now
    readers: CaseReaders
    #: the days the reporter's identity was disclosed to the case team
    disclosures: tuple[date, ...]
    #: the category the reporter chose, and their answer to the outcome (if given)
    category: Category | None
    satisfaction: Satisfaction | None
    #: the scope decision, if made (a closed referred or rejected case shows that ending)
    scope: ScopeDecision | None


def _case_row(access: SubmitterAccess) -> Case:
    row = db().get(Case, access.case_id)
    if row is None:
        raise NotFound("this case no longer exists")
    return row


def _read_case(access: SubmitterAccess) -> _ShownCase:
    row = _case_row(access)
    return _ShownCase(read_case_for_submitter(db(), services(), access),
                      submitter_file_numbers(db(), access),
                      reached_stages(db(), access.case_id),
                      case_readers_by_id(db(), access.case_id),
                      tuple(identity_disclosures(db(), services().keyring, access.case_id)),
                      row.category, row.satisfaction, row.scope_decision)


def _case_page(shown: _ShownCase, form: ReplyForm, status: int = 200, *,
               post: FormPost[ReplyForm, StoredFile] | None = None,
               answer_form: OutcomeAnswerForm | None = None,
               answer_error: str | None = None) -> ResponseReturnValue:
    config = services().config
    if answer_form is None:
        answer_form = OutcomeAnswerForm(formdata=None)
        if shown.satisfaction is not None:
            answer_form.satisfied.data = (
                "yes" if shown.satisfaction is Satisfaction.SATISFIED else "no")
    category = shown.category
    return render_template(
        "portal/case.html", case=shown.view, file_numbers=shown.file_numbers, form=form,
        category_name=(None if category is None else category.name_zh
                       if current_language().startswith("zh") else category.name_en),
        satisfaction=shown.satisfaction, answer_form=answer_form, answer_error=answer_error,
        may_answer=shown.view.status in SATISFACTION_STAGES,
        readers=shown.readers, disclosures=shown.disclosures,
        # An open case nobody on its team can read any more (core.cases.unreached's rule).
        reaches_nobody=not shown.readers.team and shown.view.status not in FINAL_STATUSES,
        stages=STAGES, answered=ANSWERED,
        progress=progress_steps(shown.view.status, shown.reached, shown.scope),
        question_answered=question_answered(shown.view),
        files_dropped=post.files_dropped if post else False,
        upload_error=post.error if post else None,
        too_large=post is not None and post.too_large,
        limit_mb=config.max_submission_bytes // (1024 * 1024), max_files=config.max_files,
    ), status


@blueprint.post("/case/reply")
def reply() -> ResponseReturnValue:
    """A message and/or files from the reporter; files are encrypted as they arrive."""
    access = _resume()
    if access is None:
        return _unsent_reply()
    reporter = access
    # One date for the files and the message, even if the upload runs past midnight.
    day = services().clock.submitter_day()

    config = services().config
    stored_bytes = 0  # the reply's files together, as a new report's (SubmissionDraft)

    def store(_valid: ReplyForm, part: FilePart) -> StoredFile:
        # Held on the request's session: kept only if the message below commits.
        nonlocal stored_bytes
        stored = store_submitter_file(services(), reporter, part.filename, part.content_type,
                                      part.chunks(), day=day, session=db(),
                                      limit=config.max_submission_bytes - stored_bytes)
        stored_bytes += stored.plaintext_size
        return stored

    post = read_form_with_files(lambda data: ReplyForm(formdata=data), store,
                                FileLimits(total_bytes=config.max_submission_bytes,
                                           files=config.max_files,
                                           field_bytes=TEXT_FIELD_BYTES))
    form = post.form
    if not post.valid:
        return _case_page(_read_case(access), form, post.status, post=post)
    try:
        with attempt() as session:
            post_submitter_message(session, services(), access, form.body.data or "",
                                   post.files, day=day)
            queue_case_notification(session, access.case_id)
    except ContentDestroyed:
        return _destroyed_meanwhile()
    except InvalidInput as exc:
        form.body.errors = [_message_error(exc)]
        return _case_page(_read_case(access), form, 400)
    commit()  # the message and its files are kept before the reporter is told so
    return redirect(url_for("followup.case", _anchor="messages"), code=303)


def _destroyed_meanwhile() -> ResponseReturnValue:
    """Retention destroyed the case after the request's session was checked (while a reply's
    files streamed in): nothing was stored (its files are deleted with the rolled-back
    attempt), and the session ends as it would have on its next use (403, the login page)."""
    end_submitter_session(db(), services(), request.cookies.get(_cookie_name()))
    commit()
    return _login_page(ReceiptLoginForm(), 403, session_hint=True)


def _unsent_reply() -> ResponseReturnValue:
    """A reply that arrived after the session ended (30 idle minutes pass quickly while
    writing): nothing is stored, and the login page (403) shows the text back so that the
    reporter can copy it instead of losing it. Only the text fields are read, after the
    CSRF token (a bad one is a 400); the body stops being read at its first file."""
    form, file_chosen = read_text_fields(lambda data: ReplyForm(formdata=data))
    text = form.body.data or ""
    if not text.strip() and not file_chosen:
        return redirect(url_for("followup.case"), code=303)
    return render_template(
        "portal/followup.html", form=ReceiptLoginForm(), unsent_text=text,
        unsent_files=file_chosen,
        idle_minutes=services().config.submitter_session_idle_minutes), 403


def _message_error(exc: InvalidInput) -> str:
    message: str
    if isinstance(exc, MessageLimitReached) and exc.period == "week":
        message = _("You have sent many messages this week. Please try again next week.")
    elif isinstance(exc, MessageLimitReached):
        message = _("You have sent many messages today. Please try again tomorrow.")
    elif exc.field == "attachments":
        message = _("The files are larger than this service accepts.")
    else:
        message = _("Write a message or choose a file.")
    return message


@blueprint.post("/case/answer")
def answer() -> ResponseReturnValue:
    """The reporter's answer to the outcome. "Not satisfied" asks the team for a review.
    (The CSRF token was checked by CSRFProtect before this runs: a missing one is a 400.)"""
    access = _resume()
    form = OutcomeAnswerForm()
    if access is None:
        return _unsent_answer(form)
    if not form.validate_on_submit():
        return _case_page(_read_case(access), ReplyForm(), 400, answer_form=form,
                          answer_error=_answer_form_error(form))
    try:
        with attempt() as session:
            answer_outcome(session, services(), access, form.satisfied.data == "yes",
                           form.comment.data or "")
            queue_case_notification(session, access.case_id)
    except ContentDestroyed:
        return _destroyed_meanwhile()
    except NoOutcomeYet:
        return _case_page(_read_case(access), ReplyForm(), 409, answer_form=form,
                          answer_error=_("You can answer once the outcome has been sent."))
    except InvalidInput as exc:
        return _case_page(_read_case(access), ReplyForm(), 400, answer_form=form,
                          answer_error=_message_error(exc))
    commit()
    return redirect(url_for("followup.case", _anchor="outcome-answer"), code=303)


def _answer_form_error(form: OutcomeAnswerForm) -> str:
    """The line above the answer form: no choice (or a choice not offered), or the comment's
    own error (too long)."""
    message: str
    if not form.satisfied.errors and form.comment.errors:
        message = str(form.comment.errors[0])
    else:
        message = _("Choose whether you are satisfied, then send.")
    return message


def _unsent_answer(form: OutcomeAnswerForm) -> ResponseReturnValue:
    """An answer that arrived after the session ended: nothing is stored. A comment comes back
    on the login page (403), as an unsent reply does, so that it is not lost."""
    text = form.comment.data or ""
    if not text.strip():
        return redirect(url_for("followup.case"), code=303)
    return render_template(
        "portal/followup.html", form=ReceiptLoginForm(), unsent_text=text, unsent_files=False,
        idle_minutes=services().config.submitter_session_idle_minutes), 403


@blueprint.get("/case/files/<id:number>")
def download(number: int) -> ResponseReturnValue:
    """The case's file `number` (as the case page numbers them), decrypted while it streams;
    always a download, never inline."""
    access = _resume()
    if access is None:
        return redirect(url_for("followup.case"), code=303)
    file_id = submitter_file_id(db(), access, number)
    meta, chunks = open_file_for_submitter(db(), services(), access, file_id)
    commit()  # the download's audit event is durable before the first byte
    return attachment_response(meta.name, meta.size, chunks)


@blueprint.post("/case/logout")
def logout() -> ResponseReturnValue:
    """End the follow-up session; the cookie becomes worthless."""
    end_submitter_session(db(), services(), request.cookies.get(_cookie_name()))
    response = redirect(url_for("pages.landing"), code=303)
    response.delete_cookie(_cookie_name(), path="/", secure=current_app.config[
        "SESSION_COOKIE_SECURE"], httponly=True, samesite="Strict")
    return response
