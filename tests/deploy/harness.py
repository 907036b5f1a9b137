"""Running deploy/'s examples for real: nginx with the server blocks, systemd-analyze on the
units, and the units' seccomp rules around a real `candor serve portal`.

Each example is copied to a temporary folder with only its paths, addresses and (for the live
tests) timeouts rewritten; every rewrite must match, so a changed example fails here instead
of being tested half.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
#: The names the examples use; the test certificate is made for both.
PORTAL_NAME = "report.example.org"
CONSOLE_NAME = "console.internal.example.org"
#: Where the examples say each nginx file goes (deploy/README.md), relative to /etc/nginx.
NGINX_FILES = {
    "nginx-candor.conf": "conf.d/candor.conf",
    "nginx-tls.conf": "snippets/candor-tls.conf",
    "nginx-portal-common.conf": "snippets/candor-portal.conf",
    "nginx-portal.conf": "sites-enabled/candor-portal",
    "nginx-onion.conf": "sites-enabled/candor-onion",
    "nginx-console.conf": "sites-enabled/candor-console",
}
_SBIN = ("/usr/sbin", "/sbin")


def tool(name: str) -> str:
    """The path of a system tool; a missing one fails in CI (CI set) and skips elsewhere."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *_SBIN]))
    if found:
        return found
    message = f"{name} is not installed (apt-get install -y nginx systemd openssl curl)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must have it (.ci/run installs it)")
    pytest.skip(message)


def rewrite(text: str, *subs: tuple[str, str]) -> str:
    """Apply regex substitutions, each of which must match at least once."""
    for pattern, replacement in subs:
        text, count = re.subn(pattern, replacement, text, flags=re.M)
        assert count, f"the example no longer contains {pattern!r}"
    return text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60,
             alive: Callable[[], str | None] = lambda: None) -> None:
    """Poll `check` until it is true; `alive` returns an explanation once the server died."""
    deadline = time.monotonic() + seconds
    while not check():
        died = alive()
        assert died is None, f"{what}: {died}"
        assert time.monotonic() < deadline, f"{what}: not ready after {seconds} s"
        time.sleep(0.1)


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def start_logged(argv: list[str], log: Path, env: dict[str, str] | None = None
                 ) -> subprocess.Popen[bytes]:
    """Start `argv` in the repository, its output and errors into `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate `process`, killing it if it has not ended within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Served:
    """`candor serve` running behind nginx: nginx's tree, the app process and its log, and
    whether it runs under its unit's seccomp rules."""

    tree: NginxTree
    app: subprocess.Popen[bytes]
    app_log: Path
    sandboxed: bool


