"""A request class that never writes form data to disk.

Werkzeug's form parsing spools file parts larger than 500 KB to temporary files, in clear.
Ordinary (non-streamed) forms in Candor have no file inputs, so anything file-like that
arrives there is kept in memory, bounded by the app's small MAX_CONTENT_LENGTH, and ignored.
The upload views read the body with web.uploads instead, which never touches werkzeug's
form parsing or request.stream and enforces its own limit (max_total_bytes).
"""

from __future__ import annotations

import io
from typing import IO

from flask import Flask, Request, abort, request

#: Body limit for every request that is not an upload (forms are a few kilobytes).
FORM_BODY_LIMIT = 1024 * 1024
#: Multipart parts an ordinary form may have.
FORM_PARTS_LIMIT = 50


class NoSpoolRequest(Request):
    """Flask's request, with file parts of ordinary forms held in memory only."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()


def install_form_limits(app: Flask) -> None:
    """Small body and part limits for ordinary forms, no spooling to disk, and no NUL in
    the query."""
    app.request_class = NoSpoolRequest
    # Assigned, not setdefault: Flask's defaults already hold these keys (None and 1000), so
    # setdefault left plain forms without a body limit (a 2 MB urlencoded field got through).
    # The upload views read wsgi.input themselves (web.request_body), under their own limit.
    app.config["MAX_CONTENT_LENGTH"] = FORM_BODY_LIMIT
    app.config["MAX_FORM_PARTS"] = FORM_PARTS_LIMIT
    app.before_request(_refuse_nul_in_query)


def _refuse_nul_in_query() -> None:
    """400 for a NUL character in the address's query: no page asks for one, and PostgreSQL
    refuses it in a text parameter (outside tester: a search for "%00" answered 500)."""
    if any("\x00" in part for item in request.args.items(multi=True) for part in item):
        abort(400)

