"""web.zip_stream: an archive written while it is sent, member after member, each member's
bytes passed on as they are produced (never the whole archive in memory)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from web.zip_stream import ZipMember, zip_chunks

MIB = 1024 * 1024


def test_members_stream_lazily_and_the_archive_is_valid():
    opened: list[str] = []

    def big(name: str, pieces: int):
        def chunks():
            opened.append(name)
            for i in range(pieces):
                yield bytes([i % 251]) * MIB
        return chunks

    stream = zip_chunks([ZipMember("doc.pdf", lambda: (b"%PDF " * 1000,), 5000, compress=True),
                         ZipMember("attachments/001-a.bin", big("a", 8), 8 * MIB),
                         ZipMember("attachments/002-b.bin", big("b", 8), 8 * MIB)],
                        day=date(2026, 5, 4))
    pieces = []
    for piece in stream:
        pieces.append(piece)
        # The second file is opened only once the first has been sent, and no piece holds
        # more than one chunk of a file (plus zip headers).
        if len(pieces) == 3:
            assert opened == ["a"]
        assert len(piece) <= MIB + 1024
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.testzip() is None
    infos = archive.infolist()
    assert [i.filename for i in infos] == ["doc.pdf", "attachments/001-a.bin",
                                          "attachments/002-b.bin"]
    assert [i.compress_type for i in infos] == [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED,
                                                zipfile.ZIP_STORED]
    assert {i.date_time for i in infos} == {(2026, 5, 4, 0, 0, 0)}
    assert archive.read("attachments/002-b.bin")[MIB:MIB + 3] == b"\x01\x01\x01"
    assert archive.read("doc.pdf") == b"%PDF " * 1000


def test_unicode_names_are_kept():
    data = b"".join(zip_chunks([ZipMember("attachments/001-证据照片.txt", lambda: (b"x",), 1)],
                               day=date(2026, 1, 1)))
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["attachments/001-证据照片.txt"]


def test_a_failing_member_cuts_the_archive_short():
    def broken():
        yield b"first"
        raise ValueError("integrity check failed")

    stream = zip_chunks([ZipMember("a.bin", broken, 10)], day=date(2026, 1, 1))
    with pytest.raises(ValueError):
        list(stream)
