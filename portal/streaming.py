"""Reading a multipart form whose files are encrypted while they arrive."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request
from flask_babel import gettext as _

from core.cases.files import FILE_CHUNK_SIZE as CHUNK_SIZE
from core.errors import InvalidInput
from portal.forms import ATTACHMENTS_FIELD, StreamedForm, form_data
from web.uploads import (
    FILE_READ_SIZE,
    FilePart,
    StreamingFormParser,
    UploadError,
    body_too_large,
)

#: Allowance for the form's text fields and multipart framing on top of the file limit.
FORM_OVERHEAD_BYTES = 2 * 1024 * 1024
#: How much the upload views read at a time (benches/upload.py reads the same).
READ_SIZE = FILE_READ_SIZE


@dataclass
class StreamedPost:
    """The outcome of reading a streamed form."""

    form: StreamedForm
    valid: bool
    #: Files were chosen but not stored because the text fields were invalid.
    files_dropped: bool = False
    #: A problem with the upload as a whole (too large, cut short), for the page's summary.
    upload_error: str | None = None
    status: int = 200
    fields: dict[str, list[str]] = field(default_factory=dict)


def read_streamed_form(
    form_factory: Callable[[Any], StreamedForm],
    store_file: Callable[[FilePart], None],
    *,
    max_file_bytes: int,
    max_files: int,
) -> StreamedPost:
    """Parse the request: check CSRF first, validate the text fields as soon as the first
    file arrives (fields come first in the form), and hand each chosen file to `store_file`
    only if they are valid. Invalid forms skip the files without storing a byte.

    Upload problems (too large, too many files, cut short) come back as `upload_error` with
    the text fields read so far, so the page can be shown again with the reporter's input.
    A CSRF failure is raised (400) before anything is read, except for a token that is only
    too old (the page was open for more than a day): then the text fields are read, up to the
    first file, and come back never valid, with a notice as `upload_error`.

    A body declared larger than the limit is read only as far as its text fields (at most
    FORM_OVERHEAD_BYTES; they come before the files) and refused at its first file, so that
    a reporter whose video is too large keeps what they wrote.
    """
    max_total = max_file_bytes + FORM_OVERHEAD_BYTES
    declared = request.content_length
    if declared is not None and declared > max_total:
        kept, _file_chosen = read_text_fields(form_factory)
        return StreamedPost(form=kept, valid=False, status=413,
                            upload_error=str(body_too_large(max_total).message))
    fields: dict[str, list[str]] = {}
    form: StreamedForm | None = None
    valid = False
    dropped = False
    try:
        # The constructor refuses a body that is not multipart.
        parser = StreamingFormParser(
            request, max_total_bytes=max_total, max_files=max_files + 1,
            csrf_field="csrf_token", read_size=READ_SIZE, allow_expired_csrf=True,
            # File data in whole secretstream chunks: encrypted without another copy.
            piece_size=CHUNK_SIZE,
            # The forms have about a dozen text fields of at most 20,000 characters.
            max_fields=30, max_field_bytes=128 * 1024)
        for part in parser:
            if not isinstance(part, FilePart):
                fields.setdefault(part.name, []).append(part.value)
                continue
            if parser.csrf_expired:
                break  # only the text is given back; files are chosen again
            if form is None:
                form = form_factory(form_data(fields))
                valid = form.validate()
            if part.name != ATTACHMENTS_FIELD or not part.filename:
                continue  # an empty file input, or a field we do not expect: skipped
            if not valid:
                dropped = True
                continue
            store_file(part)
    except UploadError as exc:
        return StreamedPost(form=form or form_factory(form_data(fields)), valid=False,
                            upload_error=str(exc.message), status=exc.status_code,
                            fields=fields)
    except InvalidInput as exc:
        message = (_("The files are larger than this service accepts, or there are too many.")
                   if exc.field == "attachments"
                   else _("Please check the form and try again."))
        status = 413 if exc.field == "attachments" else 400
        return StreamedPost(form=form or form_factory(form_data(fields)), valid=False,
                            upload_error=message, status=status, fields=fields)
    if parser.csrf_expired:
        return StreamedPost(form=form_factory(form_data(fields)), valid=False, status=400,
                            fields=fields, upload_error=_(
                                "This page was open for more than a day, so for your safety "
                                "it was not sent. Your text is below: check it and send it "
                                "again, choosing any files again."))
    if form is None:
        form = form_factory(form_data(fields))
        valid = form.validate()
    return StreamedPost(form=form, valid=valid, files_dropped=dropped, fields=fields,
                        status=200 if valid else 400)


def read_text_fields(form_factory: Callable[[Any], StreamedForm]
                     ) -> tuple[StreamedForm, bool]:
    """Only the text fields of a streamed form (CSRF checked first: CSRFError, a 400, but a
    token that is only too old passes), unvalidated, and whether a file was chosen. The body
    is read up to its first file (at most FORM_OVERHEAD_BYTES) and no further. For a request
    refused anyway (a busy instance, an ended session), so that the page can give the
    reporter's text back."""
    fields: dict[str, list[str]] = {}
    file_chosen = False
    try:
        parser = StreamingFormParser(
            request, max_total_bytes=FORM_OVERHEAD_BYTES, check_declared_length=False,
            csrf_field="csrf_token", read_size=READ_SIZE, max_fields=30,
            max_field_bytes=128 * 1024,
            # Only ever shown back: a page open for days still gets its text returned.
            allow_expired_csrf=True)
        for part in parser:
            if isinstance(part, FilePart):
                file_chosen = bool(part.filename)
                break
            fields.setdefault(part.name, []).append(part.value)
    except UploadError:
        pass  # what was read so far is all there is to give back
    return form_factory(form_data(fields)), file_chosen
