"""Fresh real databases for tests: a SQLite file, or a PostgreSQL database cloned from a
template that already holds the schema (fast, and every test starts empty)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from core.db import create_schema, make_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "CANDOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
#: The process whose template exists, if any. Per process, not per import: a test run forked
#: from another (mutation testing) must neither use nor drop its parent's template.
_template_pid: int | None = None


def _template_name() -> str:
    return f"candor_tpl_{os.getpid()}"


def _admin_engine() -> Engine:
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


def postgres_available() -> str | None:
    """None if PostgreSQL answers, else the reason it does not."""
    try:
        engine = _admin_engine()
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).splitlines()[0]


def require_postgres() -> None:
    """Skip when PostgreSQL is missing, except in CI, where its absence is a failure."""
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI but unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable: {reason}")


def _url_for(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _ensure_template() -> None:
    global _template_pid
    if _template_pid == os.getpid():
        return
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_template_name()}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{_template_name()}"'))
    engine = make_engine(_url_for(_template_name()))
    create_schema(engine)
    engine.dispose()
    admin.dispose()
    _template_pid = os.getpid()


def drop_template() -> None:
    """Remove this process's template database (end of the test session)."""
    global _template_pid
    if _template_pid != os.getpid():
        return
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_template_name()}" WITH (FORCE)'))
    admin.dispose()
    _template_pid = None  # a later session in this process makes a new one


@contextmanager
def fresh_postgres(with_schema: bool = True) -> Iterator[str]:
    """A new, uniquely named PostgreSQL database; dropped afterwards."""
    require_postgres()
    name = f"candor_t_{secrets.token_hex(6)}"
    admin = _admin_engine()
    with admin.connect() as conn:
        if with_schema:
            _ensure_template()
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_template_name()}"'))
        else:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _url_for(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_sqlite(folder: Path, with_schema: bool = True) -> Iterator[str]:
    """A new SQLite file in `folder`."""
    url = f"sqlite:///{folder / 'candor-test.sqlite3'}"
    if with_schema:
        engine = make_engine(url)
        create_schema(engine)
        engine.dispose()
    yield url


@contextmanager
def fresh_database(backend: str, folder: Path, with_schema: bool = True) -> Iterator[str]:
    """A fresh database URL on `backend` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        with fresh_sqlite(folder, with_schema) as url:
            yield url
    else:
        with fresh_postgres(with_schema) as url:
            yield url


#: Tables whose rows have random ids since revision 0008, each with the columns that hold
#: its ids, in an order where a parent is renumbered before the children sort by it.
_RANDOM_ID_REFERENCES = {
    "cases": [("case_grants", "case_id"), ("case_members", "case_id"), ("messages", "case_id"),
              ("attachments", "case_id"), ("audit_events", "case_id"),
              ("audit_pending_events", "case_id")],
    "case_grants": [],
    "messages": [("attachments", "message_id")],
    "attachments": [],
}


def renumber_rows_sequentially(url: str) -> None:
    """Give the rows with random ids small sequential ones, in their order (threads by
    position), as the code before revision 0008 numbered them, so that a test can take a
    database written by today's code below 0008. Foreign keys are off meanwhile; the audit
    chain, which hashes case ids, no longer verifies afterwards."""
    engine = create_engine(url)  # not make_engine: no PRAGMA foreign_keys=ON on SQLite
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table, references in _RANDOM_ID_REFERENCES.items():
                order = "case_id, position, id" if table in ("messages", "attachments") else "id"
                old_ids = connection.execute(
                    text(f"SELECT id FROM {table} ORDER BY {order}")).scalars().all()
                for new_id, old_id in enumerate(old_ids, start=1):
                    ids = {"new": new_id, "old": old_id}
                    connection.execute(text(f"UPDATE {table} SET id = :new WHERE id = :old"),
                                       ids)
                    for child, column in references:
                        connection.execute(text(
                            f"UPDATE {child} SET {column} = :new WHERE {column} = :old"), ids)
    finally:
        engine.dispose()


def as_written_before_0009(url: str) -> None:
    """Make the rows today's code wrote look as the code before revision 0009 could have
    written them (records with the old binding, no later key epochs), so that a test can
    take the database below 0009. Content no longer decrypts afterwards."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for table in ("messages", "attachments"):
                connection.execute(text(f"UPDATE {table} SET binding = 1, key_epoch = 1"))
            connection.execute(text("DELETE FROM case_grants WHERE epoch > 1"))
            connection.execute(text("UPDATE cases SET key_epoch = 1"))
    finally:
        engine.dispose()
