"""`candor serve portal` for real: gunicorn with threaded workers, as in production; and the
options it refuses (out of range, or more threads than database connections) before it starts
anything."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import Result

from tests.cli.conftest import run

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
        # A request line too long for gunicorn: answered 414, and warned about without the
        # client's address (outside tester: "Invalid request from ip=127.0.0.1").
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"GET /report?x=" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b" 414 " in raw.recv(200)
        deadline = time.monotonic() + 10
        while "Invalid request" not in output.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "Invalid request from ip=(not logged)" in output.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = output.read_text()
    # No access log: neither the request nor the client's address is written anywhere.
    assert "/report" not in log and "GET" not in log and "ip=127.0.0.1" not in log
    # No control socket shared by every instance of the user (~/.gunicorn/gunicorn.ctl).
    assert list(home.iterdir()) == []
    assert "control" not in log.lower()


# --- options refused before anything starts -------------------------------------------------
# In-process with a data directory that does not exist: an option that got past the checks
# would end in "data directory ... does not exist" (exit 1), never in a server.


def _serve(tmp_path: Path, *args: str, **settings: str) -> Result:
    env = {"CANDOR_DATA_DIR": str(tmp_path / "no-instance"), **settings}
    return run(env, "serve", "portal", *args)


def _usage_error(result: Result) -> str:
    """The one `Error:` line of a click usage error (exit 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert result.output.rstrip().endswith(errors[0]), result.output
    return errors[0]


@pytest.mark.parametrize(("args", "named"), [
    (("--port", "70000"), "--port"),
    (("--port", "0"), "--port"),
    (("--port", "-1"), "--port"),
    (("--workers", "0"), "--workers"),
    (("--workers", "100000"), "--workers"),  # forked until memory ran out
    (("--threads", "0"), "--threads"),
    (("--timeout", "0"), "--timeout"),
    (("--header-timeout", "0"), "--header-timeout"),
    (("--header-timeout", "-5"), "--header-timeout"),
    (("--idle-timeout", "0"), "--idle-timeout"),
    (("--idle-timeout", "nan"), "--idle-timeout"),
    (("--idle-timeout", "inf"), "--idle-timeout"),
    (("--header-timeout", "1e300"), "--header-timeout"),
])
def test_out_of_range_options_are_usage_errors(tmp_path: Path, args: tuple[str, ...],
                                               named: str) -> None:
    assert f"'{named}'" in _usage_error(_serve(tmp_path, *args))


def test_extreme_values_within_range_are_accepted(tmp_path: Path) -> None:
    result = _serve(tmp_path, "--port", "65535", "--workers", "1", "--threads", "1",
                    "--timeout", "1", "--header-timeout", "0.5", "--idle-timeout", "86400",
                    CANDOR_KDF_MAX_WAITING="0")
    assert result.exit_code == 1, result.output
    assert "does not exist" in result.output and "Warning" not in result.output


def test_more_threads_than_database_connections_is_refused(tmp_path: Path) -> None:
    # Each thread may hold a connection: with fewer, one waits under load and fails with a 500
    # (core.db.pool_settings). README: database_pool_size >= candor serve --threads.
    error = _usage_error(_serve(tmp_path, "--threads", "9", CANDOR_DATABASE_POOL_SIZE="8"))
    assert "'--threads'" in error and "9 threads" in error
    assert "database_pool_size is 8" in error and "CANDOR_DATABASE_POOL_SIZE" in error
    default = _usage_error(_serve(tmp_path, "--threads", "51"))  # the default pool: 50
    assert "database_pool_size is 50" in default
    # As many threads as connections is fine.
    fits = _serve(tmp_path, "--threads", "8", CANDOR_DATABASE_POOL_SIZE="8",
                  CANDOR_KDF_MAX_WAITING="7")
    assert fits.exit_code == 1 and "does not exist" in fits.output, fits.output
    # Werkzeug's --dev server has no thread pool: --threads is not used there.
    dev = _serve(tmp_path, "--dev", "--threads", "9", CANDOR_DATABASE_POOL_SIZE="8")
    assert dev.exit_code == 1 and "does not exist" in dev.output, dev.output


def test_a_queue_bound_not_below_the_threads_is_warned_about(tmp_path: Path) -> None:
    # kdf_max_waiting >= --threads lets a flood of guesses hold every thread (core.kdf_slots):
    # worth saying, but every request is still answered, and small thread counts are how the
    # tests run; so the server starts (here: gets as far as the missing data directory).
    result = _serve(tmp_path, "--threads", "4")  # default kdf_max_waiting: 28
    assert result.exit_code == 1, result.output
    warning = result.stderr.splitlines()[0]
    assert warning.startswith("Warning: kdf_max_waiting is 28, not below --threads 4")
    assert "CANDOR_KDF_MAX_WAITING" in warning
    assert "does not exist" in result.stderr
    below = _serve(tmp_path, "--threads", "4", CANDOR_KDF_MAX_WAITING="3")
    assert below.exit_code == 1 and "Warning" not in below.output, below.output
