"""The case page: the decrypted report and thread, replies and notes, downloads, identity
reveal, and the case team (grant, exclude)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.cases.casework import (
    StageRefused,
    check_reviewer_file_key,
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
    store_checked_reviewer_file,
)
from core.cases.files import StoredFile
from core.cases.identity_access import identity_approved, reveal_identity
from core.cases.kinds import policy_of
from core.cases.lead_tags import lead_trusted
from core.cases.readers import case_readers
from core.cases.retention import due_on
from core.cases.team import case_team, get_case, get_case_file, get_member, grant_candidates
from core.cases.team_changes import LastMemberError, exclude_member, grant_case, may_exclude
from core.errors import InvalidInput, StreamError, TamperedRecord
from core.models import KeyKind, MessageKind, Role
from reviewer.console import console
from reviewer.destroyed import destroyed_case_page
from reviewer.forms import (
    GrantForm,
    PassphraseConfirmForm,
    ReplyForm,
    RevealForm,
    first_form_error,
    form_page_status,
)
from reviewer.session import current, reauth_required, reauthenticate, require_member
from reviewer.session import role_required as _role_required
from reviewer.views.auth import too_many
from web.database import attempt, commit, db
from web.downloads import attachment_response
from web.forms import as_choices
from web.streamed_forms import FileLimits, read_form_with_files
from web.uploads import FilePart

blueprint = Blueprint("cases", __name__)
log = logging.getLogger("candor.console")
role_required = _role_required(Role.REVIEWER)


def render_case(case_id: int, form: ReplyForm | None = None, error: str | None = None,
                status: int = 200) -> Any:
    """The case page (decrypted: audited), with `error` above the forms."""
    from reviewer.views.handling import handling_context
    c = console()
    auth = current()
    destroyed = get_case(db(), case_id)
    if destroyed.content_destroyed_on is not None:
        # Nothing is left to decrypt: the clear facts and the notice (reviewer.destroyed).
        return destroyed_case_page(destroyed, 409 if error is not None else status)
    view = read_case_for_reviewer(db(), c.services, auth.unlocked, case_id)
    case = get_case(db(), case_id)
    can_reveal = (view.disclosure.value == "confidential"
                  and identity_approved(db(), c.services.keyring, case_id, auth.reviewer.id))
    return render_template(
        "reviewer/case.html", view=view, case=case, team=case_team(db(), case_id),
        form=form if form is not None else ReplyForm(formdata=None), error=error,
        can_reveal=can_reveal, can_exclude=may_exclude(c.services.keyring, case, auth.reviewer.id),
        lead_tampered=not lead_trusted(c.services.keyring, case),
        readers=case_readers(db(), case), today=c.services.clock.today(),
        me=auth.reviewer.id, destruction_day=due_on(case, c.config.retention_days),
        **handling_context(case, view)), status


@blueprint.get("/cases/<id:case_id>")
@role_required
def show(case_id: int) -> Any:
    """The decrypted case (audited), marked as such, never cached."""
    require_member(case_id)
    return render_case(case_id)


@blueprint.post("/cases/<id:case_id>/reply")
@role_required
def reply(case_id: int) -> Any:
    """A reply or internal note, with attachments streamed straight into encrypted blobs.

    Files sent with a note are under the team key; with a reply, under the case key."""
    require_member(case_id)
    c = console()
    who = current().unlocked

    checked: list[KeyKind] = []

    def store(valid: ReplyForm, part: FilePart) -> StoredFile:
        # A file travels under its message's key (core.cases.kinds); the form, kind included,
        # was validated before the first file. Held on the request's session: kept only if
        # the message below commits.
        key_kind = policy_of(MessageKind(valid.kind.data)).key
        if key_kind not in checked:
            checked.append(key_kind)
            check_reviewer_file_key(db(), who, case_id, key_kind)
            # Before the first file, nothing is held yet: end the reads, so that no
            # transaction (on SQLite: the write lock) stays open while the files stream in.
            commit()
        return store_checked_reviewer_file(c.services, db(), key_kind, part.filename,
                                           part.content_type, part.chunks())

    commit()  # what the checks above read: no transaction stays open while the body arrives
    post = read_form_with_files(
        lambda data: ReplyForm(formdata=data), store,
        FileLimits(total_bytes=c.config.max_submission_bytes, files=c.config.max_files,
                   fields=20, field_bytes=256 * 1024))
    error = post.error
    if post.valid:
        try:
            with attempt():
                post_reviewer_message(db(), c.services, who, case_id,
                                      MessageKind(post.form.kind.data),
                                      post.form.body.data or "", post.files)
        except InvalidInput:
            error = _("The message could not be sent. Check the text and try again.")
        except StageRefused:
            return render_case(case_id, post.form, _(
                "This kind of message cannot be sent in the case's current stage: a request "
                "for information belongs to acceptance and investigation (reopen the case "
                "to ask more)."), 409)
        else:
            return redirect(url_for("cases.show", case_id=case_id) + "#thread", code=303)
    # A refused field (an empty or over-long text) says why in its own words.
    error = error or (first_form_error(post.form) if post.form.errors else None)
    return render_case(case_id, post.form, error or _("The message was not sent."),
                        post.status if post.status != 200 else 400)


@blueprint.get("/cases/<id:case_id>/files/<id:file_id>")
@role_required
def download(case_id: int, file_id: int) -> Any:
    """Stream a decrypted attachment; the audit event is committed before the first byte."""
    require_member(case_id)
    get_case_file(db(), case_id, file_id)
    try:
        meta, stream = open_file_for_reviewer(db(), console().services, current().unlocked,
                                              file_id)
    except TamperedRecord:
        # Not raised further: the audit event of the tampering must commit with this request.
        return render_template("reviewer/tampered.html", case=get_case(db(), case_id)), 409
    first = next(stream, b"")  # a bad header fails here, before any byte is sent
    commit()

    def body() -> Iterator[bytes]:
        yield first
        try:
            yield from stream
        except StreamError:
            # Abort the connection: a broken download is better than bad data.
            log.warning("an attachment failed its integrity check during download")
            raise

    return attachment_response(meta.name, meta.size, body())


@blueprint.route("/cases/<id:case_id>/reveal", methods=["GET", "POST"])
@role_required
def reveal(case_id: int) -> Any:
    """Open a confidential reporter's identity, with a reason (kept as an internal note) and
    the passphrase entered on this very form (a recent login is not enough)."""
    require_member(case_id)
    case = get_case(db(), case_id)
    if not identity_approved(db(), console().services.keyring, case_id,
                             current().reviewer.id):
        # Two people, always (core.cases.identity_access): the way there is a request.
        flash(_("The reporter's identity is opened only after an identity custodian other "
                "than you has approved your request for it. Ask for it here."))
        return redirect(url_for("identity.ask", case_id=case_id), code=303)
    form = RevealForm()
    if form.validate_on_submit():
        accepted, wait = reauthenticate(form.passphrase.data or "")
        if wait is not None:
            return too_many(wait)
        if accepted:
            identity = reveal_identity(db(), console().services, current().unlocked, case_id,
                                       form.reason.data or "")
            return render_template("reviewer/identity.html", case=case, identity=identity)
        form.passphrase.errors = [_("The passphrase is not correct.")]
    form.passphrase.data = ""
    status = 400 if request.method == "POST" else 200
    return render_template("reviewer/reveal.html", case=case, form=form), status


@blueprint.route("/cases/<id:case_id>/grant", methods=["GET", "POST"])
@role_required
@reauth_required
def grant(case_id: int) -> Any:
    """Add a colleague to the case team (their public key receives the case keys)."""
    require_member(case_id)
    case = get_case(db(), case_id)
    candidates = grant_candidates(db(), case, console().services.keyring)
    form = GrantForm()
    form.reviewer.choices = as_choices((r.id, r.username) for r in candidates)
    if form.validate_on_submit():
        # The form accepts only a listed choice, so the grantee is one of the candidates.
        grantee = next(r for r in candidates if r.id == form.reviewer.data)
        grant_case(db(), console().services, current().unlocked, case_id, grantee)
        flash(_("%(name)s is now on the case team.", name=grantee.username))
        return redirect(url_for("cases.show", case_id=case_id) + "#team", code=303)
    return render_template("reviewer/grant.html", case=case, form=form,
                           candidates=candidates), form_page_status()


@blueprint.route("/cases/<id:case_id>/members/<account:reviewer_id>/exclude",
                 methods=["GET", "POST"])
@role_required
def exclude(case_id: int, reviewer_id: int) -> Any:
    """Exclude a member (conflict of interest): their grants are deleted and the case moves to
    new keys. Only the case lead may, with the passphrase entered on this very form."""
    require_member(case_id)
    case = get_case(db(), case_id)
    target = get_member(db(), case_id, reviewer_id).reviewer
    if not may_exclude(console().services.keyring, case, current().reviewer.id):
        abort(403)
    form = PassphraseConfirmForm()
    if form.validate_on_submit():
        accepted, wait = reauthenticate(form.passphrase.data or "")
        if wait is not None:
            return too_many(wait)
        if not accepted:
            form.passphrase.errors = [_("The passphrase is not correct.")]
            return _exclude_page(case, target, form), 400
        try:
            with attempt():
                exclude_member(db(), console().services, current().unlocked.actor, case_id,
                               target)
        except LastMemberError:
            return _exclude_page(case, target, form, _(
                "%(name)s is the only one left on this case team. Add a colleague to the team "
                "first, so that the case still has someone to handle it.",
                name=target.username)), 409
        if reviewer_id == current().reviewer.id:
            return redirect(url_for("inbox.index"), code=303)
        return redirect(url_for("cases.show", case_id=case_id) + "#team", code=303)
    form.passphrase.data = ""
    return _exclude_page(case, target, form), 400 if request.method == "POST" else 200


def _exclude_page(case: Any, target: Any, form: PassphraseConfirmForm,
                  error: str | None = None) -> str:
    form.passphrase.data = ""
    return render_template("reviewer/exclude.html", case=case, target=target, form=form,
                           error=error)
