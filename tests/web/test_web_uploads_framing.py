"""Streaming multipart parsing of bodies that are malformed, cut short or delivered oddly: a
clear UploadError, never a wrong parse, and never more read than the body holds."""

from __future__ import annotations

import io
import os

import pytest

from tests.web.multipart_helpers import (
    BOUNDARY,
    MiB,
    TrickleStream,
    build,
    collect,
    environ_for,
    field,
    file,
    parse,
)
from web.uploads import (
    MAX_BOUNDARY_LENGTH,
    READ_SIZE,
    MalformedForm,
    StreamingFormParser,
)

# -- malformed and truncated bodies ----------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/mixed; boundary=abc",
        "MULTIPART/MIXED; boundary=abc",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=" + "a" * (MAX_BOUNDARY_LENGTH + 1),
        'multipart/form-data; boundary="ends-in-space "',
        "multipart/form-data; boundary=bad\x01char",
        "text/plain",
    ],
)
def test_bad_content_type_or_boundary(content_type: str) -> None:
    with pytest.raises(MalformedForm):
        StreamingFormParser(environ_for(b"", content_type=content_type), max_total_bytes=MiB)


@pytest.mark.parametrize("length", [1, 70, 71, 76, MAX_BOUNDARY_LENGTH])
def test_boundaries_longer_than_rfc_2046_are_read(length: int) -> None:
    # RFC 2046 says 70 characters at most; werkzeug's test client sends up to about 75.
    boundary = ("'()+_,-./:=? 0aZ" * 20)[: length - 1] + "z"
    parts = [field("csrf_token", "t"), file("f", "a.bin", b"data\r\n--" + b"x" * 300)]
    body = build(parts, boundary=boundary)
    environ = environ_for(body, boundary=f'"{boundary}"')
    assert collect(StreamingFormParser(environ, max_total_bytes=MiB)) == [
        ("field", "csrf_token", b"t"),
        ("file", "f", "a.bin", "application/pdf", b"data\r\n--" + b"x" * 300),
    ]


def test_werkzeug_test_client_boundaries_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Its boundary holds time() and random() as text, so its length varies from run to run;
    # a long one (one form in about 200) once failed a test by chance. Make the longest.
    import werkzeug.test

    monkeypatch.setattr(werkzeug.test, "time", lambda: 1795896518.2518196)
    monkeypatch.setattr(werkzeug.test, "random", lambda: 1.2345678901234567e-05)
    environ = werkzeug.test.EnvironBuilder(
        method="POST", data={"a": "b", "f": (io.BytesIO(b"details"), "q.txt")}
    ).get_environ()
    boundary = environ["CONTENT_TYPE"].split("boundary=")[1].strip('"')
    assert len(boundary) > 70
    assert collect(StreamingFormParser(environ, max_total_bytes=MiB)) == [
        ("field", "a", b"b"),
        ("file", "f", "q.txt", "text/plain", b"details"),
    ]


@pytest.mark.parametrize("media_type", ["MULTIPART/FORM-DATA", "Multipart/Form-Data"])
def test_media_type_is_read_case_insensitively(media_type: str) -> None:
    """RFC 9110, 8.3.1: the type and subtype are case-insensitive; the boundary is not."""
    body = build([field("a", "b")], boundary="MiXeDcAsE")
    environ = environ_for(body, content_type=f"{media_type}; BOUNDARY=MiXeDcAsE")
    assert collect(StreamingFormParser(environ, max_total_bytes=MiB)) == [("field", "a", b"b")]


FULL = build(
    [
        field("csrf_token", "t"),
        file("f", "a.bin", os.urandom(150_000)),
        field("z", "end"),
    ]
)


@pytest.mark.parametrize(
    "cut", [0, 10, 60, 120, 200, 65536, 100_000, len(FULL) - 30, len(FULL) - 5]
)
def test_truncated_body(cut: int) -> None:
    truncated = FULL[:cut]
    with pytest.raises(MalformedForm):
        parse(truncated)


@pytest.mark.parametrize("cut", [100, 100_000, len(FULL) - 5])
def test_client_disconnect(cut: int) -> None:
    # Content-Length promises the full body but the client goes away.
    environ = environ_for(FULL[:cut], content_length=len(FULL))
    with pytest.raises(MalformedForm):
        collect(StreamingFormParser(environ, max_total_bytes=MiB))


