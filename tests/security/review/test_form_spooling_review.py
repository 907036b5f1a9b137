"""Guards a fixed review finding: POST endpoints that are not streamed (every CSRFProtect-ed
form) let werkzeug parse multipart bodies itself, which spools any file part above 500 KB to
a temporary file on disk. With no size limit (the onion service reaches gunicorn without
nginx's client_max_body_size) that was unauthenticated disk filling, and bytes sent to the
server landed on disk in clear, against web/uploads.py's own rule. Since the fix
(web/requests.py: a body limit for ordinary forms and file parts held in memory) a large
file part posted to an ordinary form is refused and never reaches a temporary file."""

from __future__ import annotations

import tempfile

import pytest

BOUNDARY = "candor-review-7f3a9c"


def multipart(fields: dict[str, str], file_bytes: bytes) -> tuple[bytes, str]:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        .encode() for name, value in fields.items()
    ]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="evidence"; '
                 f'filename="evidence.txt"\r\nContent-Type: text/plain\r\n\r\n'.encode()
                 + file_bytes + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def disk_spool_spy(monkeypatch):
    created: list[object] = []
    original = tempfile.TemporaryFile

    def spy(*args, **kwargs):
        handle = original(*args, **kwargs)
        created.append(handle)
        return handle

    monkeypatch.setattr(tempfile, "TemporaryFile", spy)
    return created


PAYLOAD = b"plaintext evidence sent to the wrong form " * 50_000  # about 2 MB


def test_portal_form_post_does_not_spool_files_to_disk(portal_app, disk_spool_spy):
    body, content_type = multipart({"receipt": "1234"}, PAYLOAD)
    response = portal_app.test_client().post("/follow-up", data=body, content_type=content_type)
    assert response.status_code >= 400
    assert disk_spool_spy == [], "werkzeug spooled a multipart file part to disk"


def test_console_form_post_does_not_spool_files_to_disk(app, disk_spool_spy):
    body, content_type = multipart({"username": "x", "passphrase": "y"}, PAYLOAD)
    response = app.test_client().post("/login", data=body, content_type=content_type)
    assert response.status_code >= 400
    assert disk_spool_spy == [], "werkzeug spooled a multipart file part to disk"
