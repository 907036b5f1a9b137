"""A fix for werkzeug's multipart decoder, kept apart from the parser that uses it.

werkzeug 3.1.x (open issue pallets/werkzeug#3285) can emit the CR of a delimiter as part data
when a read ends just after "\\r\\n--boundary" and before its "--" or line break, silently
appending "\\r" to a field or file. Chunk edges come from the network, so this would corrupt
evidence at random. Delete this module once werkzeug is fixed (the trickle tests in
tests/web/test_web_uploads.py cover it).
"""

from __future__ import annotations

import re

from werkzeug.sansio.multipart import MultipartDecoder, State

_LINE_BREAK_RE = re.compile(rb"\r\n|\n|\r")
# What may follow "--boundary" before the delimiter is complete: "-", "--" + padding, padding.
_DELIMITER_SUFFIX_RE = re.compile(rb"-|(--)?[ \t]*")


class BoundarySafeDecoder(MultipartDecoder):
    """werkzeug's multipart decoder with a corrected split between data and delimiter.

    With ``piece_size``, data that is not a part's last piece is emitted only in multiples
    of it (the rest waits in the buffer for the next read); inside a part's data the buffer
    may then hold that much more than ``max_form_memory_size``, and nowhere else (a preamble
    or part headers get no more room than without it).
    """

    # Trailing whitespace allowed after a delimiter that we still wait for ("transport
    # padding"); browsers send none.
    _MAX_PADDING = 256

    def __init__(self, boundary: bytes, max_form_memory_size: int | None = None, *,
                 piece_size: int | None = None) -> None:
        super().__init__(boundary, max_form_memory_size)
        self.piece_size = piece_size
        # Where the search for a delimiter resumes in the buffer: everything before it was
        # searched already (the buffer keeps data back between reads; no need to scan it
        # twice).
        self._search_from = 0

    def receive_data(self, data: bytes | None) -> None:
        limit = self.max_form_memory_size
        if self.piece_size and limit is not None and self.state in (State.DATA_START,
                                                                    State.DATA):
            self.max_form_memory_size = limit + self.piece_size
            try:
                super().receive_data(data)
            finally:
                self.max_form_memory_size = limit
        else:
            super().receive_data(data)

    def _parse_data(self, data: bytes | bytearray, *, start: bool) -> tuple[bytes, int, bool]:
        data_start = 0
        if start:
            # A part's body begins after the line break that ends its headers.
            match = _LINE_BREAK_RE.match(data)
            if match is None:
                raise ValueError("part body does not start with a line break")
            data_start = match.end()
            self._search_from = 0

        dash_boundary = b"--" + self.boundary
        found = data.find(dash_boundary, self._search_from)
        if found != -1:
            # Search only after data_start: the line break ending the headers cannot also
            # begin a delimiter, whatever the read sizes were.
            match = self.boundary_re.search(data, data_start)
            if match is not None:
                self.state = State.EPILOGUE if match.group(1).startswith(b"--") else State.PART
                self._search_from = 0
                return _copy(data, data_start, match.start()), match.end(), False
        # No complete delimiter: emit everything before the earliest line break that could
        # begin one, and keep the rest for the next read.
        end = self._safe_end(data, data_start, dash_boundary)
        if self.piece_size:
            end -= (end - data_start) % self.piece_size
        # After werkzeug drops the first `end` bytes, the next search starts at a "--boundary"
        # seen now (its delimiter may be incomplete yet), else where one could still begin:
        # in the last len - 1 bytes searched, or in what arrives next.
        if found != -1:
            self._search_from = max(0, found - end)
        else:
            self._search_from = max(0, len(data) - end - (len(dash_boundary) - 1))
        return _copy(data, data_start, end), end, True

    def _safe_end(self, data: bytes | bytearray, data_start: int, dash_boundary: bytes) -> int:
        window = len(dash_boundary) + 2 + 2 + self._MAX_PADDING
        for i in range(max(data_start, len(data) - window), len(data)):
            if data[i] in b"\r\n" and _may_begin_delimiter(bytes(data[i:]), dash_boundary):
                return i
        return len(data)


def _copy(data: bytes | bytearray, start: int, end: int) -> bytes:
    """``bytes(data[start:end])`` in one copy instead of two (a bytearray slice is a copy
    too); the view is released before the caller resizes the buffer."""
    with memoryview(data) as view:
        return bytes(view[start:end])


def _may_begin_delimiter(tail: bytes, dash_boundary: bytes) -> bool:
    """True if ``tail`` (starting with CR or LF) could grow into "CRLF--boundary..."."""
    rest = tail[2:] if tail.startswith(b"\r\n") else tail[1:]
    if tail == b"\r":
        return True
    if len(rest) <= len(dash_boundary):
        return dash_boundary.startswith(rest)
    if not rest.startswith(dash_boundary):
        return False
    # After the boundary only "--", spaces/tabs or the awaited line break may follow.
    return _DELIMITER_SUFFIX_RE.fullmatch(rest[len(dash_boundary) :]) is not None