def test_no_closing_delimiter() -> None:
    body = build([field("a", "b")]).replace(f"--{BOUNDARY}--\r\n".encode(), b"")
    with pytest.raises(MalformedForm):
        parse(body)


def test_garbage_body() -> None:
    with pytest.raises(MalformedForm):
        parse(os.urandom(5000).replace(b"-", b"_"))


def test_oversized_part_headers() -> None:
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n'
        + "X-Junk: "
        + "j" * 200_000
        + "\r\n\r\nv\r\n"
        + f"--{BOUNDARY}--\r\n"
    ).encode()
    with pytest.raises(MalformedForm):
        parse(body)


def test_missing_content_disposition() -> None:
    body = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nv\r\n--{BOUNDARY}--\r\n".encode()
    with pytest.raises(MalformedForm):
        parse(body)


def test_part_without_name() -> None:
    body = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--{BOUNDARY}--\r\n"
    ).encode()
    with pytest.raises(MalformedForm):
        parse(body)

def test_only_content_length_bytes_are_read() -> None:
    """Without a server-terminated stream, the parser reads exactly Content-Length bytes:
    whatever follows on the connection (a pipelined request) is left alone."""
    body = build([field("a", "b")])
    stream = io.BytesIO(body + b"GET /next HTTP/1.1\r\n\r\n")
    environ = environ_for(body, stream=stream)
    assert collect(StreamingFormParser(environ, max_total_bytes=MiB)) == [("field", "a", b"b")]
    assert stream.read() == b"GET /next HTTP/1.1\r\n\r\n"


@pytest.mark.parametrize("error", [ValueError, OSError, RuntimeError])
@pytest.mark.parametrize("terminated", [True, False])
def test_any_failure_of_the_input_is_an_interrupted_upload(error, terminated) -> None:
    """Servers raise their own types for a broken body (gunicorn's InvalidChunkSize quotes
    the bytes it choked on): always MalformedForm, with none of the server's text."""
    body = build([field("a", "b"), file("f", "x.bin", os.urandom(300_000))])

    class Breaking(io.RawIOBase):
        def __init__(self) -> None:
            self.sent = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            if self.sent >= 100_000:
                raise error("Invalid chunk size: b'CANARY-EVIDENCE-LINE'")
            piece = body[self.sent : self.sent + min(size, 50_000)]
            self.sent += len(piece)
            return piece

    environ = environ_for(body, stream=Breaking(), content_length=None if terminated else -1)
    with pytest.raises(MalformedForm) as info:
        collect(StreamingFormParser(environ, max_total_bytes=MiB))
    assert "CANARY" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_trickled_body_reaches_the_decoder_in_whole_reads() -> None:
    """With a piece size the decoder emits nothing until a whole piece is in, and each of
    its steps has a fixed cost; fed a few bytes at a time it would take a step per read.
    Reads are therefore filled up to read_size before the decoder sees them."""
    data = b"x--" + BOUNDARY.encode() + os.urandom(300_000).replace(b"\r", b"R")
    body = build([file("f", "a.bin", data)])
    environ = environ_for(body, stream=TrickleStream(body, 7))
    parser = StreamingFormParser(environ, max_total_bytes=MiB, read_size=128 * 1024,
                                 piece_size=64 * 1024)
    fed = []
    real = parser._decoder.receive_data
    parser._decoder.receive_data = lambda chunk: (fed.append(len(chunk or b"")), real(chunk))
    assert collect(parser)[0][4] == data
    assert fed[:-1] and all(n == 128 * 1024 for n in fed[:-2])  # whole reads, then the rest
    assert len(fed) <= len(body) // (128 * 1024) + 2


@pytest.mark.parametrize("piece_size", [None, 64 * 1024])
def test_piece_size_gives_a_preamble_no_more_room(piece_size: int | None) -> None:
    """The decoder may hold a piece more only inside a part's data: a preamble larger than
    the usual room is refused the same with or without a piece size."""
    body = b"x" * (READ_SIZE + 20_000) + b"\r\n" + build([field("a", "b")])
    with pytest.raises(MalformedForm):
        parse(body, piece_size=piece_size)
