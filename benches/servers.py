"""The servers benches/upload.py measures: gunicorn processes (the portal, and the drain
apps below as baselines) started as subprocesses, with their worker's peak memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from web.streamed_forms import READ_SIZE  # noqa: E402  (the drain reads like the portal)

# --- the drain app (run by gunicorn in a subprocess) --------------------------------------------


def drain_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Read the request body in the same pieces as the portal's upload views and answer with
    the byte count (a fair ceiling: gunicorn's cost per read call is part of both)."""
    stream = environ["wsgi.input"]
    total = 0
    while chunk := stream.read(READ_SIZE):
        total += len(chunk)
    body = str(total).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def encrypting_drain_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The drain plus what no upload can skip: the same reads, handed to a worker thread that
    encrypts them with crypto.stream, as the portal does (no multipart parsing, no disk).
    The best any design built on one secretstream per file can do on this machine."""
    from core.background import consume_in_background
    from crypto.keys import new_key
    from crypto.stream import encrypt_stream

    stream = environ["wsgi.input"]

    def pieces() -> Iterator[bytes]:
        while chunk := stream.read(READ_SIZE):
            yield chunk

    def encrypt(plaintext: Iterator[bytes]) -> int:
        return sum(len(c) for c in encrypt_stream(new_key(), plaintext))

    consume_in_background(pieces(), encrypt, name="bench-encrypt")
    total = int(environ.get("CONTENT_LENGTH") or 0)
    body = str(total).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            kids.append(int(entry.name))
    return kids


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` so far, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


class Server:
    """A gunicorn master started as a subprocess, with its single worker."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
                if children(self.process.pid):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)

    @property
    def worker(self) -> int:
        kids = children(self.process.pid)
        if len(kids) != 1:
            raise RuntimeError(f"expected one worker, found {kids}")
        return kids[0]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()


def start_portal(env: dict[str, str], log: Path) -> Server:
    port = free_port()
    candor = [sys.executable, "-m", "cli"]
    return Server(
        [*candor, "serve", "portal", "--port", str(port), "--workers", "1"], env, port, log
    )


def start_drain(env: dict[str, str], log: Path, app: str = "drain_app") -> Server:
    port = free_port()
    # The same gunicorn settings as `candor serve` (cli/serve.py): one gthread worker with
    # 8 threads, long timeout, no access log, error log to stderr.
    return Server(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--timeout",
            "3600",
            "--error-logfile",
            "-",
            f"benches.servers:{app}",
        ],
        env,
        port,
        log,
    )
