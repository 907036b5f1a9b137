"""Fixes for werkzeug's multipart decoder, kept apart from the parser that uses it.

werkzeug 3.1.x reads some bodies differently depending on where the network happened to
split them into reads. Chunk edges are random, so each would corrupt evidence at random:

- it can emit the CR of a delimiter as part data when a read ends just after
  "\\r\\n--boundary" and before its "--" or line break, appending "\\r" to a field or file
  (open issue pallets/werkzeug#3285);
- in the preamble it resumes its search past a first delimiter whose transport padding
  (spaces after "--boundary") straddles a read edge, so the first part is lost;
- a part whose headers end in a bare CR takes a following LF as data, or not, by read edge;
  likewise a delimiter read up to the CR of its CRLF leaves the LF to the next part.

This decoder finds the same delimiters however the body is split, and refuses (ValueError,
a 400 for the parser's callers) transport padding longer than ``_MAX_PADDING`` instead of
reading it one way or the other. Browsers send no padding at all. Delete the fixes here once
werkzeug has them (tests/web/test_web_uploads.py and test_web_multipart_splits.py cover them).
"""

from __future__ import annotations

import re

from werkzeug.sansio.multipart import (
    NEED_DATA,
    Event,
    MultipartDecoder,
    Preamble,
    State,
)

_LINE_BREAK_RE = re.compile(rb"\r\n|\n|\r")
# What may follow "--boundary" before the delimiter is complete: "-", "--" + padding, padding,
# and a CR that may be the first half of a CRLF.
_DELIMITER_SUFFIX_RE = re.compile(rb"-|(--)?[ \t]*\r?")


class BoundarySafeDecoder(MultipartDecoder):
    """werkzeug's multipart decoder with delimiters found independently of read edges.

    Every "--boundary" in the buffer is examined once: it is a delimiter, can never become
    one (it is then data and never searched again), or may still become one when more bytes
    arrive (it is then kept back with the line break before it). That keeps the work per
    byte constant however the body is split, even with lookalikes kept back between reads.

    With ``piece_size``, data that is not a part's last piece is emitted only in multiples
    of it (the rest waits in the buffer for the next read); inside a part's data the buffer
    may then hold that much more than ``max_form_memory_size``, and nowhere else (a preamble
    or part headers get no more room than without it).
    """

    #: Most spaces or tabs accepted between "--boundary" and its line break ("transport
    #: padding", RFC 2046). Longer padding is refused, whatever the read edges.
    _MAX_PADDING = 256

    def __init__(self, boundary: bytes, max_form_memory_size: int | None = None, *,
                 piece_size: int | None = None) -> None:
        super().__init__(boundary, max_form_memory_size)
        self.piece_size = piece_size
        self._dash_boundary = b"--" + boundary
        # Where the search for "--boundary" resumes in the buffer: every occurrence before
        # it was examined already and cannot become a delimiter.
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

    def next_event(self) -> Event:
        if self.state is State.PREAMBLE:
            return self._preamble_event()
        if self.state is State.DATA_START and self.buffer == b"\r" and not self.complete:
            # Headers ended in a bare CR: an LF may follow in the next read and belong to
            # the line break, not to the data.
            return NEED_DATA
        return super().next_event()

    def _preamble_event(self) -> Event:
        match, resume = self._find_delimiter(self.buffer, self.preamble_re, floor=0,
                                             after_line_break=False)
        if match is None:
            self._search_from = resume
            if self.complete:
                raise ValueError("form data ends before its first delimiter")
            return NEED_DATA
        self.state = State.EPILOGUE if match.group(1).startswith(b"--") else State.PART
        data = bytes(self.buffer[: match.start()])
        del self.buffer[: match.end()]
        self._search_from = 0
        return Preamble(data=data)

    def _parse_data(self, data: bytes | bytearray, *, start: bool) -> tuple[bytes, int, bool]:
        data_start = 0
        if start:
            # A part's body begins after the line break that ends its headers.
            match = _LINE_BREAK_RE.match(data)
            if match is None:
                raise ValueError("part body does not start with a line break")
            data_start = match.end()
            self._search_from = data_start

        # Only a line break after data_start can begin a delimiter: the one ending the
        # headers cannot also begin one, whatever the read sizes were.
        delimiter, resume = self._find_delimiter(data, self.boundary_re, floor=data_start,
                                                 after_line_break=True)
        if delimiter is not None:
            self.state = (State.EPILOGUE if delimiter.group(1).startswith(b"--")
                          else State.PART)
            self._search_from = 0
            return _copy(data, data_start, delimiter.start()), delimiter.end(), False
        # No complete delimiter: emit everything before the earliest line break that could
        # begin one, and keep the rest for the next read.
        end = self._safe_end(data, data_start)
        if self.piece_size:
            end -= (end - data_start) % self.piece_size
        # werkzeug drops the first `end` bytes of the buffer.
        self._search_from = max(0, resume - end)
        return _copy(data, data_start, end), end, True

    def _find_delimiter(self, data: bytes | bytearray, pattern: re.Pattern[bytes], *,
                        floor: int, after_line_break: bool) -> tuple[re.Match[bytes] | None,
                                                                     int]:
        """The first delimiter matching ``pattern`` that starts at or after ``floor``.

        Returns (match, 0), or (None, where the next search must resume): at a
        "--boundary" that may still grow into a delimiter, else where one could begin in
        bytes yet to come. ``after_line_break``: a delimiter needs a line break before its
        "--boundary" (werkzeug's preamble pattern does not).
        """
        dash_boundary = self._dash_boundary
        found = data.find(dash_boundary, max(floor, self._search_from))
        while found != -1:
            may_begin = not after_line_break or (found > floor and data[found - 1] in b"\r\n")
            if may_begin:
                rest = bytes(data[found + len(dash_boundary):
                                  found + len(dash_boundary) + self._MAX_PADDING + 1])
                if len(rest) > self._MAX_PADDING and not rest.strip(b" \t"):
                    raise ValueError("transport padding after a delimiter is too long")
                # The pattern's optional line break may start up to two bytes earlier.
                for at in range(max(floor, found - 2), found + 1):
                    match = pattern.match(data, at)
                    if match is None:
                        continue
                    if (match.end() == len(data) and data[-1:] == b"\r" and not self.complete
                            and not match.group(1).startswith(b"--")):
                        # The line break may be CRLF: its LF would else start the next
                        # part's headers. (After the last delimiter only the ignored
                        # epilogue follows, and its padding has no limit to wait within.)
                        return None, found
                    return match, 0
                if not self.complete and _DELIMITER_SUFFIX_RE.fullmatch(rest):
                    return None, found  # may become a delimiter: look again next time
            found = data.find(dash_boundary, found + 1)
        return None, max(floor, len(data) - (len(dash_boundary) - 1))

    def _safe_end(self, data: bytes | bytearray, data_start: int) -> int:
        window = len(self._dash_boundary) + 2 + 2 + self._MAX_PADDING
        for i in range(max(data_start, len(data) - window), len(data)):
            if data[i] in b"\r\n" and _may_begin_delimiter(bytes(data[i:]),
                                                           self._dash_boundary):
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
