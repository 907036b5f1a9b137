"""Engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.models import AuditHead, Base
from core.schema import stamp_schema
from core.statistics import staleness  # noqa: F401 - installs the month cells' listeners
from core.statistics.recount import STATISTICS_DAY
from crypto.audit_chain import GENESIS


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened."""


#: Connections an engine keeps open between requests; more are opened up to `pool_size`.
KEPT_CONNECTIONS = 10


def pool_settings(pool_size: int) -> dict[str, Any]:
    """Pool arguments for an app process that may use `pool_size` connections at once.

    It must be at least the threads of a worker (`candor serve --threads`): with fewer, a
    thread would wait for a connection under load and fail after `pool_timeout` with a 500.
    """
    kept = min(KEPT_CONNECTIONS, pool_size)
    return {"pool_size": kept, "max_overflow": pool_size - kept, "pool_timeout": 60}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with Candor's per-backend settings.

    SQLite: WAL, foreign keys on, a generous busy timeout, and every transaction started with
    BEGIN IMMEDIATE so that two writers never deadlock on a lock upgrade (the audit head is read
    then written in each transaction). PostgreSQL: pre-ping pooled connections. Apps pass
    `pool_settings` (a pooled engine otherwise keeps SQLAlchemy's 5 + 10 connections).

    Statement parameters are left out of SQLAlchemy's errors and logs (`hide_parameters`):
    they are ciphertexts, keyed hashes and the like, and an error may be logged.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine, *, statistics_day: Callable[[], date] | None = None
                         ) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views render after it).

    `statistics_day` gives the start of the organisation's reporter period
    (`services.clock.statistics_day`): the statistics date the changes a session writes with
    it and count those dated before it (core.statistics.recount). Without it, UTC's day."""
    info = {STATISTICS_DAY: statistics_day} if statistics_day is not None else {}
    return sessionmaker(engine, expire_on_commit=False, info=info)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session


def hold_run_lock(session: Session, name: str) -> None:
    """Wait until no other transaction holds the run lock `name`, then hold it until this
    transaction ends: for jobs that must not run twice at once (the monthly digest of
    `candor remind`), without locking any table (so the portal and the audit log go on).

    PostgreSQL: a transaction-level advisory lock keyed by the name's CRC-32. SQLite needs
    none: every transaction begins IMMEDIATE, holding the database's write lock already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": zlib.crc32(name.encode())})


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a one-line reason if the database cannot be reached."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(f"cannot reach the database: {reason}") from exc


def ensure_audit_head(session: Session) -> None:
    """Create the audit log's head row if it is missing (part of initialising a database)."""
    if session.get(AuditHead, 1) is None:
        session.add(AuditHead(id=1, size=0, head=GENESIS))


def create_schema(engine: Engine) -> None:
    """Create every table straight from the models (tests and the demo; production uses
    `candor db upgrade`, which runs the Alembic migrations)."""
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        ensure_audit_head(session)
        stamp_schema(session.connection())
