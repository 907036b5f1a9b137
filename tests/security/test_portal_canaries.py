"""Canaries through the portal's HTTP interface: every report field, the identity, messages,
file names and file bytes, the client's address and User-Agent are sent through HTTP, then
looked for in the database (SQLite file and WAL, or a PostgreSQL dump), the blob store and
every log: Python logging captured at DEBUG, and a real gunicorn server's error log at debug
level. None may be found; nor may a receipt code. Positive controls show each scan can see."""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import core.intake.submission as submission_module
from core.models import Case
from core.services import Services
from tests.deploy.harness import stop
from tests.portal import conftest as portal_fixtures
from tests.portal.conftest import (
    HttpClient,
    IntakeReviewer,
    csrf_token,
    live_server,
    login_via,
    multipart_body,
    post_multipart,
    post_reviewer_reply,
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

# The portal fixtures (app on each backend, intake reviewer), shared with tests/portal.
intake_reviewer = portal_fixtures.intake_reviewer
portal_app = portal_fixtures.portal_app
make_portal = portal_fixtures.make_portal

ROOT = Path(__file__).resolve().parents[2]
CANARY_IP = "203.0.113.77"
CANARY_REMOTE_ADDR = "198.51.100.23"
REPORT_FIELDS = (
    "summary",
    "what_happened",
    "when",
    "where",
    "who_involved",
    "how_known",
    "evidence",
)
IDENTITY_FIELDS = ("name", "contact", "position")


# --- the canaries ---------------------------------------------------------------------------


def make_canaries() -> dict[str, str]:
    labels = [
        *REPORT_FIELDS,
        *IDENTITY_FIELDS,
        "file_name",
        "file_bytes",
        "message",
        "reply_file_name",
        "reply_file_bytes",
        "invalid_form_text",
        "failed_submission",
        "broken_chunk",
    ]
    canaries = {label: f"CANARY-{label.upper()}-{secrets.token_hex(8)}" for label in labels}
    canaries["chinese"] = f"金丝雀门户{secrets.token_hex(4)}测试"
    canaries["user_agent"] = f"CanaryAgent/{secrets.token_hex(8)}"
    canaries["forwarded_ip"] = CANARY_IP
    return canaries


class CaptureAll(logging.Handler):
    """Every record on the root logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.__dict__))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def capture_all_logging() -> Iterator[CaptureAll]:
    root = logging.getLogger()
    handler = CaptureAll()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def report_with(c: dict[str, str]) -> list[tuple[str, str]]:
    fields = [("category", "security"), ("disclosure", "confidential")]
    fields += [
        (name, c[name] + (" " + c["chinese"] if name == "what_happened" else ""))
        for name in REPORT_FIELDS
    ]
    fields += [(name, c[name]) for name in IDENTITY_FIELDS]
    return fields


# --- the flow through the Flask test client and a threaded werkzeug server --------------------


def test_portal_canaries_in_process(
    portal_app: Flask,
    make_portal: Callable[..., Flask],
    services: Services,
    session_factory: sessionmaker[Session],
    intake_reviewer: IntakeReviewer,
    engine,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = make_canaries()
    file_bytes = repeated(c["file_bytes"], 300 * 1024)
    reply_bytes = repeated(c["reply_file_bytes"], 100 * 1024)
    codes: list[str] = []
    caplog.set_level(logging.DEBUG)
    portal_app.config["PROPAGATE_EXCEPTIONS"] = False
    environ = {
        "HTTP_USER_AGENT": c["user_agent"],
        "HTTP_X_FORWARDED_FOR": CANARY_IP,
        "REMOTE_ADDR": CANARY_REMOTE_ADDR,
    }
    with capture_all_logging() as logs:
        logging.getLogger("tests.control").debug("CONTROL-LOG-%s", "visible")
        client = portal_app.test_client()
        client.environ_base.update(environ)
        token = csrf_token(client.get("/report").text)
        sent = post_multipart(
            client,
            "/report",
            [("csrf_token", token), *report_with(c)],
            [("attachments", c["file_name"] + ".txt", file_bytes)],
        )
        assert sent.status_code == 200, sent.text
        codes.append(receipt_of(sent.text))
        # An invalid form (echoed back, never logged) and a submission failing half-way.
        invalid = post_multipart(
            client, "/report", [("csrf_token", token), ("summary", c["invalid_form_text"])]
        )
        assert invalid.status_code == 400
        assert c["invalid_form_text"] in invalid.text

        def explode(*args: object, **kwargs: object) -> None:
            raise RuntimeError("simulated failure")

        with monkeypatch.context() as m:
            m.setattr(submission_module, "record_event", explode)
            failed = post_multipart(
                client,
                "/report",
                [
                    ("csrf_token", token),
                    ("category", "it_fault"),
                    ("summary", c["failed_submission"]),
                    ("what_happened", c["failed_submission"]),
                ],
                [("attachments", c["failed_submission"], c["failed_submission"].encode())],
            )
            assert failed.status_code == 500

        assert login_via(client, codes[0]).status_code == 303
        case = client.get("/case")
        assert c["summary"] in case.text and c["chinese"] in case.text
        with session_factory() as s:
            case_id = s.scalars(select(Case.id)).one()
            reference = s.scalars(select(Case.reference)).one()
        post_reviewer_reply(
            session_factory,
            services,
            intake_reviewer,
            case_id,
            "Handler answer",
            [("handler.txt", b"handler bytes")],
        )
        reply = post_multipart(
            client,
            "/case/reply",
            [("csrf_token", csrf_token(case.text)), ("body", c["message"])],
            [("attachments", c["reply_file_name"], reply_bytes)],
        )
        assert reply.status_code == 303
        case = client.get("/case")
        assert c["message"] in case.text and c["reply_file_name"] in case.text
        downloads = [
            client.get(f"/case/files/{i}").get_data()
            for i in re.findall(r'href="/case/files/(\d+)"', case.text)
        ]
        assert file_bytes in downloads and reply_bytes in downloads  # the data went through

        # The same over a real socket from 127.0.0.1, with a canary User-Agent and XFF.
        app = make_portal(insecure_dev_cookies=True)
        with live_server(app) as server:
            http = HttpClient(
                server.base, {"User-Agent": c["user_agent"], "X-Forwarded-For": CANARY_IP}
            )
            form = http.get("/report")
            body = http.post_multipart(
                "/report",
                [("csrf_token", csrf_token(form.text)), *report_with(c)],
                [("attachments", c["file_name"], file_bytes)],
            )
            assert body.status == 200
            codes.append(receipt_of(body.text))
            page = http.get("/follow-up")
            assert (
                http.post_form(
                    "/follow-up", [("csrf_token", csrf_token(page.text)), ("receipt", codes[1])]
                ).status
                == 303
            )
            case_page = http.get("/case")
            assert c["summary"] in case_page.text
            assert (
                http.post_multipart(
                    "/case/reply",
                    [("csrf_token", csrf_token(case_page.text)), ("body", c["message"])],
                ).status
                == 303
            )
            assert http.get("/no-such-page").status == 404

    log_text = (logs.text + "\n" + caplog.text).encode()
    # Positive controls: logging was captured, including the app's own error log.
    assert b"CONTROL-LOG-visible" in log_text
    assert b"Exception on /report [POST]" in log_text
    assert b"simulated failure" in log_text

    needles = {**c, "remote_addr": CANARY_REMOTE_ADDR, **receipt_needles(codes)}
    assert sorted(scan_bytes(log_text, needles)) == []
    # The socket peer: nothing the app logs names it.
    assert b"127.0.0.1" not in log_text

    database = database_bytes(database_url, engine, tmp_path / "dump.sql")
    assert scan_bytes(database, needles) == set()
    assert reference.encode() in database  # positive control: plaintext columns are seen
    assert scan_bytes(database, {"ref": reference}) == {("ref", "utf-8")}

    blobs = files_under(services.config.blob_dir)
    assert len(blobs) == 4  # report, handler and reply files; the live report's file
    assert scan_files(blobs, needles) == []
    assert scan_files(files_under(services.config.data_dir), needles) == []
    control = services.config.blob_dir / "zz-control"
    control.write_text("CONTROL-BLOB-" + c["summary"])
    assert scan_files(files_under(services.config.blob_dir), needles)[0][1] == "summary"
    control.unlink()


# --- a real gunicorn server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn_portal(data_dir: Path, database_url: str, log_dir: Path) -> Iterator[tuple[str, Path]]:
    """The portal under gunicorn (no access log, error log at debug level to a file)."""
    port = free_port()
    error_log = log_dir / "gunicorn-error.log"
    output = log_dir / "gunicorn-output.log"
    env = {
        **os.environ,
        "CANDOR_DATA_DIR": str(data_dir),
        "CANDOR_DATABASE_URL": database_url,
        "CANDOR_INSECURE_DEV_COOKIES": "1",
        "PYTHONPATH": str(ROOT),
    }
    with open(output, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--error-logfile",
                str(error_log),
                "--log-level",
                "debug",
                "--timeout",
                "120",
                "--chdir",
                str(ROOT),
                "tests.security.portal_canary_wsgi:application",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, output.read_text() + error_log.read_text()
                try:
                    if HttpClient(base).get("/").status == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
            yield base, error_log
        finally:
            stop(process)


def broken_chunked_upload(http: HttpClient, token: str, c: dict[str, str]) -> int:
    """POST /report chunked, losing the framing in the middle of the file: where a chunk size
    is due comes a line of evidence instead. gunicorn raises InvalidChunkSize quoting that
    line; the portal must answer 400 and neither log nor show it. Returns the status."""
    host, port = http.base.removeprefix("http://").split(":")
    body, content_type = multipart_body(
        [("csrf_token", token), *report_with(c)],
        [("attachments", "evidence.bin", os.urandom(200_000))],
    )
    cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in http.jar)
    first = body[: len(body) // 2]
    request = (
        f"POST /report HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Transfer-Encoding: chunked\r\nCookie: {cookies}\r\nConnection: close\r\n\r\n"
    ).encode() + f"{len(first):x}\r\n".encode() + first + b"\r\n"
    request += c["broken_chunk"].encode() + b"\r\n"
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        response = b""
        while piece := sock.recv(65536):
            response += piece
    status_line = response.split(b"\r\n", 1)[0]
    assert c["broken_chunk"].encode() not in response
    return int(status_line.split()[1])
