"""Streaming multipart/form-data parsing that never spools files to disk or memory.

werkzeug's ``request.form``/``request.files`` write large files to temporary files on disk,
where plaintext evidence could outlive the request. This parser hands file contents to the
caller in pieces as they arrive (to be encrypted on the fly) and keeps at most about one
read buffer in memory::

    parser = StreamingFormParser(request, max_total_bytes=..., csrf_field="csrf_token")
    for part in parser:  # parts in request order
        if isinstance(part, FieldPart):
            fields[part.name] = part.value
        elif part.filename:  # empty file inputs arrive with filename ""
            for chunk in part.chunks():
                sink.write(chunk)

A file part must be consumed (``chunks()``) or skipped before the next part is read;
moving on to the next part discards whatever is left of it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from flask_babel import lazy_gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Event,
    Field,
    File,
    NeedData,
    Preamble,
    State,
)
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_content_length

from web.csrf import CSRFExpired, validate_csrf_token
from web.multipart_fix import BoundarySafeDecoder
from web.request_body import BodyReader
from web.upload_errors import (
    MalformedForm,
    UploadError,
    UploadTooLarge,
    body_too_large,
)
from web.upload_parts import FieldPart, FilePart, Part, as_browser_sent, client_filename

__all__ = [
    "FILE_READ_SIZE", "MAX_BOUNDARY_LENGTH", "READ_SIZE", "FieldPart", "FilePart",
    "MalformedForm", "StreamingFormParser", "UploadError", "UploadTooLarge", "body_too_large",
    "field_characters",
]

# "_" is lazy_gettext: messages are built at import time and translated when shown.

READ_SIZE = 64 * 1024
MiB = 1024 * 1024
#: Reads for views that take files: far fewer Python-level steps per megabyte than 64 KiB
#: (benches/upload.py: about 120 -> 250 MB/s at 1 GiB). Memory stays at a few of these.
FILE_READ_SIZE = MiB
# Part headers and any preamble must fit in this much memory on top of one read.
_MAX_HEADER_BYTES = 16 * 1024
#: Longest boundary accepted. RFC 2046 allows 70 characters, but clients exceed it:
#: werkzeug's own test client sends up to about 75 (a float's digits). Refusing them buys
#: nothing (the decoder's work scales with the boundary), so any up to this length is read.
MAX_BOUNDARY_LENGTH = 200
# RFC 2046 boundary characters, not ending in a space.
_BOUNDARY_CHAR = r"[0-9A-Za-z'()+_,\-./:=?]"
_BOUNDARY_RE = re.compile(
    rf"(?:{_BOUNDARY_CHAR}| ){{0,{MAX_BOUNDARY_LENGTH - 1}}}{_BOUNDARY_CHAR}")


def field_characters(field_bytes: int) -> int:
    """The characters a text field of at most `field_bytes` bytes can always hold: UTF-8
    takes at most 4 bytes a character, so a longer value has more characters than this."""
    return field_bytes // 4


class StreamingFormParser:
    """Iterate over the parts of a multipart/form-data request body as they arrive.

    ``source`` is a werkzeug/Flask request or a WSGI environ; the body is read from its
    stream in ``read_size`` pieces, so the request's ``form``/``files`` must not have been
    touched (that would consume and spool the body). Limits:

    - ``max_total_bytes``: whole body; checked against Content-Length before reading and
      while reading (chunked bodies have no Content-Length);
    - ``max_files``: file parts, counting empty file inputs;
    - ``max_file_bytes``: one file's contents (None: only the total limit applies);
    - ``max_fields`` / ``max_field_bytes``: text fields, whose values are held in memory.

    With ``csrf_field`` set, the first part must be that text field and carry a valid
    Flask-WTF token (checked by :func:`validate_csrf_token` before any file byte is
    processed); it is not yielded. Raises :class:`UploadTooLarge`, :class:`MalformedForm` or
    ``flask_wtf.csrf.CSRFError``. A parser can be iterated only once.

    ``allow_expired_csrf=True`` accepts a token that is valid but too old (a page left open
    for days): parsing goes on with ``csrf_expired`` set, so that the caller can give the
    text back instead of losing it. The caller must not act on such a form.

    ``check_declared_length=False`` reads a body whose Content-Length is above
    ``max_total_bytes`` anyway, up to that many bytes: a caller can then keep the text fields
    of a form whose files are too large, and refuse it after them.

    With ``piece_size``, every piece of a part but its last is a multiple of that many bytes,
    so that a consumer working in blocks of that size (crypto.stream's chunks) can take them
    as they are instead of copying them again; up to one piece more is held in memory. Reads
    inside a part are then sized to complete whole pieces, and most pieces of a large file are
    the very objects read from the body, not copies (about 7 % less CPU per uploaded byte in
    the portal, benches/upload.py).
    """

    def __init__(
        self,
        source: Request | dict[str, Any],
        *,
        max_total_bytes: int,
        max_files: int = 10,
        max_file_bytes: int | None = None,
        max_fields: int = 100,
        max_field_bytes: int = 1 * MiB,
        csrf_field: str | None = None,
        read_size: int = READ_SIZE,
        piece_size: int | None = None,
        check_declared_length: bool = True,
        allow_expired_csrf: bool = False,
    ) -> None:
        environ = source.environ if isinstance(source, Request) else source
        self.max_total_bytes = max_total_bytes
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.max_fields = max_fields
        self.max_field_bytes = max_field_bytes
        self.csrf_field = csrf_field
        self.allow_expired_csrf = allow_expired_csrf
        #: The CSRF token was only too old (allow_expired_csrf): the parts are still yielded,
        #: for the caller to show the text back, never to act on.
        self.csrf_expired = False
        self._read_size = read_size
        self._fill_reads = piece_size is not None
        self._bytes_read = 0
        self._started = False
        self._done = False
        self._active: FilePart | None = None

        content_type = str(environ.get("CONTENT_TYPE", ""))
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in content_type):
            raise MalformedForm(_("The form data has an invalid boundary."))
        mimetype, options = parse_options_header(content_type)
        # Media types are case-insensitive (RFC 9110, 8.3.1): MULTIPART/FORM-DATA is the same
        # type. parse_options_header keeps the case; the boundary's own case matters.
        if mimetype.lower() != "multipart/form-data":
            raise MalformedForm(_("The form was not sent as multipart/form-data."))
        boundary = options.get("boundary", "")
        if not _BOUNDARY_RE.fullmatch(boundary):
            raise MalformedForm(_("The form data has an invalid boundary."))

        content_length = get_content_length(environ)
        if (check_declared_length and content_length is not None
                and content_length > max_total_bytes):
            # Refuse before reading a single byte.
            raise self._too_large()

        self._body = BodyReader(environ)
        if isinstance(source, Request):
            # The body is this parser's now: werkzeug's own views of it (request.form,
            # .files, .get_data(), which Flask-WTF touches) must see it as already consumed
            # instead of reading on from the raw input.
            source.__dict__["stream"] = io.BytesIO()
        self._decoder = BoundarySafeDecoder(
            boundary.encode("ascii"),
            max_form_memory_size=read_size + _MAX_HEADER_BYTES,
            piece_size=piece_size,
        )

    @property
    def bytes_read(self) -> int:
        """Bytes of request body read so far."""
        return self._bytes_read

    def __iter__(self) -> Iterator[Part]:
        if self._started:
            raise RuntimeError("a form body can only be parsed once")
        self._started = True
        return self._parts()

    # -- internals -------------------------------------------------------------------------

    def _too_large(self) -> UploadTooLarge:
        return body_too_large(self.max_total_bytes)

    def _parts(self) -> Iterator[Part]:
        files = fields = 0
        first = True
        while (event := self._next_event()) is not None:
            if isinstance(event, Field):
                if first and self.csrf_field is not None:
                    first = False
                    if event.name != self.csrf_field:
                        raise CSRFError("The CSRF token is missing.")
                    try:
                        validate_csrf_token(self._read_field_value())
                    except CSRFExpired:
                        if not self.allow_expired_csrf:
                            raise
                        self.csrf_expired = True
                    continue
                fields += 1
                if fields > self.max_fields:
                    # Not about files: a form of ours never sends this many fields.
                    raise UploadTooLarge(
                        _("The form has more fields than it should. Please send it again "
                          "from this page."),
                        reason="fields",
                        limit=self.max_fields,
                    )
                yield FieldPart(event.name, self._read_field_value())
            elif isinstance(event, File):
                if first and self.csrf_field is not None:
                    raise CSRFError("The CSRF token is missing.")
                first = False
                files += 1
                if files > self.max_files:
                    raise UploadTooLarge(
                        _("Too many files were sent."), reason="files", limit=self.max_files
                    )
                part = FilePart(
                    event.name,
                    client_filename(event),
                    event.headers.get("Content-Type", "application/octet-stream"),
                    next_data=self._next_file_data,
                    max_file_bytes=self.max_file_bytes,
                )
                self._active = part
                yield part
                # Skip whatever the caller did not read, so the next part can be parsed.
                if not part.finished:
                    part.discard()
                self._active = None
            else:  # pragma: no cover - the decoder only emits Data inside a part
                raise MalformedForm(_("The form data could not be read."))
        if first and self.csrf_field is not None:
            raise CSRFError("The CSRF token is missing.")

    def _read_field_value(self) -> str:
        value = bytearray()
        more = True
        while more:
            data, more = self._next_data()
            value += data
            if len(value) > self.max_field_bytes:
                allowed = field_characters(self.max_field_bytes)
                raise UploadTooLarge(
                    _("A text field is longer than the %(max)d characters allowed. Please "
                      "shorten it and send it again.", max=allowed),
                    reason="field",
                    limit=self.max_field_bytes,
                )
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            # "from None": the decode error holds the field's bytes.
            raise MalformedForm(_("The form data is not valid UTF-8 text.")) from None

    def _next_file_data(self, part: FilePart) -> tuple[bytes, bool]:
        """The next data of `part`, which must be the file part being read."""
        if self._active is not part:
            raise RuntimeError("a file part can only be read before the next part")
        return self._next_data()

    def _next_data(self) -> tuple[bytes, bool]:
        """Return the next (data, more_data) of the current part."""
        event = self._next_event()
        if not isinstance(event, Data):
            raise MalformedForm(_("The form data could not be read."))
        return event.data, event.more_data

    def _next_event(self) -> Event | None:
        """Return the next Field, File or Data event; None at the end of the form."""
        if self._done:
            return None
        while True:
            try:
                event = self._decoder.next_event()
            except (ValueError, RequestEntityTooLarge):
                # ValueError: bad or truncated body (UnicodeDecodeError in part headers
                # too); RequestEntityTooLarge: headers or preamble larger than the
                # decoder's buffer.
                raise MalformedForm(_("The form data could not be read.")) from None
            if isinstance(event, NeedData):
                if self._decoder.state is State.EPILOGUE:
                    self._finish()
                    return None
                chunk = self._read()
                try:
                    self._decoder.receive_data(chunk if chunk else None)
                except RequestEntityTooLarge:
                    # Part headers or a preamble did not fit in the decoder's buffer.
                    raise MalformedForm(_("The form data could not be read.")) from None
            elif isinstance(event, Epilogue):
                self._finish()
                return None
            elif isinstance(event, Preamble):
                continue
            elif isinstance(event, Field | File):
                # Read from the raw header: werkzeug's reading can turn a file into a field.
                event = as_browser_sent(event)
                if not event.name:
                    raise MalformedForm(_("The form data could not be read."))
                return event
            else:
                return event

    def _read(self) -> bytes:
        try:
            size = self._decoder.next_read_size(self._read_size)
            chunk = self._body.read(size)
            if self._fill_reads and 0 < len(chunk) < size:
                chunk = self._fill(chunk, size)
        except ClientDisconnected:
            raise MalformedForm(_("The upload was interrupted.")) from None
        self._bytes_read += len(chunk)
        if self._bytes_read > self.max_total_bytes:
            raise self._too_large()
        return chunk

    def _fill(self, first: bytes, size: int) -> bytes:
        """Read on until `size` bytes have arrived (or the body ends).

        Each decoder step has a fixed cost (Python calls, and a search of the few hundred
        bytes where a delimiter may still be unfinished), and with a piece size the decoder
        emits nothing until a whole piece is in: fed in tiny reads (a server that returns
        what has arrived, a client that trickles), it would take a step per few bytes.
        gunicorn and werkzeug's server return whole reads, so this rarely runs.
        """
        pieces, total = [first], len(first)
        while total < size:
            more = self._body.read(size - total)
            if not more:
                break
            pieces.append(more)
            total += len(more)
            if self._bytes_read + total > self.max_total_bytes:
                break  # _read refuses it
        return b"".join(pieces)

    def _finish(self) -> None:
        """Mark the form complete and drain a (normally empty) epilogue within the limit."""
        self._done = True
        try:
            while self._bytes_read <= self.max_total_bytes:
                chunk = self._body.read(self._read_size)
                if not chunk:
                    break
                self._bytes_read += len(chunk)
        except ClientDisconnected:
            pass  # the form itself was complete; the epilogue is meaningless
