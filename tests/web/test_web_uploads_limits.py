"""Streaming multipart parsing: every limit holds, while reading and before, and memory stays
small whatever the upload's size."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from collections.abc import Iterator

import pytest

from tests.web.multipart_helpers import (
    BOUNDARY,
    ExplodingStream,
    GeneratedStream,
    MiB,
    build,
    collect,
    environ_for,
    field,
    file,
    header,
    parse,
)
from web.uploads import (
    READ_SIZE,
    FilePart,
    MalformedForm,
    StreamingFormParser,
    UploadError,
    UploadTooLarge,
)

# -- limits ----------------------------------------------------------------------------------


def test_content_length_checked_before_reading() -> None:
    environ = environ_for(stream=ExplodingStream(), content_length=10 * MiB)
    with pytest.raises(UploadTooLarge) as info:
        StreamingFormParser(environ, max_total_bytes=MiB)
    assert info.value.reason == "total"
    assert info.value.limit == MiB
    assert isinstance(info.value, UploadError)


def test_total_counted_while_streaming_without_content_length() -> None:
    body = build([file("f", "a", os.urandom(2 * MiB))])
    parser = StreamingFormParser(environ_for(body, content_length=None), max_total_bytes=MiB)
    with pytest.raises(UploadTooLarge) as info:
        collect(parser)
    assert info.value.reason == "total"
    assert parser.bytes_read <= MiB + READ_SIZE


def test_lying_content_length_is_still_counted() -> None:
    body = build([file("f", "a", os.urandom(2 * MiB))])
    # A server that terminates the stream itself may pass a smaller Content-Length.
    environ = environ_for(body, content_length=None)
    environ["CONTENT_LENGTH"] = "100"
    environ.pop("wsgi.input_terminated")
    environ["wsgi.input"] = io.BytesIO(body)
    parser = StreamingFormParser(environ, max_total_bytes=MiB)
    # werkzeug limits the stream to Content-Length, so the body is simply cut short.
    with pytest.raises(MalformedForm):
        collect(parser)


def test_max_file_bytes() -> None:
    body = build([file("f", "a", b"x" * 5000)])
    with pytest.raises(UploadTooLarge) as info:
        parse(body, max_file_bytes=4096)
    assert info.value.reason == "file"
    assert parse(body, max_file_bytes=5000)[0][4] == b"x" * 5000


def test_max_files_counts_empty_inputs() -> None:
    parts = [file("f", "", b"")] * 3
    assert len(parse(build(parts), max_files=3)) == 3
    with pytest.raises(UploadTooLarge) as info:
        parse(build(parts), max_files=2)
    assert info.value.reason == "files"


def test_max_fields() -> None:
    parts = [field(f"f{i}", "v") for i in range(5)]
    with pytest.raises(UploadTooLarge) as info:
        parse(build(parts), max_fields=4)
    assert info.value.reason == "fields"
    # Said as what it is, not as a file limit (outside tester).
    assert str(info.value) == ("The form has more fields than it should. Please send it again "
                               "from this page.")
    assert not info.value.about_files


def test_max_field_bytes() -> None:
    body = build([field("text", "好" * 1000)])  # 3000 bytes
    assert parse(body, max_field_bytes=3000)[0][2] == ("好" * 1000).encode()
    with pytest.raises(UploadTooLarge) as info:
        parse(body, max_field_bytes=2999)
    assert info.value.reason == "field"
    # In characters, those a field of that many bytes always holds (4 bytes at most each).
    assert str(info.value) == ("A text field is longer than the 749 characters allowed. "
                               "Please shorten it and send it again.")
    assert not info.value.about_files


def test_file_limits_are_about_files() -> None:
    with pytest.raises(UploadTooLarge) as info:
        parse(build([file("f", "a", b"x" * 100)]), max_file_bytes=10)
    assert info.value.about_files and "file" in str(info.value)


def test_huge_field_does_not_buffer_past_limit() -> None:
    body = build([field("text", b"a" * (3 * MiB))])
    tracemalloc.start()
    try:
        with pytest.raises(UploadTooLarge):
            parse(body, max_field_bytes=1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 * MiB


def test_error_messages_are_human_and_carry_no_data() -> None:
    body = build([field("text", b"\xff\xfe secret")])
    with pytest.raises(MalformedForm) as info:
        parse(body)
    message = str(info.value)
    assert message == str(info.value.message)
    assert "secret" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__

# -- memory ----------------------------------------------------------------------------------


def test_fifty_mib_upload_keeps_peak_memory_small() -> None:
    size = 50 * MiB
    piece = os.urandom(READ_SIZE // 2 + 17)  # odd size: pieces never align with reads
    head = header(file("f", "big.bin", b""))
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def pieces() -> Iterator[bytes]:
        yield header(field("csrf_token", "t")) + b"t\r\n" + head
        sent = 0
        while sent < size:
            chunk = piece[: size - sent]
            sent += len(chunk)
            yield chunk
        yield tail

    total = len(header(field("csrf_token", "t"))) + 3 + len(head) + size + len(tail)
    expected = hashlib.sha256()
    sent = 0
    while sent < size:
        chunk = piece[: size - sent]
        sent += len(chunk)
        expected.update(chunk)

    environ = environ_for(stream=GeneratedStream(pieces()), content_length=total)
    digest = hashlib.sha256()
    received = 0
    tracemalloc.start()
    try:
        for part in StreamingFormParser(environ, max_total_bytes=60 * MiB):
            if isinstance(part, FilePart):
                for chunk in part.chunks():
                    digest.update(chunk)
                    received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    assert digest.digest() == expected.digest()
    assert peak < 1 * MiB, f"peak traced memory {peak} bytes"
