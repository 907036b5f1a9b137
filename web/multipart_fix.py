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
a 400 for the parser's callers) transport padding longer than ``MAX_PADDING`` instead of
reading it one way or the other. Browsers send no padding at all. Padding is spaces and
tabs only (RFC 2046), in every pattern here. Delete the fixes once werkzeug has them
(tests/web/test_web_uploads.py and test_web_multipart_splits.py cover them).
"""

from __future__ import annotations

import re

from werkzeug.sansio.multipart import (
    NEED_DATA,
    Data,
    Event,
    MultipartDecoder,
    Preamble,
    State,
)

#: Most spaces or tabs accepted between "--boundary" and its line break ("transport
#: padding"); longer padding is refused, whatever the read edges.
MAX_PADDING = 256

_LINE_BREAK = rb"(?:\r\n|\n|\r)"
_LINE_BREAK_RE = re.compile(_LINE_BREAK)


def _delimiter_patterns(dash_boundary: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes],
                                                       re.Pattern[bytes]]:
    """(delimiter in part data, first delimiter, unfinished delimiter at the buffer end).

    A delimiter is a line break, "--boundary", then either "--" (the last one; padding
    and line break optional, the epilogue follows) or at most MAX_PADDING spaces/tabs and a
    line break. The group ``too_long`` matches longer padding, which is refused. The first
    delimiter may lack its line break (werkzeug accepts a body that starts with it). An
    unfinished delimiter is a line break and a prefix of any of that, up to the end.
    """
    boundary = re.escape(dash_boundary)
    suffix = (rb"(?:(?P<last>--)[ \t]*%s?|[ \t]{0,%d}%s|(?P<too_long>[ \t]{%d}))"
              % (_LINE_BREAK, MAX_PADDING, _LINE_BREAK, MAX_PADDING + 1))
    prefix = b""  # any prefix of "--boundary", as nested optional groups
    for byte in reversed(dash_boundary):
        prefix = rb"(?:%s%s)?" % (re.escape(bytes([byte])), prefix)
    unfinished = (rb"%s(?:%s(?:-|[ \t]{0,%d}\r?)|%s)\Z"
                  % (_LINE_BREAK, boundary, MAX_PADDING, prefix))
    return (re.compile(_LINE_BREAK + boundary + suffix),
            re.compile(_LINE_BREAK + b"?" + boundary + suffix),
            re.compile(unfinished))


class BoundarySafeDecoder(MultipartDecoder):
    """werkzeug's multipart decoder with delimiters found independently of read edges.

    A delimiter is searched for with one regex, and only where ``bytes.find`` saw a
    "--boundary" (fast for ordinary data). Searches resume a window before the end of what
    was searched: anything earlier was decided (a delimiter needs at most ``_window`` bytes
    to be told apart), so each byte is searched a bounded number of times however the body
    is split and whatever lookalikes it holds. Data is emitted up to the earliest line break
    that may still begin a delimiter.

    With ``piece_size``, data that is not a part's last piece is emitted only in multiples
    of it (the rest waits in the buffer for the next read); inside a part's data the buffer
    may then hold that much more than ``max_form_memory_size``, and nowhere else (a preamble
    or part headers get no more room than without it). A read of whole pieces arriving at an
    empty buffer, with nothing in it that can be or begin a delimiter, is emitted as it is:
    with reads sized by :meth:`next_read_size`, that is nearly every piece of a large file.
    """

    def __init__(self, boundary: bytes, max_form_memory_size: int | None = None, *,
                 piece_size: int | None = None) -> None:
        super().__init__(boundary, max_form_memory_size)
        if piece_size is not None and piece_size < 1:
            raise ValueError("piece_size must be at least 1")
        self.piece_size = piece_size
        self._dash_boundary = b"--" + boundary
        # werkzeug's own patterns are replaced (its methods that use them are overridden):
        # one definition of a delimiter, with padding limited and spaces/tabs only.
        self.boundary_re, self.preamble_re, self._unfinished_re = _delimiter_patterns(
            self._dash_boundary)
        # Line break, "--boundary", padding, line break: the most a delimiter (or its
        # refusal) needs to be recognised.
        self._window = 2 + len(self._dash_boundary) + MAX_PADDING + 2
        # Where the next search starts: nothing before it can begin a delimiter.
        self._search_from = 0
        # A whole read of file data, handed on as it is (receive_data's pass-through).
        self._passed: bytes | None = None

    def next_read_size(self, read_size: int) -> int:
        """How many bytes to read next, at most `read_size`.

        Inside a part's data, with ``piece_size``, as many as complete the piece already
        begun in the buffer. When read_size is a multiple of piece_size (the portal reads
        and encrypts 1 MiB at a time), the buffer then empties, and each later read of whole
        pieces can be handed on without being copied (:meth:`receive_data`).
        """
        begun = len(self.buffer) % self.piece_size if self.piece_size else 0
        if self.state is State.DATA and 0 < begun < read_size:
            return read_size - begun
        return read_size

    def receive_data(self, data: bytes | None) -> None:
        if self._can_pass_through(data):
            self._passed = data
            return
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

    def _can_pass_through(self, data: bytes | None) -> bool:
        """Whether `data` is whole pieces of a part's data that need no parsing: the buffer
        is empty (so nothing before it can begin a delimiter), no "--boundary" is in it and
        its end cannot begin one. Such a read is emitted as it is, saving the two copies in
        and out of the buffer (and its reallocations) for nearly every piece of a file."""
        limit = self.max_form_memory_size
        return (self.piece_size is not None and self.state is State.DATA
                and type(data) is bytes and len(data) > 0
                and len(data) % self.piece_size == 0 and not self.buffer
                and self._passed is None
                # A stream that returns more than it was asked for gets the buffer's limit.
                and (limit is None or len(data) <= limit)
                and data.find(self._dash_boundary) == -1
                and self._unfinished_re.search(data, max(0, len(data) - self._window)) is None)

    def next_event(self) -> Event:
        if self._passed is not None:
            data, self._passed = self._passed, None
            return Data(data=data, more_data=True)
        if self.state is State.PREAMBLE:
            return self._preamble_event()
        if self.state is State.DATA_START and self.buffer == b"\r" and not self.complete:
            # Headers ended in a bare CR: an LF may follow in the next read and belong to
            # the line break, not to the data.
            return NEED_DATA
        return super().next_event()

    def _preamble_event(self) -> Event:
        match = self._find_delimiter(self.buffer, self.preamble_re, self._search_from)
        if match is None:
            self._search_from = max(0, len(self.buffer) - self._window)
            if self.complete:
                raise ValueError("form data ends before its first delimiter")
            return NEED_DATA
        self.state = State.EPILOGUE if match.group("last") else State.PART
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
            self._search_from = 0

        # Only a line break after data_start can begin a delimiter: the one ending the
        # headers cannot also begin one, whatever the read sizes were.
        delimiter = self._find_delimiter(data, self.boundary_re,
                                         max(data_start, self._search_from))
        if delimiter is not None:
            self.state = State.EPILOGUE if delimiter.group("last") else State.PART
            self._search_from = 0
            return _copy(data, data_start, delimiter.start()), delimiter.end(), False
        # No complete delimiter: emit everything before the earliest line break that could
        # begin one, and keep the rest for the next read.
        unfinished = self._unfinished_re.search(data, max(data_start,
                                                          len(data) - self._window))
        end = unfinished.start() if unfinished else len(data)
        if self.piece_size:
            end -= (end - data_start) % self.piece_size
        # werkzeug drops the first `end` bytes of the buffer.
        self._search_from = max(0, len(data) - self._window - end)
        return _copy(data, data_start, end), end, True

    def _find_delimiter(self, data: bytes | bytearray, pattern: re.Pattern[bytes],
                        start: int) -> re.Match[bytes] | None:
        """The first complete delimiter matching ``pattern`` at or after ``start``."""
        found = data.find(self._dash_boundary, start)
        if found == -1:
            return None
        # Its line break starts at most two bytes before "--boundary".
        match = pattern.search(data, max(start, found - 2))
        if match is None:
            return None
        if match.group("too_long") is not None:
            raise ValueError("transport padding after a delimiter is too long")
        if (match.end() == len(data) and data[-1:] == b"\r" and not self.complete
                and not match.group("last")):
            # The line break may be CRLF: its LF would else start the next part's headers.
            # (After the last delimiter only the ignored epilogue follows.)
            return None
        return match


def _copy(data: bytes | bytearray, start: int, end: int) -> bytes:
    """``bytes(data[start:end])`` in one copy instead of two (a bytearray slice is a copy
    too); the view is released before the caller resizes the buffer."""
    with memoryview(data) as view:
        return bytes(view[start:end])
