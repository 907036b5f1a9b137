"""A form with files, read while it arrives: the one upload path of both apps.

::

    post = read_form_with_files(ReplyForm, store, FileLimits(total_bytes=..., files=...))
    if post.valid:
        ...  # use post.form and post.files (what `store` returned) in one transaction
    else:
        ...  # show post.form again with post.error, answering post.status

In that order: the CSRF token, the form's first field, is checked before anything else is
read (a bad one is a 400; one that is only too old gives the text back, never acted on); the
text fields, which come before the files, are validated at the first file, and files are
stored only if they are valid (else they are skipped, and `files_dropped` says so); each
chosen file goes to `store(form, part)`, which encrypts it while it arrives. A file part that
cannot be accepted refuses the whole post: no file is ever left out without a word.

Nothing here deletes a file: `store` hands each blob to core with the request's session, and
core deletes it unless the transaction that references it commits
(core.cases.pending_files). Files read before a refusal therefore go with the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from core.cases.files import FILE_CHUNK_SIZE
from core.errors import InvalidInput
from web.uploads import (
    FILE_READ_SIZE,
    FieldPart,
    FilePart,
    MalformedForm,
    StreamingFormParser,
    UploadError,
    UploadTooLarge,
    body_too_large,
)

#: Allowance for the text fields and the multipart framing on top of the files' limit.
FORM_OVERHEAD_BYTES = 2 * 1024 * 1024
#: How much the upload views read at a time (benches/upload.py reads the same).
READ_SIZE = FILE_READ_SIZE
CSRF_FIELD = "csrf_token"


class Form(Protocol):
    """What the helper needs of a form: WTForms' validate()."""

    def validate(self, extra_validators: Any = None) -> bool:
        """Run the field validators; True if they all pass."""
        ...


F = TypeVar("F", bound=Form)
S = TypeVar("S")


@dataclass(frozen=True)
class FileLimits:
    """How much a form with files may carry."""

    #: All files together (the body may be FORM_OVERHEAD_BYTES more, for the text).
    total_bytes: int
    #: Chosen files (an empty file input does not count).
    files: int
    #: Text fields, whose values are held in memory.
    fields: int = 30
    field_bytes: int = 128 * 1024


@dataclass
class FormPost(Generic[F, S]):
    """What a streamed form brought: the form (validated when `valid` or when its errors are
    to be shown), the stored files, and for a refusal its status and human message."""

    form: F
    valid: bool
    files: list[S] = field(default_factory=list)
    status: int = 200
    #: A problem with the post as a whole (too large, cut short, a file refused...).
    error: str | None = None
    #: Files were chosen but not stored because the text fields were invalid.
    files_dropped: bool = False
    #: For a 413: whether the files were the problem, rather than a text field too long or
    #: too many fields (UploadTooLarge.about_files).
    files_too_large: bool = True

    @property
    def too_large(self) -> bool:
        """The post was refused for the size or number of its files (the page then states the
        file limits; a refusal for its text says what was wrong with the text instead)."""
        return self.status == 413 and self.files_too_large


def form_data(fields: dict[str, list[str]]) -> MultiDict[str, str]:
    """Streamed text fields as the MultiDict WTForms reads."""
    return MultiDict([(name, value) for name, values in fields.items() for value in values])


def _csrf_field() -> str | None:
    # Like CSRFProtect: no token is required when the app turned CSRF off (tests).
    return CSRF_FIELD if current_app.config.get("WTF_CSRF_ENABLED", True) else None


