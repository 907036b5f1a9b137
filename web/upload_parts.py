"""The parts a streaming form parse yields (web.uploads): text fields, and files read in
pieces as they arrive."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _
from werkzeug.sansio.multipart import Field, File

from web.upload_errors import UploadTooLarge

# "_" is lazy_gettext: messages are built at import time and translated when shown.

#: One parameter of a part's Content-Disposition as browsers write it: a quoted value is
#: taken literally up to the next quote (browsers percent-encode '"' and never use backslash
#: escapes), or a bare token.
_PARAM_RE = re.compile(r';\s*([^\s=;"]+)\s*=\s*(?:"([^"]*)"|([^\s;"]*))')
#: A Windows path (drive or network share), as old browsers sent: C:\dir\x.pdf, \\host\x.pdf.
_WINDOWS_PATH_RE = re.compile(r"[A-Za-z]:\\|\\\\")


@dataclass(frozen=True)
class FieldPart:
    """A text form field."""

    name: str
    value: str


class FilePart:
    """A file form field whose contents are read with :meth:`chunks`.

    ``filename`` is the name the browser sent without any folders (some clients send a full
    path, which can contain the user's account name; see :func:`client_filename`); it is ""
    for an empty file input. ``content_type`` is the browser's claim and must not be trusted.
    """

    def __init__(
        self,
        name: str,
        filename: str,
        content_type: str,
        *,
        next_data: Callable[[FilePart], tuple[bytes, bool]],
        max_file_bytes: int | None,
    ) -> None:
        """``next_data(part)`` returns the part's next (data, more data follows) from the body,
        and refuses a part that is no longer the one being read (the parser's job)."""
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self._next_data = next_data
        self._max_file_bytes = max_file_bytes
        self._size = 0
        self._finished = False
        self._discarded = False

    def __repr__(self) -> str:
        # Never show the file name: it is plaintext the server must not log.
        return f"<FilePart name={self.name!r} size={self._size}>"

    @property
    def size(self) -> int:
        """Bytes of file content delivered (or discarded) so far."""
        return self._size

    @property
    def finished(self) -> bool:
        """True once the whole file has been read or discarded."""
        return self._finished

    def chunks(self) -> Iterator[bytes]:
        """Yield the file's contents in non-empty pieces (at most about one read each; with
        a piece size, one read plus one piece).

        Raises :class:`UploadTooLarge` when ``max_file_bytes`` or ``max_total_bytes`` is
        exceeded and :class:`MalformedForm` when the body is cut short.
        """
        if self._discarded:
            raise RuntimeError("this file part was already discarded")
        while (chunk := self._pull()) is not None:
            if chunk:
                yield chunk

    def discard(self) -> None:
        """Skip the rest of the file (still counted against the limits)."""
        self._discarded = True
        while self._pull() is not None:
            pass

    def _pull(self) -> bytes | None:
        if self._finished:
            return None
        data, more = self._next_data(self)
        self._size += len(data)
        limit = self._max_file_bytes
        if limit is not None and self._size > limit:
            raise UploadTooLarge(_("A file is larger than the limit."), reason="file", limit=limit)
        if not more:
            self._finished = True
        return data


Part = FieldPart | FilePart


def disposition_params(value: str) -> dict[str, str]:
    """The parameters of a part's Content-Disposition value, read as browsers write them
    (names lower-cased; the first of a repeated parameter counts)."""
    params: dict[str, str] = {}
    for match in _PARAM_RE.finditer(value):
        quoted, bare = match.group(2), match.group(3)
        params.setdefault(match.group(1).lower(), quoted if quoted is not None else bare)
    return params


def as_browser_sent(event: Field | File) -> Field | File:
    """The part as the browser meant it.

    werkzeug reads quoted header values with backslash escapes, which browsers never use: a
    file named `notes\\` (legal on Linux and macOS) arrives as filename="notes\\", whose
    closing quote werkzeug takes as escaped, so that it loses the file name and reports the
    part as a text field -- and the file would be dropped without a word. The raw header is
    read here; werkzeug's values stay the fallback (e.g. for an RFC 5987 filename*=).
    """
    params = disposition_params(event.headers.get("Content-Disposition", ""))
    name = params.get("name", event.name)
    if "filename" in params:
        return File(name=name, filename=params["filename"], headers=event.headers)
    if isinstance(event, File):
        return File(name=name, filename=event.filename, headers=event.headers)
    return Field(name=name, headers=event.headers)


def client_filename(event: File) -> str:
    """The file's name without the folders some clients send with it (a full path can
    contain the user's account name).

    "/" separates folders everywhere. A backslash does only in a Windows path (a drive or a
    network share, as old browsers sent): elsewhere it is part of the name, legal on Linux
    and macOS, and kept -- "notes\\" stays "notes\\" (web.downloads makes any name safe for
    a header). A name that is all folders comes back "", which the caller must refuse for a
    part that has content: it is not an empty file input.
    """
    name = event.filename.rsplit("/", 1)[-1]
    if _WINDOWS_PATH_RE.match(name):
        name = name.rsplit("\\", 1)[-1]
    return name
