"""Is any transaction open in the database right now? For the tests that no transaction (on
SQLite: the write lock) is held while an upload streams in or an Argon2id runs."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def others_hold_a_transaction(database_url: str) -> bool:
    """SQLite: another connection holds the write lock (BEGIN IMMEDIATE fails at once).
    PostgreSQL: another connection to the database is idle in a transaction."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        probe = sqlite3.connect(url.database or "", timeout=0.2, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).scalar())
    finally:
        engine.dispose()


@dataclass
class PausingInput:
    """A request body that stops after `pause_at` bytes until `release` is set (a slow
    upload, frozen half way)."""

    body: bytes
    pause_at: int
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    position: int = 0

    def read(self, size: int = -1) -> bytes:
        if self.position == self.pause_at:
            self.reached.set()
            assert self.release.wait(30), "the test never released the upload"
        end = len(self.body) if size is None or size < 0 else self.position + size
        if self.position < self.pause_at:
            end = min(end, self.pause_at)
        chunk = self.body[self.position:end]
        self.position += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:  # werkzeug may ask for lines
        return self.read(size)

    # werkzeug's test client measures a stream's length by seeking to its end and back.
    def tell(self) -> int:
        return self._told

    def seek(self, offset: int, whence: int = 0) -> int:
        self._told = len(self.body) if whence == 2 else offset
        return self._told

    _told: int = 0


def probe_every_argon2id(services: Any, database_url: str, monkeypatch: Any) -> list[bool]:
    """From now on, each Argon2id that waits in `services.kdf_slots` first records whether
    another transaction is open; the list fills as they run."""
    held: list[bool] = []
    run = services.kdf_slots.run

    def checked_run(work: Callable[[], Any]) -> Any:
        held.append(others_hold_a_transaction(database_url))
        return run(work)

    monkeypatch.setattr(services.kdf_slots, "run", checked_run)
    return held