@contextmanager
def served_behind_nginx(tmp: Path, kind: str, env: dict[str, str], app_port: int,
                        files: dict[str, str], rewrites: dict[str, list[tuple[str, str]]],
                        nginx_ports: list[int]) -> Iterator[Served]:
    """`candor serve KIND` (portal or console) on `app_port`, under the seccomp rules of
    deploy/candor-KIND.service where python3-seccomp is installed, and nginx with the example
    `files` (rewritten by `rewrites`, see nginx_tree) in `tmp`/nginx; both stopped after."""
    argv = [sys.executable, "-m", "cli", "serve", kind, "--host", "127.0.0.1",
            "--port", str(app_port), "--workers", "1", "--threads", "4"]
    wrapped = sandboxed(argv, DEPLOY / f"candor-{kind}.service")
    app_log = tmp / f"{kind}.log"
    app = start_logged(wrapped or argv, app_log,
                       {**os.environ, **env, "PYTHONPATH": str(ROOT), "HOME": str(tmp)})
    nginx_dir = tmp / "nginx"
    nginx_dir.mkdir()
    tree = nginx_tree(nginx_dir, files, rewrites)
    nginx = start_logged(tree.command(), nginx_dir / "nginx.out")

    def died() -> str | None:
        for process, log in ((app, app_log), (nginx, nginx_dir / "nginx.out")):
            if process.poll() is not None:
                return log.read_text(errors="replace")
        return None

    try:
        wait_for(lambda: port_open(app_port), f"candor serve {kind}", alive=died)
        wait_for(lambda: all(port_open(p) for p in nginx_ports), "nginx", alive=died)
        yield Served(tree=tree, app=app, app_log=app_log, sandboxed=wrapped is not None)
    finally:
        stop(nginx)
        stop(app)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for both example names: (certificate, key)."""
    cert, key = folder / "test.pem", folder / "test.key"
    subprocess.run(
        [tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", f"/CN={PORTAL_NAME}",
         "-addext", f"subjectAltName=DNS:{PORTAL_NAME},DNS:{CONSOLE_NAME}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


@dataclass
class NginxTree:
    """A temporary /etc/nginx: nginx.conf as Debian writes it, and the examples in place."""

    root: Path
    conf: Path
    logs: Path
    body_temp: Path

    def command(self, *args: str) -> list[str]:
        return [tool("nginx"), "-p", str(self.root), "-c", str(self.conf), *args]

    def log_text(self) -> str:
        return "".join(f"== {p.name}\n{p.read_text(errors='replace')}"
                       for p in sorted(self.logs.iterdir()))


def nginx_tree(folder: Path, files: dict[str, str], extra: dict[str, list[tuple[str, str]]]
               | None = None) -> NginxTree:
    """Write the example `files` (deploy name -> place under /etc/nginx) into `folder`, their
    paths pointing into it, with `extra` rewrites per file, and an nginx.conf that includes
    them as Debian's does: an access log, gzip and old TLS versions in the http block,
    which the examples' server blocks must each turn off or override."""
    cert, key = make_certificate(folder)
    logs, temp = folder / "log", folder / "temp"
    for sub in ("conf.d", "snippets", "sites-enabled", "log", "temp"):
        (folder / sub).mkdir()
    common = [
        (r"/etc/nginx/", f"{folder}/"),
        (r"/var/log/nginx/", f"{logs}/"),
    ]
    for name, place in files.items():
        text = (DEPLOY / name).read_text("utf-8")
        if "ssl_certificate" in text:
            text = rewrite(text, (r"^(\s*ssl_certificate)\s+\S+;", rf"\1 {cert};"),
                           (r"^(\s*ssl_certificate_key)\s+\S+;", rf"\1 {key};"))
        subs = [s for s in common if re.search(s[0], text)]
        text = rewrite(text, *subs, *(extra or {}).get(name, []))
        (folder / place).write_text(text, "utf-8")
    user = ""
    if os.geteuid() == 0:  # workers would otherwise run as nobody, outside the temp folder
        user = (f"user {pwd.getpwuid(os.geteuid()).pw_name} "
                f"{grp.getgrgid(os.getegid()).gr_name};")
    conf = folder / "nginx.conf"
    conf.write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
