"""The parts a streaming form parse yields (web.uploads): text fields, and files read in
pieces as they arrive."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _
from werkzeug.sansio.multipart import File

from web.upload_errors import UploadTooLarge

# "_" is lazy_gettext: messages are built at import time and translated when shown.

_FILENAME_RE = re.compile(r';\s*filename\s*=\s*"([^"]*)"', re.IGNORECASE)


@dataclass(frozen=True)
class FieldPart:
    """A text form field."""

    name: str
    value: str


class FilePart:
    """A file form field whose contents are read with :meth:`chunks`.

    ``filename`` is only the last path component of what the browser sent (some clients send
    a full path, which can contain the user's account name); it is "" for an empty file
    input. ``content_type`` is the browser's claim and must not be trusted.
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


def client_filename(event: File) -> str:
    """Return the last path component of the file name the client sent.

    werkzeug unescapes backslashes in quoted header values, which turns a Windows path sent
    verbatim by a browser ("C:\\Users\\name\\x.pdf") into "C:Usersnamex.pdf" and so keeps
    the account name. Browsers never backslash-escape (they percent-encode '"'), so the raw
    quoted value is read here; werkzeug's value is the fallback (e.g. for filename*=).
    """
    raw = event.headers.get("Content-Disposition", "")
    match = _FILENAME_RE.search(raw)
    filename = match.group(1) if match else event.filename
    return re.split(r"[/\\]", filename)[-1]
