"""The case file export: a member of the case team enters the passphrase again and gets
`case-<reference>.zip` (the decrypted case file as a PDF, with its attachments).

The order of the work: the passphrase is checked outside any transaction (reviewer.session
.reauthenticate); the case file is decrypted, laid out as HTML and its one audit event
written in one transaction, which is committed before anything is sent (if the event cannot
be written, nothing leaves); the PDF is then made outside any transaction (it takes a
moment: on SQLite a transaction is the write lock), and the zip is written while it is sent,
each attachment decrypted chunk by chunk from the blob store, as a download is. A failure
after the commit leaves the log recording an export that did not arrive, never the reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from core.cases.case_file import export_case_file
from core.cases.team import get_case
from core.errors import StreamError
from core.models import Role
from reviewer.case_file_export import (
    archive_members,
    archive_name,
    case_file_pdf,
    render_case_file_html,
)
from reviewer.console import console
from reviewer.forms import PassphraseConfirmForm
from reviewer.pdf import PdfUnavailable, require_pdf
from reviewer.session import current, reauthenticate, require_member
from reviewer.session import role_required as _role_required
from reviewer.views.auth import too_many
from web.database import commit, db
from web.downloads import archive_response
from web.zip_stream import zip_chunks

blueprint = Blueprint("case_file", __name__)
log = logging.getLogger("candor.console")
role_required = _role_required(Role.REVIEWER)


@blueprint.route("/cases/<id:case_id>/export", methods=["GET", "POST"])
@role_required
def export(case_id: int) -> Any:
    """The form (GET), then the zip, with the passphrase entered on this very form."""
    require_member(case_id)
    case = get_case(db(), case_id)
    form = PassphraseConfirmForm()
    try:
        require_pdf()  # before the passphrase, the decryption and the audit event
    except PdfUnavailable as exc:
        log.warning("case file export refused: %s", exc)
        return render_template("reviewer/case_file_export.html", case=case, form=form,
                               pdf_unavailable=True), 503
    if form.validate_on_submit():
        accepted, wait = reauthenticate(form.passphrase.data or "")
        if wait is not None:
            return too_many(wait)
        if accepted:
            return _send(case_id)
        form.passphrase.errors = [_("The passphrase is not correct.")]
    form.passphrase.data = ""
    status = 400 if request.method == "POST" else 200
    return render_template("reviewer/case_file_export.html", case=case, form=form), status


def _send(case_id: int) -> Any:
    """Decrypt and audit, commit, then make the PDF and stream the zip."""
    services = console().services
    case_file = export_case_file(db(), services, current().unlocked, case_id)
    html = render_case_file_html(case_file)
    commit()  # the export's audit event is durable before the first byte leaves
    reference = case_file.facts.reference
    pdf = case_file_pdf(html, reference)
    archive = zip_chunks(archive_members(case_file, pdf, services.blobs),
                         day=case_file.exported_on)

    def body() -> Iterator[bytes]:
        try:
            yield from archive
        except StreamError:
            # Abort the connection: a broken archive is better than one with bad data.
            log.warning("an attachment failed its integrity check during a case file export")
            raise

    return archive_response(archive_name(reference), body())
