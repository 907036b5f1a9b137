"""Load tests against real servers.

`candor init` makes a fresh instance (a SQLite file, or a new PostgreSQL database on the test
server), `candor serve portal|console` runs it under gunicorn in a subprocess on a free
loopback port, and clients in threads speak HTTP to it (tests/load/clients.py). Nothing is
faked on the server side: production Argon2id profile, real workers, real database.

Every loop in these tests is bounded in count and in time, and talks to 127.0.0.1 only.
`CANDOR_LOAD_SECONDS` shortens or lengthens the timed phases (default below).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import load_config
from core.db import make_engine, make_session_factory
from core.services import Services, build_services
from tests.core.factories import ReviewerHandle, add_reviewer
from tests.databases import fresh_database

ROOT = Path(__file__).resolve().parents[2]

#: Seconds of load in the timed phases (flood, concurrency): the issue's 60. Two cores run the
#: whole folder on both databases in about six minutes with the default.
LOAD_SECONDS = float(os.environ.get("CANDOR_LOAD_SECONDS", "60"))

#: What a legitimate step may take at most, under any load.
STEP_LIMIT = 30.0


# --- an instance made by `candor init` ---------------------------------------------------------


def run_cli(env: dict[str, str], *args: str) -> str:
    """Run `candor ARGS` as a subprocess; its standard output (fails on a non-zero exit)."""
    done = subprocess.run([sys.executable, "-m", "cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"candor {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


@dataclass
class Instance:
    """A data directory and a database made by `candor init`, and the test process's own view
    of them (services with the instance's keyring, a session factory) for arranging accounts
    and for reading the outcome through the use cases."""

    backend: str
    data_dir: Path
    database_url: str
    env: dict[str, str]
    logs: Path
    services: Services
    engine: Engine
    session_factory: sessionmaker[Session]

    def cli(self, *args: str) -> str:
        """Run `candor ARGS` for this instance as a subprocess; its standard output."""
        return run_cli(self.env, *args)

    def handlers(self, count: int, category: str = "it_fault") -> list[ReviewerHandle]:
        """`count` case handlers who completed enrolment (tests/core/factories, through the use
        cases, with the production Argon2id profile), made the intake of `category` with
        `candor category intake`."""
        handles = [add_reviewer(self.session_factory, self.services, f"handler{i}")
                   for i in range(count)]
        self.cli("category", "intake", category, *(h.username for h in handles))
        return handles


@pytest.fixture
def instance(backend: str, tmp_path: Path) -> Iterator[Instance]:
    """A fresh instance on each backend (the database is dropped afterwards)."""
    (tmp_path / "db").mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    with fresh_database(backend, tmp_path / "db", with_schema=False) as url:
        data_dir = tmp_path / "instance"
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("CANDOR_")}
        env.update({
            "CANDOR_DATA_DIR": str(data_dir),
            "CANDOR_DATABASE_URL": url,
            # urllib's cookie jar (rightly) sends no Secure cookie over plain http.
            "CANDOR_INSECURE_DEV_COOKIES": "1",
            "PYTHONPATH": str(ROOT),
        })
        run_cli(env, "init")
        engine = make_engine(url)
        try:
            yield Instance(backend, data_dir, url, env, logs, build_services(load_config(env)),
                           engine, make_session_factory(engine))
        finally:
            engine.dispose()


# --- `candor serve` under gunicorn -------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a gunicorn master's workers)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry.name))
    return kids


class Server:
    """`candor serve APP` as a subprocess (gunicorn, threaded workers) on a free port."""

    def __init__(self, instance: Instance, app: str, *, workers: int, threads: int | None,
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers_wanted = workers
        self.log = instance.logs / f"{app}-{self.port}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli", "serve", app, "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(workers),
                 *(["--threads", str(threads)] if threads else [])],
                env={**instance.env, **(env or {})}, cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT)
        try:
            self.wait_ready("/login" if app == "console" else "/")
        except BaseException:
            self.stop()
            raise

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def wait_ready(self, path: str = "/", timeout: float = 60) -> None:
        """Until the page answers 200 and every worker is up."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, self.log_text()[-3000:]
            try:
                with urllib.request.urlopen(self.base + path, timeout=10) as answer:  # noqa: S310
                    if answer.status == 200 and len(self.workers()) == self.workers_wanted:
                        return
            except (OSError, urllib.error.URLError):
                pass
            assert time.monotonic() < deadline, f"not ready:\n{self.log_text()[-3000:]}"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@contextmanager
def serve(instance: Instance, app: str, *, workers: int = 2, threads: int | None = None,
          env: dict[str, str] | None = None) -> Iterator[Server]:
    """The app served as `candor serve` does by default (2 workers; threads: its default)."""
    server = Server(instance, app, workers=workers, threads=threads, env=env)
    try:
        yield server
    finally:
        server.stop()


# --- what the clients saw ----------------------------------------------------------------------


@dataclass
class Traffic:
    """Every answer the clients got, by label and status (0: the connection failed), and the
    slowest time of each label. Shared by the client threads."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    slowest: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, label: str, status: int, seconds: float, error: str | None = None) -> None:
        with self._lock:
            self.statuses[(label, status)] += 1
            self.slowest[label] = max(self.slowest.get(label, 0.0), seconds)
            if error is not None and len(self.errors) < 50:
                self.errors.append(f"{label}: {error}")

    def count(self, label: str | None = None, status: int | None = None) -> int:
        with self._lock:
            return sum(n for (lab, st), n in self.statuses.items()
                       if (label is None or lab == label) and (status is None or st == status))

    def server_errors(self) -> dict[tuple[str, int], int]:
        with self._lock:
            return {key: n for key, n in self.statuses.items() if key[1] >= 500}

    def failed_connections(self) -> dict[tuple[str, int], int]:
        with self._lock:
            return {key: n for key, n in self.statuses.items() if key[1] == 0}

    def summary(self) -> str:
        with self._lock:
            lines = [f"  {label:<28} {status:>3}: {n}"
                     for (label, status), n in sorted(self.statuses.items())]
            lines += [f"  slowest {label}: {s:.2f} s" for label, s in sorted(self.slowest.items())]
            return "\n".join(lines + [f"  {e}" for e in self.errors[:10]])
