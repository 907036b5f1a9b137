"""Reading a request body straight from ``wsgi.input``, for the streaming form parser."""

from __future__ import annotations

from typing import IO, Any

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import get_content_length


class BodyReader:
    """The request body, read straight from ``wsgi.input`` within its declared length.

    The same rules as werkzeug's ``get_input_stream``: a server that terminates the stream
    itself (``wsgi.input_terminated``: gunicorn, chunked requests) is read to its end; else
    exactly Content-Length bytes are read, and none without one. Reading directly avoids
    werkzeug's LimitedStream, which copies every piece twice more (benches/upload.py).
    The byte limit is the parser's job.

    Every failure of the input becomes ClientDisconnected (a 400), with the original
    dropped: servers raise their own exception types for a broken body (gunicorn's
    InvalidChunkSize quotes the offending bytes, which may be file content), and neither the
    type nor the text may reach a 500 page or a log.
    """

    def __init__(self, environ: dict[str, Any]) -> None:
        self._stream: IO[bytes] = environ["wsgi.input"]
        length = get_content_length(environ)
        self._remaining: int | None
        if environ.get("wsgi.input_terminated"):
            self._remaining = None
        else:
            self._remaining = length or 0

    def read(self, size: int) -> bytes:
        """Up to `size` bytes; b"" at the end. ClientDisconnected if the body is cut short
        or malformed."""
        if self._remaining is not None:
            if self._remaining <= 0:
                return b""
            size = min(size, self._remaining)
        try:
            chunk = self._stream.read(size)
        except Exception:
            raise ClientDisconnected() from None
        if self._remaining is not None:
            if not chunk:
                raise ClientDisconnected()
            self._remaining -= len(chunk)
        return chunk