# The main log at info: a message about a client that the examples' own error_log did not
# take would land here with its address.
error_log {logs}/main-error.log info;
events {{ worker_connections 256; }}
http {{
    sendfile on;
    default_type application/octet-stream;
    # As in Debian's /etc/nginx/nginx.conf:
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log {logs}/access.log;
    gzip on;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {folder}/conf.d/*.conf;
    include {folder}/sites-enabled/*;
}}
""", "utf-8")
    return NginxTree(root=folder, conf=conf, logs=logs, body_temp=temp / "body")


# --- systemd's seccomp rules, applied by libseccomp --------------------------------------------

#: Run by the system's python3 (python3-seccomp is a Debian package, not in the venv): load
#: the filters, then exec the command. Three filters, as systemd stacks them: the system
#: call allow list (SystemCallFilter=, SystemCallErrorNumber=), MemoryDenyWriteExecute=
#: (systemd 252's rules) and RestrictAddressFamilies=.
_LAUNCHER = r"""
import errno, json, mmap, os, sys
import seccomp

spec = json.loads(sys.argv[1])
deny = seccomp.ERRNO(getattr(errno, spec["errno"]))
allow_list = seccomp.SyscallFilter(defaction=deny)
for name in spec["allow"]:
    try:
        allow_list.add_rule(seccomp.ALLOW, name)
    except (RuntimeError, ValueError):
        pass  # not a system call on this architecture
if spec["mdwe"]:
    mdwe = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    wx, x = mmap.PROT_WRITE | mmap.PROT_EXEC, mmap.PROT_EXEC
    mdwe.add_rule(deny, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, wx, wx))
    mdwe.add_rule(deny, "mprotect", seccomp.Arg(2, seccomp.MASKED_EQ, x, x))
    mdwe.add_rule(deny, "pkey_mprotect", seccomp.Arg(2, seccomp.MASKED_EQ, x, x))
    mdwe.add_rule(deny, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, 0o100000, 0o100000))
families = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
no_family = seccomp.ERRNO(errno.EAFNOSUPPORT)
allowed = spec["families"]
for family in range(max(allowed) + 1):
    if family not in allowed:
        families.add_rule(no_family, "socket", seccomp.Arg(0, seccomp.EQ, family))
families.add_rule(no_family, "socket", seccomp.Arg(0, seccomp.GT, max(allowed)))
# The allow list last: it need not allow loading the others.
families.load()
if spec["mdwe"]:
    mdwe.load()
allow_list.load()
os.execv(spec["argv"][0], spec["argv"])
"""

_FAMILIES = {"AF_UNIX": socket.AF_UNIX, "AF_INET": socket.AF_INET, "AF_INET6": socket.AF_INET6}


def unit_settings(path: Path) -> list[tuple[str, str]]:
    """The (key, value) lines of a unit's [Service] section, continuation lines joined."""
    settings, section = [], ""
    text = re.sub(r"\\\n\s*", " ", path.read_text("utf-8"))
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            settings.append((key, value))
    return settings


def syscall_groups() -> dict[str, list[str]]:
    """systemd's system call groups (`systemd-analyze syscall-filter`), members unexpanded."""
    out = subprocess.run([tool("systemd-analyze"), "syscall-filter", "--no-pager"],
                         check=True, capture_output=True, text=True).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.startswith("    ") and current is not None:
            if not line.strip().startswith("#"):
                current.append(line.strip())
        elif line.strip():
            current = None
    return groups


def allowed_syscalls(filters: list[str]) -> set[str]:
    """What SystemCallFilter= lines allow: the first lists, later "~" lines take away."""
    groups = syscall_groups()

    def expand(names: list[str]) -> set[str]:
        out: set[str] = set()
        for name in names:
            out |= expand(groups[name]) if name.startswith("@") else {name}
        return out

    allowed: set[str] = set()
    for value in filters:
        if value.startswith("~"):
            allowed -= expand(value[1:].split())
        else:
            allowed |= expand(value.split())
    return allowed


def sandboxed(argv: list[str], unit: Path) -> list[str] | None:
    """`argv` under the seccomp rules `unit` asks for, or None without python3-seccomp."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None or subprocess.run([python, "-c", "import seccomp"],
                                        capture_output=True).returncode != 0:
        return None
    import json

    settings = unit_settings(unit)
    values = dict(settings)
    spec = {
        "allow": sorted(allowed_syscalls([v for k, v in settings if k == "SystemCallFilter"])),
        "errno": values.get("SystemCallErrorNumber", "EPERM"),
        "mdwe": values.get("MemoryDenyWriteExecute") == "yes",
        "families": sorted(_FAMILIES[f] for f in values["RestrictAddressFamilies"].split()),
        "argv": argv,
    }
    return [python, "-c", _LAUNCHER, json.dumps(spec)]
