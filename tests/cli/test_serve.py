"""`candor serve portal` for real: gunicorn with threaded workers, as in production."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - localhost only
        return response.status, dict(response.headers), response.read()


def test_serve_portal_under_gunicorn_answers_and_logs_no_requests(
    initialised_env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    output = tmp_path / "serve-output.log"
    home = tmp_path / "home"  # where gunicorn 24+ would put its control socket
    home.mkdir()
    with open(output, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "portal", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1", "--threads", "2"],
            env={**os.environ, **initialised_env, "PYTHONPATH": str(ROOT), "HOME": str(home)},
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, output.read_text()
            try:
                status, headers, body = _get(f"http://127.0.0.1:{port}/report")
                break
            except OSError:
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.2)
        assert status == 200
        assert b'id="report-form"' in body
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["Cache-Control"] == "no-store"
        # gunicorn's own "Server: gunicorn" is dropped too (the onion service reaches it
        # directly, without nginx to replace it).
        assert "Server" not in headers and "gunicorn" not in str(headers).lower()
        # Threaded workers that read request heads without a thread (cli.http_worker).
        assert "SlowClientSafeWorker" in output.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = output.read_text()
    # No access log: neither the request nor the client's address is written anywhere.
    assert "/report" not in log and "GET" not in log
    # No control socket shared by every instance of the user (~/.gunicorn/gunicorn.ctl).
    assert list(home.iterdir()) == []
    assert "control" not in log.lower()
