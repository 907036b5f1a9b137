"""A scratch PostgreSQL database for a benchmark run: created on the given server, dropped at
the end (shared by the benches)."""

from __future__ import annotations

import os
from contextlib import ExitStack

from sqlalchemy import create_engine, make_url, text


def scratch_postgres(stack: ExitStack, admin_url: str, label: str) -> str:
    """Create `candor_bench_<label>_<pid>` on the server of `admin_url`, register its drop on
    `stack`, and return its URL."""
    name = f"candor_bench_{label}_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    stack.callback(drop)
    return make_url(admin_url).set(database=name).render_as_string(False)
