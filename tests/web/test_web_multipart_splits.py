"""Differential tests: how a multipart body is split into reads must not change its parse.

StreamingFormParser hands the decoder (web.multipart_fix.BoundarySafeDecoder, on top of
werkzeug's sansio MultipartDecoder) whatever each read returns, and the network splits a
body anywhere. For bodies well below the decoder's buffer room (read_size + 16 KiB) nothing
may depend on the split, the read size or the piece size: the outcome -- the parts, or
"error" for any UploadError -- must equal that of one whole read. The decoder's incremental
searches go wrong on malformed framing (odd line breaks, transport padding, delimiter
lookalikes), so the bodies generated here cover that as well as what browsers send.
"""

from __future__ import annotations

import io
import itertools
import os
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.web.multipart_helpers import (
    BOUNDARY,
    MiB,
    TrickleStream,
    build,
    collect,
    environ_for,
    file,
)
from web.uploads import StreamingFormParser, UploadError

Outcome = list[tuple] | str

STEPS = [1, 2, 3, 5, 7, 13, 64, 257, 4096]
READ_SIZES = [MiB, 64, 4096, 65536]
PIECE_SIZES: list[int | None] = [None, 1, 3, 64, 4096]
MAX_BODY = 6 * 1024  # far below the decoder's room of read_size + 16 KiB, even at 64


@dataclass(frozen=True)
class Split:
    """How a body reaches the parser: one stream read pattern plus the parser's sizes."""

    step: int | None = None  # TrickleStream step; None: a plain io.BytesIO
    cuts: tuple[int, ...] = ()  # explicit read edges (CutStream), instead of a step
    read_size: int = MiB
    piece_size: int | None = None


REFERENCE = Split()  # the whole body in one read
ALL_SPLITS = [
    Split(step=step, read_size=read_size, piece_size=piece_size)
    for step, read_size, piece_size in itertools.product([None, *STEPS], READ_SIZES, PIECE_SIZES)
]


