"""Pad HTML responses to a size bucket so page sizes say less to a traffic observer."""

from __future__ import annotations

from flask import Flask, Response

_OPEN = b"<!--"
_CLOSE = b"-->"


def padded_length(length: int, bucket: int) -> int:
    """Return the size a body of ``length`` bytes is padded to (room for the comment included)."""
    minimum = length + len(_OPEN) + len(_CLOSE)
    return -(-minimum // bucket) * bucket


def pad_html(body: bytes, bucket: int) -> bytes:
    """Append an HTML comment of spaces so that ``len(result) % bucket == 0``."""
    spaces = padded_length(len(body), bucket) - len(body) - len(_OPEN) - len(_CLOSE)
    return body + _OPEN + b" " * spaces + _CLOSE


def _should_pad(response: Response) -> bool:
    if response.mimetype != "text/html":
        return False
    # Streamed and passthrough bodies (files, generators) are never loaded into memory.
    if response.direct_passthrough or response.is_streamed or not response.is_sequence:
        return False
    if response.status_code in (204, 304) or response.status_code < 200:
        return False
    if "attachment" in response.headers.get("Content-Disposition", ""):
        return False
    # A compressed body would shrink the padding away; compression is off by design
    # (compressing pages with secrets invites BREACH-style attacks).
    return "Content-Encoding" not in response.headers


def install_response_padding(app: Flask, bucket: int = 4096) -> None:
    """Pad every buffered ``text/html`` response body up to a multiple of ``bucket`` bytes.

    The padding is an HTML comment of spaces after the document, which browsers ignore.
    Streamed, passthrough, attachment and already-encoded responses are left alone. The
    reverse proxy must not compress these responses, or the padding is lost.
    """
    if bucket < 64:
        raise ValueError("bucket must be at least 64 bytes")

    @app.after_request
    def _pad(response: Response) -> Response:
        if _should_pad(response):
            response.set_data(pad_html(response.get_data(), bucket))
        return response
