"""Downloads, the same in both apps: always an attachment, never shown inline, named safely
whatever the reporter or case handler called the file (and the documents the console makes:
exports, reports, proofs, with the same header)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

from werkzeug.wrappers import Response

#: The fallback name keeps only these (no quote, backslash, semicolon, space or control
#: character can reach the header); runs of anything else become one "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,16}")
_MAX_FALLBACK_STEM = 100
_FALLBACK = "attachment"


def ascii_file_name(name: str) -> str:
    """An ASCII stand-in for `name`, for clients that ignore `filename*`: accents dropped,
    other characters as "_", no leading dot (a hidden file) or dash (an option), the
    extension kept; "attachment" (plus the extension) if nothing is left."""
    stem, _dot, extension = name.rpartition(".")
    if not stem or not _EXTENSION.fullmatch(extension):
        stem, extension = name, ""  # ".bashrc" is a name, not an extension
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE.sub("_", folded).lstrip("._-").rstrip(".")[:_MAX_FALLBACK_STEM] or _FALLBACK
    return f"{stem}.{extension}" if extension else stem


def content_disposition(name: str) -> str:
    """`attachment` with the ASCII stand-in as `filename` and the real name, UTF-8 and
    percent-encoded (RFC 5987, RFC 6266), as `filename*`, which browsers prefer. Every byte
    of the real name but letters, digits and "-._~" is encoded, so neither parameter can
    end the header, close its quotes or add a parameter."""
    fallback = ascii_file_name(name)
    encoded = quote(name, safe="") or fallback
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def attachment_response(name: str, size: int, chunks: Iterable[bytes]) -> Response:
    """A download streamed from `chunks` as they are decrypted: opaque bytes
    (application/octet-stream, and the apps send nosniff), saved under `name`."""
    response = Response(chunks, mimetype="application/octet-stream", direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Content-Length"] = str(size)
    return response


def archive_response(name: str, chunks: Iterable[bytes]) -> Response:
    """A zip archive streamed from `chunks` as it is written (web.zip_stream), saved under
    `name`; its length is not known in advance, so none is sent."""
    response = Response(chunks, mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


def document_response(name: str, body: bytes | str, mimetype: str) -> Response:
    """A document made for this request (a CSV, a report, a proof), saved under `name`."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response