class CutStream(io.RawIOBase):
    """A stream whose reads end at the given offsets (and wherever the reader asks)."""

    def __init__(self, data: bytes, cuts: tuple[int, ...]) -> None:
        self._data = data
        self._pos = 0
        self._cuts = sorted(set(cuts))

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        end = next((cut for cut in self._cuts if cut > self._pos), len(self._data))
        n = min(len(b), end - self._pos)
        b[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


def outcome(body: bytes, boundary: str, split: Split) -> Outcome:
    """The parts, or "error" for an UploadError; any other exception propagates (a 500)."""
    stream: io.RawIOBase | None
    if split.cuts:
        stream = CutStream(body, split.cuts)
    elif split.step is not None:
        stream = TrickleStream(body, split.step)
    else:
        stream = None  # environ_for's io.BytesIO: whatever the reader asks for
    environ = environ_for(body, stream=stream, boundary=boundary)
    try:
        parser = StreamingFormParser(
            environ,
            max_total_bytes=200 * MiB,
            max_field_bytes=MiB,
            read_size=split.read_size,
            piece_size=split.piece_size,
        )
        return collect(parser)
    except UploadError:
        return "error"


def assert_split_independent(body: bytes, boundary: str, splits: list[Split]) -> None:
    expected = outcome(body, boundary, REFERENCE)
    differing = [
        (split, got) for split in splits if (got := outcome(body, boundary, split)) != expected
    ]
    assert not differing, (
        f"one read gives {expected!r}; {len(differing)} of {len(splits)} splits differ, "
        f"e.g. {differing[0][0]} gives {differing[0][1]!r}"
    )


# -- generated bodies ------------------------------------------------------------------------

# Short ones make lookalikes likely; dashes inside make "--" ambiguous.
BOUNDARIES = ["b", "-", "----WebKitFormBoundaryabc", BOUNDARY]
LINE_BREAKS = [b"\r\n", b"\n", b"\r"]
PADDINGS = [1, 5, 6, 7, 8, 20, 255, 256, 257, 260, 300, 400]


def lookalikes(dash: bytes) -> list[bytes]:
    """Data that looks like (part of) a delimiter; some of it is one, which is fine here."""
    return [
        b"x" + dash,
        b"\r\n" + dash + b"x",
        b"\r\n" + dash + b" " * 300 + b"x",
        b"\r\n" + dash + b" " * 7,
        b"\r\n" + dash + b"-",
        b"\r\n" + dash[:-1],
        dash[: len(dash) // 2 + 1],
        dash + b"--",
        b"\r",
        b"\n",
        b"\r\n",
        b"\r\n-",
        b"\r\n--",
        b"\r\r\n\n",
    ]


def rarely(draw: st.DrawFn) -> bool:
    """True about one time in six: most bodies must parse, or every outcome is "error".
    Shrinks to False, i.e. towards well-formed bodies."""
    return draw(st.integers(0, 5)) == 5


@st.composite
def padding(draw: st.DrawFn) -> bytes:
    """Transport padding after a delimiter: none, or spaces/tabs around the decoder's
    limits (the first delimiter's search window, the data window of 256 + a delimiter)."""
    if draw(st.booleans()):
        return b""
    # \x0b and \x0c are whitespace to a regex but not padding (RFC 2046: space and tab).
    return draw(st.sampled_from([b" ", b"\t", b"\x0b", b"\x0c"])) * draw(st.sampled_from(PADDINGS))


@st.composite
def line_break(draw: st.DrawFn, *, missing: bool = False) -> bytes:
    """CRLF, LF or a bare CR; with ``missing``, rarely none at all."""
    if missing and rarely(draw):
        return b""
    return draw(st.sampled_from(LINE_BREAKS))


@st.composite
def part(draw: st.DrawFn, dash: bytes) -> bytes:
    """A delimiter line, header lines and data; the line break before it is the caller's."""
    out = dash + draw(padding()) + draw(line_break(missing=True))
    if draw(st.booleans()):
        out += draw(line_break())  # a stray empty line before the headers
    name = "" if rarely(draw) else draw(st.sampled_from(["a", "text", "files"]))
    disposition = f'Content-Disposition: form-data; name="{name}"'
    is_file = draw(st.booleans())
    if is_file:
        disposition += f'; filename="{draw(st.sampled_from(["x.pdf", "", "报告.pdf"]))}"'
    before = draw(st.lists(st.sampled_from([b"X-Extra: 1", b" folded"]), max_size=2))
    after = draw(st.lists(st.sampled_from([b"Content-Type: text/plain", b"\tfolded"]), max_size=2))
    # One line break style per part (as a client would), rarely a mix of them.
    eol, mixed = draw(line_break()), rarely(draw)
    for line in [*before, disposition.encode(), *after, b""]:  # b"": the blank line
        out += line + (draw(line_break()) if mixed else eol)
    # Only files take binary data: a field's value must be UTF-8.
    text = st.text(max_size=20).map(str.encode)
    pieces = st.one_of(
        (text | st.binary(max_size=40)) if is_file else text,
        st.sampled_from(lookalikes(dash)),
    )
    return out + b"".join(draw(st.lists(pieces, max_size=5)))


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    boundary = draw(st.sampled_from(BOUNDARIES))
    dash = b"--" + boundary.encode()
    body = b""
    if draw(st.booleans()):
        body += draw(st.binary(max_size=30)) + draw(line_break(missing=True))  # a preamble
    for i in range(draw(st.integers(0, 3))):
        # A body may start with its first delimiter; inside it, a delimiter without its
        # line break is only a lookalike.
        body += draw(line_break(missing=True)) if body or i else (b"\r\n" if rarely(draw) else b"")
        body += draw(part(dash))
    if not rarely(draw):  # else the body is cut short
        body += draw(line_break(missing=True)) + dash + b"--" + draw(padding())
        body += draw(st.sampled_from([b"", *LINE_BREAKS]))
        body += draw(st.sampled_from([b"", b"epilogue", b"\r\n" + dash + b"\r\n"]))
    assume(len(body) < MAX_BODY)
    return boundary, body


def splits_for(body: bytes) -> st.SearchStrategy[Split]:
    sizes = {"read_size": st.sampled_from(READ_SIZES), "piece_size": st.sampled_from(PIECE_SIZES)}
    # Read edges right after a CR, LF, space or dash are where delimiters get cut.
    edges = [i + 1 for i, byte in enumerate(body[:-1]) if byte in b"\r\n -"]
    positions = st.integers(1, max(1, len(body) - 1))
    if edges:
        positions = st.sampled_from(edges) | positions
    return st.builds(Split, step=st.sampled_from([None, *STEPS]), **sizes) | st.builds(
        Split, cuts=st.lists(positions, min_size=1, max_size=6).map(tuple), **sizes
    )


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=bodies(), data=st.data())
def test_outcome_does_not_depend_on_read_edges(
    case: tuple[str, bytes], data: st.DataObject
) -> None:
    """Any body below the buffer room parses the same (or fails the same) however it is
    split into reads, whatever the read size and piece size."""
    boundary, body = case
    # One byte per read puts a read edge everywhere at once; the drawn splits add read
    # and piece sizes (and cuts where a fill or a larger read changes what the decoder sees).
    splits = data.draw(st.lists(splits_for(body), min_size=1, max_size=2), label="splits")
    assert_split_independent(body, boundary, [Split(step=1), *splits])


# -- known failures, as explicit examples ----------------------------------------------------


def disposition(name: str) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"'.encode()


@pytest.mark.parametrize(
    ("boundary", "body"),
    [
        # Data: the decoder waits for a delimiter's line break through at most 256 bytes
        # of padding, so field "a" swallows the delimiter and part "c" when a read ends
        # inside the padding.
        pytest.param(
            "b",
            b"--b\r\n"
            + disposition("a")
            + b"\r\n\r\nx\r\n--b"
            + b" " * 300
            + b"\r\n"
            + disposition("c")
            + b"\r\n\r\ny\r\n--b--\r\n",
            id="delimiter-padding-over-256-straddles-read-edge",
        ),
        # Preamble: werkzeug resumes its search len(boundary) + 8 bytes before the end of
        # what it has, which skips a first delimiter cut after more than 6 bytes of padding:
        # part "a" becomes preamble.
        pytest.param(
            "b",
            b"--b"
            + b" " * 7
            + b"\r\n"
            + disposition("a")
            + b"\r\n\r\nx\r\n--b\r\n"
            + disposition("c")
            + b"\r\n\r\ny\r\n--b--\r\n",
            id="first-delimiter-padding-over-6-straddles-read-edge",
        ),
        # Headers ending in bare CRs ("\r\r"): with a read edge before the "\n" that
        # follows, the "\n" is data instead of part of the line break.
        pytest.param(
            "b",
            b"--b\r\n" + disposition("a") + b"\r\r\nx\r\n--b--\r\n",
            id="headers-end-in-bare-cr-read-edge-before-lf",
        ),
        # A delimiter line's "\r\n" cut after the "\r": the "\n" starts the headers, and
        # with the stray "\n" after it the header block is empty (an error) instead of
        # beginning with an empty line.
        pytest.param(
            "b",
            b"--b\r\n\n" + disposition("a") + b"\n\nx\r\n--b--\r\n",
            id="delimiter-line-break-cr-read-edge-before-lf",
        ),
        # A vertical tab after "--boundary" is not padding, so this is no delimiter; the
        # search window and the keep-back rule once disagreed on that (a second reader's
        # find), emitting it as data or not by read edge.
        pytest.param(
            "b",
            b"--b\r\n"
            + disposition("a")
            + b"\r\n\r\nx\r\n--b\x0b\r\n"
            + disposition("c")
            + b"\r\n\r\ny\r\n--b--\r\n",
            id="vertical-tab-after-delimiter",
        ),
        pytest.param(
            "b",
            b"--b\x0c\r\n"
            + disposition("a")
            + b"\r\n\r\nx\r\n--b\r\n"
            + disposition("c")
            + b"\r\n\r\ny\r\n--b--\r\n",
            id="form-feed-after-first-delimiter",
        ),
        # Not split-dependent at HEAD; guards a fix of the padding limit: a final delimiter
        # with 256+ bytes of padding and a bare CR ending the body must give the same
        # field (with or without a CR appended) or the same refusal under every split.
        pytest.param(
            "b",
            b"--b\r\n" + disposition("a") + b"\r\n\r\nx\r\n--b--" + b" " * 256 + b"\r",
            id="final-delimiter-padding-256-then-bare-cr",
        ),
    ],
)
def test_known_split_dependence(boundary: str, body: bytes) -> None:
    """Bodies the property test found, each compared under every read pattern, read size
    and piece size (the first four fail at 23945a9)."""
    assert len(body) < MAX_BODY
    assert_split_independent(body, boundary, ALL_SPLITS)


# -- work per read ---------------------------------------------------------------------------


class CountingRegex:
    """Wraps a compiled regex and counts the bytes its searches (could) scan."""

    # A match anchored at a position examines at most about one delimiter's worth of bytes
    # (this test's data has no long runs of padding).
    MATCH_SPAN = 512

    def __init__(self, regex: Any) -> None:
        self._regex = regex
        self.calls = 0
        self.scanned = 0

    def _count(self, string: Any, pos: int, endpos: int, cap: int | None = None) -> None:
        span = max(0, min(endpos, len(string)) - pos)
        self.calls += 1
        self.scanned += span if cap is None else min(span, cap)

    def search(self, string: Any, pos: int = 0, endpos: int = sys.maxsize) -> Any:
        self._count(string, pos, endpos)
        return self._regex.search(string, pos, endpos)

    def finditer(self, string: Any, pos: int = 0, endpos: int = sys.maxsize) -> Any:
        self._count(string, pos, endpos)
        return self._regex.finditer(string, pos, endpos)

    def match(self, string: Any, pos: int = 0, endpos: int = sys.maxsize) -> Any:
        self._count(string, pos, endpos, self.MATCH_SPAN)
        return self._regex.match(string, pos, endpos)

    def fullmatch(self, string: Any, pos: int = 0, endpos: int = sys.maxsize) -> Any:
        self._count(string, pos, endpos, self.MATCH_SPAN)
        return self._regex.fullmatch(string, pos, endpos)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._regex, name)


