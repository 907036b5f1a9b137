"""The portal's nginx examples for real: nginx (nginx-portal.conf's TLS and http servers and
nginx-onion.conf, with the common snippet) in front of a real `candor serve portal`, which runs
under the seccomp rules of deploy/candor-portal.service.

The copies differ from the examples only in addresses, paths and, so that a test takes seconds,
in the timeouts (below) and the transfer limit (1).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.conftest import run as candor
from tests.deploy.harness import (
    NGINX_FILES,
    PORTAL_NAME,
    NginxTree,
    free_port,
    served_behind_nginx,
    tool,
    wait_for,
)
from tests.portal.conftest import RECEIPT_RE, csrf_token, multipart_body, report_fields
from web.requests import FORM_BODY_LIMIT

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
ONION_NAME = "EXAMPLEONIONADDRESSEXAMPLEONIONADDRESSEXAMPLE.onion"
#: Test values of the snippet's timeouts (the examples: 20 s, 60 s).
HEADER_TIMEOUT, BODY_TIMEOUT, PROXY_READ_TIMEOUT = 2, 3, 5
TIMEOUTS = {"client_header_timeout": HEADER_TIMEOUT, "client_body_timeout": BODY_TIMEOUT,
            "send_timeout": BODY_TIMEOUT, "proxy_send_timeout": BODY_TIMEOUT,
            "proxy_read_timeout": PROXY_READ_TIMEOUT}
#: What nginx-portal-common.conf lets through to the uploads (checked against the app's
#: limits in test_deploy_configs.py).
UPLOAD_LIMIT = 514 * MiB


@dataclass
class Site:
    tree: NginxTree
    data: Path
    cert: Path
    tls: int
    plain: int
    onion: int
    portal: subprocess.Popen[bytes]
    portal_log: Path
    sandboxed: bool

    def https(self, source: str = "127.0.0.1") -> http.client.HTTPSConnection:
        """A connection to the TLS server that checks its certificate and name."""
        context = ssl.create_default_context(cafile=str(self.cert))
        conn = http.client.HTTPSConnection(PORTAL_NAME, self.tls, context=context, timeout=30)
        raw = socket.create_connection(("127.0.0.1", self.tls), timeout=30,
                                       source_address=(source, 0))
        conn.sock = context.wrap_socket(raw, server_hostname=PORTAL_NAME)
        return conn

    def onion_http(self, source: str = "127.0.0.1") -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(ONION_NAME, self.onion, timeout=30)
        conn.sock = socket.create_connection(("127.0.0.1", self.onion), timeout=30,
                                             source_address=(source, 0))
        return conn

    def blobs_being_written(self) -> list[int]:
        """The sizes of the blobs the app is writing (its blob store's tmp/ folder)."""
        folder, sizes = self.data / "blobs" / "tmp", []
        for path in folder.iterdir() if folder.is_dir() else ():
            with contextlib.suppress(FileNotFoundError):  # finished meanwhile
                sizes.append(path.stat().st_size)
        return sizes


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tool("nginx")
    tmp = tmp_path_factory.mktemp("deploy-live")
    data = tmp / "data"
    env = {"CANDOR_DATA_DIR": str(data)}
    assert candor(env, "init").exit_code == 0
    app, tls, plain, onion = (free_port() for _ in range(4))

    files = {name: NGINX_FILES[name] for name in (
        "nginx-candor.conf", "nginx-tls.conf", "nginx-portal-common.conf", "nginx-portal.conf",
        "nginx-onion.conf")}
    with served_behind_nginx(tmp, "portal", env, app, files, {
        "nginx-candor.conf": [(r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{app};")],
        "nginx-portal.conf": [(r"^\s*listen \[::\]:\d+ .*\n", ""),
                              (r"listen 443 ", f"listen 127.0.0.1:{tls} "),
                              (r"listen 80 ", f"listen 127.0.0.1:{plain} ")],
        "nginx-onion.conf": [(r"listen 127\.0\.0\.1:8090 ", f"listen 127.0.0.1:{onion} ")],
        "nginx-portal-common.conf": [
            *((rf"^(\s*{name})\s+\d+s;", rf"\1 {seconds}s;") for name, seconds in TIMEOUTS.items()),
            (r"(limit_conn candor_portal_transfers) \d+;", r"\1 1;")],
    }, [tls, plain, onion]) as served:
        yield Site(tree=served.tree, data=data, cert=served.tree.root / "test.pem", tls=tls,
                   plain=plain, onion=onion, portal=served.app, portal_log=served.app_log,
                   sandboxed=served.sandboxed)


def _get(conn: http.client.HTTPConnection, path: str, **headers: str
         ) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.headers, response.read()


def _refused_at_once(conn: http.client.HTTPConnection, path: str, length: int) -> int:
    """Declare a body of `length` bytes, send none, and return the status nginx answers."""
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    response = conn.getresponse()
    assert "Content-Security-Policy" not in response.headers  # nginx's page, not the app's
    return response.status


def _submit(site: Site, file: bytes, pieces: int, pause: float,
            midway: list[tuple[list[int], list[Path]]] | None = None) -> str:
    """Send a report with `file` over TLS in `pieces`, `pause` seconds apart; return the
    receipt page. `midway` receives, after two thirds, the app's blobs being written and
    nginx's body temporary files."""
    conn = site.https()
    status, headers, page = _get(conn, "/report")
    assert status == 200
    cookies = "; ".join(c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or [])
    body, content_type = multipart_body(
        [("csrf_token", csrf_token(page.decode())), *report_fields().items()],
        [("attachments", "evidence.bin", file)])
    conn.putrequest("POST", "/report")
    conn.putheader("Content-Type", content_type)
    conn.putheader("Content-Length", str(len(body)))
    conn.putheader("Cookie", cookies)
    conn.endheaders()
    size = -(-len(body) // pieces)
    for n in range(pieces):
        conn.send(body[n * size:(n + 1) * size])
        if midway is not None and n == pieces * 2 // 3:
            time.sleep(0.5)  # the app's reads and writes catch up
            temp = site.tree.body_temp
            midway.append((site.blobs_being_written(),
                           list(temp.iterdir()) if temp.exists() else []))
        time.sleep(pause)
    response = conn.getresponse()
    text = response.read().decode()
    assert response.status == 200, text[:2000]
    return text


def _closed_after(sock: socket.socket, keep_sending: bytes | None, limit: float) -> float:
    """Seconds until the server closes `sock`, sending `keep_sending` every 0.25 s meanwhile
    (None: nothing). Fails if anything but nginx's 408 arrives, or after `limit` seconds."""
    start = time.monotonic()
    sock.settimeout(0.25)
    received = b""
    while time.monotonic() - start < limit:
        try:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
        except TimeoutError:
            if keep_sending is not None:
                try:
                    sock.sendall(keep_sending)
                except (BrokenPipeError, ConnectionResetError):
                    break
        except ConnectionResetError:  # reset_timedout_connection on
            break
    else:
        pytest.fail(f"still open after {limit} s")
    assert received in (b"",) or received.startswith(b"HTTP/1.1 408"), received[:200]
    return time.monotonic() - start


# --- the tests --------------------------------------------------------------------------------


def test_the_portal_answers_through_nginx_over_tls(site: Site) -> None:
    conn = site.https()
    for path in ("/", "/report"):
        status, headers, body = _get(conn, path, **{"Accept-Encoding": "gzip"})
        assert status == 200, body[:500]
        assert headers["Strict-Transport-Security"] == "max-age=63072000"
        assert "default-src 'none'" in headers["Content-Security-Policy"]  # the app's headers
        assert headers["Server"] == "nginx"  # no version
        assert "Content-Encoding" not in headers  # no gzip, despite the http block's "gzip on"
    assert b'id="report-form"' in body


def _curl_http2(site: Site, path: str, *args: str | Path,
                stdin: bytes | None = None) -> tuple[str, str]:
    """Fetch `path` from the TLS server with curl over HTTP/2 (as browsers do); the body
    and "<HTTP version> <status>". curl is the client because Python's standard library
    speaks only HTTP/1.1. `stdin` feeds an `--upload-file -`, sent as it is read, with no
    length given."""
    done = subprocess.run(
        [tool("curl"), "--http2", "--silent", "--show-error", "--cacert", str(site.cert),
         "--resolve", f"{PORTAL_NAME}:{site.tls}:127.0.0.1", "--max-time", "60",
         "--write-out", "\n%{http_version} %{http_code}", *map(str, args),
         f"https://{PORTAL_NAME}:{site.tls}{path}"],
        input=stdin, capture_output=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    body, _, status = done.stdout.decode().rpartition("\n")
    return body, status


def test_http2_serves_the_pages_and_takes_a_report_with_a_file(site: Site,
                                                               tmp_path: Path) -> None:
    """nginx-portal.conf enables HTTP/2; browsers use it. Pages, the form's cookie and
    CSRF token, and a multipart upload all cross it whole (nginx speaks HTTP/1.1 to the app)."""
    jar = tmp_path / "cookies"
    page, status = _curl_http2(site, "/report", "--cookie-jar", jar)
    assert status == "2 200" and 'id="report-form"' in page
    evidence = tmp_path / "evidence.bin"
    evidence.write_bytes(os.urandom(3 * MiB))
    fields = [("csrf_token", csrf_token(page)), *report_fields().items()]
    form = [arg for name, value in fields for arg in ("--form-string", f"{name}={value}")]
    receipt, status = _curl_http2(site, "/report", "--cookie", jar, "--cookie-jar", jar,
                                  *form, "--form", f"attachments=@{evidence}")
    assert status == "2 200", receipt[:2000]
    assert RECEIPT_RE.search(receipt)
    refused, status = _curl_http2(site, "/report", "--cookie", jar,
                                  "--form-string", "csrf_token=forged",
                                  *form[2:])
    assert status == "2 400" and not RECEIPT_RE.search(refused)
    # A body of unknown length (no content-length; nginx then sends it to the app chunked).
    page, _ = _curl_http2(site, "/report", "--cookie", jar)
    body, content_type = multipart_body(
        [("csrf_token", csrf_token(page)), *report_fields().items()],
        [("attachments", "evidence.bin", os.urandom(MiB))])
    streamed, status = _curl_http2(site, "/report", "--cookie", jar,
                                   "--header", f"Content-Type: {content_type}",
                                   "--request", "POST", "--upload-file", "-", stdin=body)
    assert status == "2 200" and RECEIPT_RE.search(streamed), streamed[:2000]


def test_the_onion_server_serves_the_same_portal_without_tls(site: Site) -> None:
    status, headers, body = _get(site.onion_http(), "/report", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert b'id="report-form"' in body
    assert "Strict-Transport-Security" not in headers
    assert "Content-Encoding" not in headers


def test_plain_http_only_redirects_to_the_fixed_name(site: Site) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site.plain, timeout=30)
    status, headers, _ = _get(conn, "/report?lang=zh", Host="attacker.example")
    assert status == 301
    assert headers["Location"] == f"https://{PORTAL_NAME}/report?lang=zh"


def test_bodies_over_the_limits_are_refused_by_nginx(site: Site) -> None:
    assert _refused_at_once(site.https(), "/report", UPLOAD_LIMIT + 1) == 413
    assert _refused_at_once(site.onion_http(), "/case/reply", UPLOAD_LIMIT + 1) == 413
    assert _refused_at_once(site.https(), "/follow-up", FORM_BODY_LIMIT + 1) == 413


def test_a_header_trickled_slowly_is_cut_after_client_header_timeout(site: Site) -> None:
    sock = socket.create_connection(("127.0.0.1", site.onion), timeout=5)
    sock.sendall(f"GET /report HTTP/1.1\r\nHost: {ONION_NAME}\r\nX-Slow: ".encode())
    elapsed = _closed_after(sock, keep_sending=b"a", limit=HEADER_TIMEOUT + 6)
    assert HEADER_TIMEOUT - 0.5 < elapsed < HEADER_TIMEOUT + 3


def test_a_slow_upload_streams_into_the_app_and_outlasts_every_timeout(site: Site) -> None:
    """A body that keeps moving may take longer than every timeout (each is per read or
    write); its file reaches the app, encrypted as it arrives, never nginx's temp folder."""
    midway: list[tuple[list[int], list[Path]]] = []
    start = time.monotonic()
    page = _submit(site, os.urandom(6 * MiB), pieces=12, pause=0.7, midway=midway)
    assert time.monotonic() - start > PROXY_READ_TIMEOUT + 2
    assert RECEIPT_RE.search(page)
    (being_written, nginx_temp), = midway
    assert len(being_written) == 1 and being_written[0] > MiB, being_written
    assert nginx_temp == []


def test_an_upload_that_stops_is_cut_after_client_body_timeout(site: Site) -> None:
    conn = site.https()
    conn.putrequest("POST", "/report")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(10 * MiB))
    conn.endheaders()
    conn.send(b"--x\r\n")
    assert conn.sock is not None
    elapsed = _closed_after(conn.sock, keep_sending=None, limit=BODY_TIMEOUT + 8)
    assert BODY_TIMEOUT - 0.5 < elapsed < BODY_TIMEOUT + 4


def test_transfers_share_one_limit_whoever_and_wherever_they_come_from(site: Site) -> None:
    """One upload held open over TLS from 127.0.0.1 uses the whole (test) transfer limit: a
    download over the onion server from 127.0.0.2 is refused, because the counter is per
    site, not per address or server block; after the upload, it passes."""
    upload = site.https()
    upload.putrequest("POST", "/case/reply")
    upload.putheader("Content-Type", "multipart/form-data; boundary=x")
    upload.putheader("Content-Length", str(MiB))
    upload.endheaders()
    upload.send(b"--x\r\n")
    time.sleep(0.3)
    status, _, _ = _get(site.onion_http(source="127.0.0.2"), "/case/files/1")
    assert status == 503
    upload.close()

    def passes() -> bool:
        return _get(site.onion_http(source="127.0.0.2"), "/case/files/1")[0] != 503

    wait_for(passes, "the transfer slot", seconds=BODY_TIMEOUT + 5)


def test_nothing_about_visitors_is_logged(site: Site) -> None:
    assert _get(site.https(), "/report")[0] == 200
    assert _refused_at_once(site.https(), "/report", UPLOAD_LIMIT + 1) == 413
    sock = socket.create_connection(("127.0.0.1", site.onion), timeout=5)
    sock.sendall(b"GET /report HTTP/1.1\r\n")
    _closed_after(sock, keep_sending=None, limit=HEADER_TIMEOUT + 6)
    logs = site.tree.logs
    assert (logs / "access.log").read_bytes() == b""  # the http block's log, turned off
    assert (logs / "candor-portal-error.log").read_bytes() == b""
    nginx_logs = site.tree.log_text()
    for trace in ("client:", "127.0.0.", "/report", "GET", "POST"):
        assert trace not in nginx_logs, nginx_logs
    app_log = site.portal_log.read_text()
    assert "/report" not in app_log and "GET" not in app_log and "POST" not in app_log


def test_the_portal_works_under_the_units_seccomp_rules(site: Site) -> None:
    """SystemCallFilter, MemoryDenyWriteExecute and RestrictAddressFamilies of the units,
    applied by libseccomp: Argon2id, the file encryption and SQLite all still work."""
    if not site.sandboxed:
        message = "python3-seccomp is not installed (apt-get install -y python3-seccomp)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must have it")
        pytest.skip(message)
    status = Path(f"/proc/{site.portal.pid}/status").read_text()
    assert "NoNewPrivs:\t1" in status and "Seccomp:\t2" in status
    assert RECEIPT_RE.search(_submit(site, os.urandom(2 * MiB), pieces=1, pause=0))
