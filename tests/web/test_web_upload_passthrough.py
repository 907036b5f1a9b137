"""The parser's pass-through: inside a file, reads sized to whole pieces are handed on as the
very objects read (web.multipart_fix.BoundarySafeDecoder), never at the cost of a parse that
differs, a delimiter missed or a memory limit skipped."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest

from tests.web.multipart_helpers import MiB, build, environ_for, field, file
from web.uploads import FilePart, MalformedForm, StreamingFormParser


class RecordingStream(io.BytesIO):
    """A body stream that remembers every object its reads returned."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.returned: list[bytes] = []

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.returned.append(chunk)
        return chunk


def file_chunks(body: bytes, stream: io.BytesIO, **kwargs: Any) -> list[bytes]:
    """The chunks of the body's only file, parsed from `stream`."""
    parser = StreamingFormParser(environ_for(body, stream=stream), max_total_bytes=64 * MiB,
                                 **kwargs)
    files = [list(part.chunks()) for part in parser if isinstance(part, FilePart)]
    assert len(files) == 1
    return files[0]


def no_line_break_at_piece_ends(data: bytearray, piece: int) -> bytearray:
    """`data` with the last two bytes of every whole piece made ordinary (a line break there
    could begin a delimiter, so that piece would rightly wait for the next read)."""
    for end in range(piece, len(data) + 1, piece):
        data[end - 2 : end] = b"xx"
    return data


@pytest.mark.parametrize(("read_size", "piece_size"), [(4096, 4096), (MiB, MiB), (8192, 1024)])
def test_whole_pieces_of_file_data_are_handed_on_uncopied(read_size: int, piece_size: int) -> None:
    """Once the first piece is complete, each read of file data is sized to whole pieces and
    handed on as the very object read: neither copied into the decoder's buffer nor out."""
    data = no_line_break_at_piece_ends(bytearray(os.urandom(20 * read_size + 123)), piece_size)
    body = build([field("a", "b"), file("f", "x.bin", bytes(data)), field("z", "after")])
    stream = RecordingStream(body)
    chunks = file_chunks(body, stream, read_size=read_size, piece_size=piece_size)
    assert b"".join(chunks) == data
    returned = {id(chunk) for chunk in stream.returned}
    uncopied = [chunk for chunk in chunks if id(chunk) in returned]
    # All but the first piece (it starts in the read that held the part's headers), the read
    # that completes it, and the file's end (its read also holds the delimiter).
    assert len(uncopied) >= 18, [len(c) for c in chunks]
    assert all(len(chunk) == read_size for chunk in uncopied)


@pytest.mark.parametrize("short", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("tail", [b"", b"\r", b"\r\n", b"\n", b"\r\n-"])
def test_read_whose_end_may_begin_the_delimiter_is_not_handed_on(short: int, tail: bytes) -> None:
    """File data ending at or just before a piece edge, so that a whole-piece read ends in
    the data's own line breaks or in the first bytes of the delimiter: the data comes out
    exactly, without the delimiter's line break and with its own."""
    piece = 4096
    size = 6 * piece - short
    data = no_line_break_at_piece_ends(bytearray(os.urandom(size - len(tail))), piece)
    data = data.replace(b"\r", b"R").replace(b"\n", b"N") + tail
    for after in ([], [field("next", "v")]):
        body = build([field("a", "b"), file("f", "x.bin", bytes(data)), *after])
        chunks = file_chunks(body, RecordingStream(body), read_size=piece, piece_size=piece)
        assert b"".join(chunks) == data, (short, tail, after)


def test_piece_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="piece_size"):
        StreamingFormParser(environ_for(build([field("a", "b")])), max_total_bytes=MiB,
                            piece_size=0)


def test_stream_returning_more_than_asked_is_not_handed_on_unchecked() -> None:
    """A server whose reads return more than asked: the decoder's memory limit still holds,
    also where a whole-piece read would otherwise pass straight through."""

    class Generous(io.BytesIO):
        """Exact reads, but the fourth (inside the file, after whole pieces) is 8 times
        larger than asked: whole pieces, no delimiter, over the decoder's room."""

        reads = 0

        def read(self, size: int | None = -1) -> bytes:
            self.reads += 1
            return super().read(size * 8 if size and self.reads == 4 else size)

    data = no_line_break_at_piece_ends(bytearray(os.urandom(64 * 4096)), 4096)
    body = build([file("f", "x.bin", bytes(data))])
    with pytest.raises(MalformedForm):
        file_chunks(body, Generous(body), read_size=4096, piece_size=4096)
