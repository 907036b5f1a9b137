"""The console's nginx example for real: nginx-console.conf (with nginx-candor.conf and
nginx-tls.conf) in front of a real `candor serve console` under the console unit's seccomp
rules. Staff reach it over TLS and HTTP/2 and can log in through it; an address outside its
allow list gets nginx's 403 and never reaches the app; no access log is written.

The copy differs from the example only in the address it listens on, the allow list (the
loopback address 127.0.0.1 stands for the staff network; 127.0.0.2 is outside it) and paths.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.services import build_services
from core.staff.accounts import get_reviewer, totp_secret
from core.staff.authentication import confirm_totp
from core.staff.passphrase_change import change_passphrase
from tests.cli.conftest import PASSPHRASE
from tests.cli.conftest import run as candor
from tests.deploy.harness import (
    CONSOLE_NAME,
    NGINX_FILES,
    NginxTree,
    free_port,
    served_behind_nginx,
    tool,
)
from tests.portal.conftest import csrf_token

pytestmark = pytest.mark.slow

OWN_PASSPHRASE = "dana's own granite harbour 4"


@dataclass
class Console:
    tree: NginxTree
    cert: Path
    tls: int
    totp: pyotp.TOTP

    def curl(self, path: str, *args: str | Path, source: str = "127.0.0.1"
             ) -> tuple[str, dict[str, str], str]:
        """GET (or, with form arguments, POST) `path` over HTTP/2 from `source`: the body,
        the response's headers (lower-case names) and "<HTTP version> <status>"."""
        head = self.tree.root / "head.txt"
        done = subprocess.run(
            [tool("curl"), "--http2", "--silent", "--show-error", "--cacert", str(self.cert),
             "--resolve", f"{CONSOLE_NAME}:{self.tls}:127.0.0.1", "--interface", source,
             "--max-time", "60", "--dump-header", str(head),
             "--write-out", "\n%{http_version} %{http_code}", *map(str, args),
             f"https://{CONSOLE_NAME}:{self.tls}{path}"],
            capture_output=True, timeout=90, check=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        body, _, status = done.stdout.decode().rpartition("\n")
        headers = {}
        for line in head.read_text().splitlines()[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        return body, headers, status


def _enrolled_reviewer(env: dict[str, str]) -> pyotp.TOTP:
    """dana, a case handler who has confirmed her authenticator and chosen her passphrase."""
    added = candor(env, "reviewer", "add", "dana", "--role", "reviewer", "--passphrase-stdin",
                   input=PASSPHRASE + "\n")
    assert added.exit_code == 0, added.output
    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            dana = get_reviewer(session, "dana")
            totp = pyotp.TOTP(totp_secret(services, dana))
            assert confirm_totp(session, services, dana, totp.now())
            change_passphrase(session, services, dana, PASSPHRASE, OWN_PASSPHRASE)
    finally:
        engine.dispose()
    return totp


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    tool("nginx")
    tool("curl")
    tmp = tmp_path_factory.mktemp("deploy-console-live")
    env = {"CANDOR_DATA_DIR": str(tmp / "data")}
    assert candor(env, "init").exit_code == 0
    totp = _enrolled_reviewer(env)
    app, tls = free_port(), free_port()
    files = {name: NGINX_FILES[name]
             for name in ("nginx-candor.conf", "nginx-tls.conf", "nginx-console.conf")}
    with served_behind_nginx(tmp, "console", env, app, files, {
        "nginx-candor.conf": [(r"server 127\.0\.0\.1:8081;", f"server 127.0.0.1:{app};")],
        "nginx-console.conf": [(r"listen 10\.0\.0\.5:443 ", f"listen 127.0.0.1:{tls} "),
                               (r"allow 10\.0\.0\.0/8;", "allow 127.0.0.1/32;"),
                               (r"\n\s*allow 192\.168\.0\.0/16;", "")],
    }, [tls]) as served:
        yield Console(tree=served.tree, cert=served.tree.root / "test.pem", tls=tls, totp=totp)


def test_staff_reach_the_console_over_tls_and_http2(console: Console) -> None:
    body, headers, status = console.curl("/login", "--compressed")
    assert status == "2 200" and 'name="passphrase"' in body
    assert headers["strict-transport-security"] == "max-age=63072000"
    assert "default-src 'none'" in headers["content-security-policy"]  # the app's headers
    assert headers["server"] == "nginx"  # no version
    assert "content-encoding" not in headers  # gzip off: pages hold reports and tokens


def test_a_handler_logs_in_through_nginx(console: Console) -> None:
    """The console's cookies are Secure: they work behind nginx's TLS, and the login form's
    CSRF token, passphrase and authenticator code arrive whole over HTTP/2."""
    jar = console.tree.root / "cookies"
    page, _, status = console.curl("/login", "--cookie-jar", jar)
    assert status == "2 200"
    fields = {"csrf_token": csrf_token(page), "username": "dana",
              # The next time step's code: enrolment used this step's, and a code is
              # accepted once (one step of drift is allowed).
              "passphrase": OWN_PASSPHRASE, "code": console.totp.at(time.time() + 30)}
    form = [arg for name, value in fields.items() for arg in ("--form-string", f"{name}={value}")]
    answer, _, status = console.curl("/login", "--cookie", jar, "--cookie-jar", jar, *form)
    assert status == "2 303", answer
    home, _, status = console.curl("/", "--cookie", jar, "--location")
    assert status == "2 200" and "dana" in home
    assert 'name="passphrase"' not in home  # not sent back to the login page


def test_addresses_outside_the_allow_list_get_403_from_nginx(console: Console) -> None:
    body, headers, status = console.curl("/login", source="127.0.0.2")
    assert status == "2 403"
    assert "content-security-policy" not in headers  # nginx's page: the app never saw it
    assert "passphrase" not in body


def test_no_access_log_is_written(console: Console) -> None:
    console.curl("/login")
    console.curl("/login", source="127.0.0.2")
    assert (console.tree.logs / "access.log").read_bytes() == b""  # the http block's log