def test_delimiter_regex_work_is_linear_in_body_size() -> None:
    """A "--boundary" lookalike not preceded by a line break can never become a delimiter;
    the decoder must not rerun its delimiter regex over the whole kept buffer on every
    read while such a lookalike sits in it. With a piece size the decoder keeps up to a
    piece back, so each lookalike costs about (piece / read) scans of half a piece: one
    lookalike per piece (here 16 reads per piece) makes that ~8x the body instead of ~1x.
    A single lookalike would not show it: only the piece holding it is rescanned."""
    piece, lookalike = 64 * 1024, b"x--" + BOUNDARY.encode()
    data = bytearray(os.urandom(MiB).replace(b"\r", b"R").replace(b"\n", b"N"))
    for start in range(100, len(data) - len(lookalike), piece):  # early in every piece
        data[start : start + len(lookalike)] = lookalike
    body = build([file("f", "a.bin", bytes(data))])
    # piece_size fills every read to read_size: many small reads of the same size.
    parser = StreamingFormParser(
        environ_for(body), max_total_bytes=4 * MiB, read_size=4096, piece_size=piece
    )
    counter = CountingRegex(parser._decoder.boundary_re)
    parser._decoder.boundary_re = counter
    assert collect(parser)[0][4] == data
    assert counter.calls, "the decoder no longer uses boundary_re: update this test"
    assert counter.scanned < 4 * len(body), (counter.calls, counter.scanned, len(body))
