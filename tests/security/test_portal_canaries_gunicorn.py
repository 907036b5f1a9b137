"""Canaries through the portal served by real gunicorn: nothing a reporter sends reaches the
database, the blobs, the logs or the responses in clear."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import tests.portal.conftest as portal_fixtures
from core.config import load_config
from core.keyring import Keyring, write_keyring
from core.models import Case
from core.services import Services
from tests.portal.conftest import (
    HttpClient,
    IntakeReviewer,
    csrf_token,
    multipart_body,
    receipt_of,
)
from tests.security.scanning import (
    database_bytes,
    files_under,
    receipt_needles,
    repeated,
    scan_bytes,
    scan_files,
)
from tests.security.test_portal_canaries import (
    CANARY_IP,
    broken_chunked_upload,
    gunicorn_portal,
    make_canaries,
    report_with,
)

# The portal's intake reviewer fixture, shared with tests/portal.
intake_reviewer = portal_fixtures.intake_reviewer


def test_portal_canaries_under_gunicorn(
    services: Services,
    session_factory: sessionmaker[Session],
    intake_reviewer: IntakeReviewer,
    engine,
    database_url: str,
    tmp_path: Path,
) -> None:
    # An instance like `candor init` makes: secrets files, the database (schema, categories
    # and an intake reviewer from the fixtures).
    data_dir = tmp_path / "instance"
    data_dir.mkdir(mode=0o700)
    write_keyring(load_config({}, data_dir=data_dir, database_url=database_url), Keyring.generate())
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    c = make_canaries()
    file_bytes = repeated(c["file_bytes"], 300 * 1024)
    reply_bytes = repeated(c["reply_file_bytes"], 70 * 1024)
    codes = []
    with gunicorn_portal(data_dir, database_url, log_dir) as (base, error_log):
        http = HttpClient(base, {"User-Agent": c["user_agent"], "X-Forwarded-For": CANARY_IP})
        form = http.get("/report")
        sent = http.post_multipart(
            "/report",
            [("csrf_token", csrf_token(form.text)), *report_with(c)],
            [("attachments", c["file_name"], file_bytes)],
        )
        assert sent.status == 200, sent.text[:3000]
        codes.append(receipt_of(sent.text))
        invalid = http.post_multipart(
            "/report", [("csrf_token", csrf_token(form.text)), ("summary", c["invalid_form_text"])]
        )
        assert invalid.status == 400
        page = http.get("/follow-up")
        assert (
            http.post_form(
                "/follow-up", [("csrf_token", csrf_token(page.text)), ("receipt", codes[0])]
            ).status
            == 303
        )
        case = http.get("/case")
        assert c["who_involved"] in case.text
        reply = http.post_multipart(
            "/case/reply",
            [("csrf_token", csrf_token(case.text)), ("body", c["message"])],
            [("attachments", c["reply_file_name"], reply_bytes)],
        )
        assert reply.status == 303
        case = http.get("/case")
        ids = re.findall(r'href="/case/files/(\d+)"', case.text)
        downloads = [http.get(f"/case/files/{i}").body for i in ids]
        assert file_bytes in downloads and reply_bytes in downloads
        assert http.get("/definitely-missing").status == 404
        body, content_type = multipart_body([("csrf_token", "forged")])
        assert http.request("POST", "/report", body, {"Content-Type": content_type}).status == 400
        form = http.get("/report")
        assert broken_chunked_upload(http, csrf_token(form.text), c) == 400
    log_bytes = error_log.read_bytes() + (log_dir / "gunicorn-output.log").read_bytes()
    # Positive controls: the log is gunicorn's, at debug level, with per-request lines.
    assert b"Booting worker with pid" in log_bytes
    assert b"POST /report" in log_bytes
    assert b"GET /case" in log_bytes
    needles = {**c, **receipt_needles(codes)}
    assert sorted(scan_bytes(log_bytes, needles)) == []
    # 127.0.0.1 appears only in gunicorn's own settings (the debug-level config dump, lines
    # "  name: value") and where it announces its listening address; never per request.
    own_lines = [line for line in log_bytes.splitlines() if b"127.0.0.1" in line]
    assert any(b"Listening at: http://127.0.0.1:" in line for line in own_lines)
    assert [
        line
        for line in own_lines
        if not line.startswith(b"  ") and b"Listening at: http://127.0.0.1:" not in line
    ] == []

    with session_factory() as s:
        reference = s.scalars(select(Case.reference)).one()
    database = database_bytes(database_url, engine, tmp_path / "dump.sql")
    assert scan_bytes(database, needles) == set()
    assert reference.encode() in database
    stored = files_under(data_dir / "blobs")
    assert len(stored) >= 2
    assert scan_files(files_under(data_dir), needles) == []
    assert sum(p.stat().st_size for p in stored) > len(file_bytes) + len(reply_bytes)

