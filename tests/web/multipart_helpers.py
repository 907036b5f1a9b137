"""Multipart bodies built the way browsers build them, and streams that deliver them the way
networks do, for the parser's tests (tests/web/test_web_uploads*.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from web.uploads import FieldPart, FilePart, StreamingFormParser

BOUNDARY = "----CandorFormBoundary7MA4YWxkTrZu0gW"
MiB = 1024 * 1024


def field(name: str, value: str | bytes) -> tuple:
    return ("field", name, value.encode() if isinstance(value, str) else value)


def file(name: str, filename: str, data: bytes, content_type: str = "application/pdf") -> tuple:
    return ("file", name, filename, content_type, data)


def header(part: tuple, boundary: str = BOUNDARY) -> bytes:
    head = f"--{boundary}\r\n".encode()
    if part[0] == "field":
        return head + f'Content-Disposition: form-data; name="{part[1]}"\r\n\r\n'.encode()
    return (
        head
        + (
            f'Content-Disposition: form-data; name="{part[1]}"; filename="{part[2]}"\r\n'
            f"Content-Type: {part[3]}\r\n\r\n"
        ).encode()
    )


def build(parts: list[tuple], boundary: str = BOUNDARY) -> bytes:
    """Build a body the way browsers do."""
    out = bytearray()
    for part in parts:
        out += header(part, boundary)
        out += part[2] if part[0] == "field" else part[4]
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


class TrickleStream(io.RawIOBase):
    """A stream returning at most ``step`` bytes per read, like a slow network."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self._step, len(self._data) - self._pos)
        b[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


class GeneratedStream(io.RawIOBase):
    """A stream producing its bytes from an iterator, never holding the whole body."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._pieces)
            except StopIteration:
                return 0
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class ExplodingStream(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        raise AssertionError("the body must not be read")


def environ_for(
    body: bytes | None = None,
    *,
    stream: io.RawIOBase | None = None,
    boundary: str = BOUNDARY,
    content_length: int | None = -1,
    content_type: str | None = None,
) -> dict[str, Any]:
    if stream is None:
        stream = io.BytesIO(body or b"")  # type: ignore[assignment]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": content_type or f"multipart/form-data; boundary={boundary}",
        "wsgi.input": stream,
    }
    if content_length == -1:
        content_length = len(body or b"")
    if content_length is None:
        # A chunked request: the server terminates the stream, there is no length.
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(content_length)
    return environ


def collect(parser: StreamingFormParser) -> list[tuple]:
    """Parse everything into comparable tuples."""
    out: list[tuple] = []
    for part in parser:
        if isinstance(part, FieldPart):
            out.append(("field", part.name, part.value.encode()))
        else:
            assert isinstance(part, FilePart)
            data = b"".join(part.chunks())
            assert part.size == len(data)
            out.append(("file", part.name, part.filename, part.content_type, data))
    return out


def parse(body: bytes, **kwargs: Any) -> list[tuple]:
    kwargs.setdefault("max_total_bytes", 200 * MiB)
    stream = kwargs.pop("stream", None)
    environ = environ_for(body, stream=stream)
    return collect(StreamingFormParser(environ, **kwargs))