def read_form_with_files(
    form_factory: Callable[[MultiDict[str, str]], F],
    store: Callable[[F, FilePart], S],
    limits: FileLimits,
    *,
    file_field: str = "attachments",
) -> FormPost[F, S]:
    """Read the request's multipart form, storing its files through `store` (see the module
    docstring). Upload problems come back as a refused FormPost with the text read so far;
    a CSRF failure other than an expired token is raised (CSRFError, a 400).

    A body declared larger than the limit is read only as far as its text fields and refused
    at its first file, so that someone whose video is too large keeps what they wrote.
    """
    max_body = limits.total_bytes + FORM_OVERHEAD_BYTES
    declared = request.content_length
    if declared is not None and declared > max_body:
        kept, _file_chosen = read_text_fields(form_factory, fields=limits.fields,
                                              field_bytes=limits.field_bytes)
        return FormPost(kept, valid=False, status=413,
                        error=str(body_too_large(max_body).message))
    fields: dict[str, list[str]] = {}
    form: F | None = None
    valid = dropped = False
    files: list[S] = []

    def refused(status: int, message: str, *, about_files: bool = True) -> FormPost[F, S]:
        shown = form if form is not None else form_factory(form_data(fields))
        return FormPost(shown, valid=False, status=status, error=message,
                        files_too_large=about_files)

    try:
        # The constructor refuses a body that is not multipart.
        parser = StreamingFormParser(
            request, max_total_bytes=max_body, max_files=limits.files + 1,
            max_fields=limits.fields, max_field_bytes=limits.field_bytes,
            csrf_field=_csrf_field(), allow_expired_csrf=True, read_size=READ_SIZE,
            # File data in whole secretstream chunks: encrypted without another copy.
            piece_size=FILE_CHUNK_SIZE)
        for part in parser:
            if isinstance(part, FieldPart):
                if form is not None:
                    # The form was built and checked at the first file: a field after it
                    # would be left out unseen (a honeypot, an evidence entry's link).
                    # Browsers send fields in page order, and every form puts its files last.
                    raise MalformedForm(_("The form data could not be read."))
                fields.setdefault(part.name, []).append(part.value)
                continue
            if parser.csrf_expired:
                break  # only the text is given back; the files are chosen again
            if form is None:
                form = form_factory(form_data(fields))
                valid = form.validate()
            if not _acceptable(part, file_field):
                continue  # an empty file input
            if not valid:
                dropped = True
                continue
            if len(files) >= limits.files:
                raise UploadTooLarge(_("Too many files were sent."), reason="files",
                                     limit=limits.files)
            files.append(store(form, part))
    except UploadError as exc:
        about_files = not isinstance(exc, UploadTooLarge) or exc.about_files
        return refused(exc.status_code, str(exc.message), about_files=about_files)
    except InvalidInput as exc:
        if exc.field == "attachments":
            return refused(413, _("The files are larger than this service accepts, or there "
                                  "are too many."))
        return refused(400, _("Please check the form and try again."))
    if parser.csrf_expired:
        return FormPost(form_factory(form_data(fields)), valid=False, status=400, error=_(
            "This page was open for more than a day, so for your safety it was not sent. "
            "Your text is below: check it and send it again, choosing any files again."))
    if form is None:
        form = form_factory(form_data(fields))
        valid = form.validate()
    return FormPost(form, valid, files, status=200 if valid else 400, files_dropped=dropped)


def _acceptable(part: FilePart, file_field: str) -> bool:
    """Whether `part` is a chosen file to store (False: an empty file input, skipped).
    Anything else refuses the whole post (MalformedForm): a file is never left out silently."""
    if not part.filename:
        part.discard()
        if part.size == 0:
            return False  # a file input left empty: no name, no content
        raise MalformedForm(_("One of the files came without a name, so nothing was sent."))
    if part.name != file_field:
        raise MalformedForm(_("The form data could not be read."))
    return True


def read_text_fields(form_factory: Callable[[MultiDict[str, str]], F], *, fields: int = 30,
                     field_bytes: int = 128 * 1024) -> tuple[F, bool]:
    """Only the text fields of a streamed form, unvalidated, and whether a file was chosen:
    for a request refused anyway (a busy instance, an ended session), so that the page can
    give the text back. The CSRF token is checked first (CSRFError, a 400), but one that is
    only too old passes: the text is only ever shown back. The body is read up to its first
    file (at most FORM_OVERHEAD_BYTES) and no further."""
    values: dict[str, list[str]] = {}
    file_chosen = False
    try:
        parser = StreamingFormParser(
            request, max_total_bytes=FORM_OVERHEAD_BYTES, check_declared_length=False,
            csrf_field=_csrf_field(), allow_expired_csrf=True, read_size=READ_SIZE,
            max_fields=fields, max_field_bytes=field_bytes)
        for part in parser:
            if isinstance(part, FilePart):
                file_chosen = bool(part.filename)
                break
            values.setdefault(part.name, []).append(part.value)
    except UploadError:
        pass  # what was read so far is all there is to give back
    return form_factory(form_data(values)), file_chosen
