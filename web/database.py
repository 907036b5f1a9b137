"""One request pattern for both apps: a unit of work per request.

A view gets the request's database session from `db()`; it is opened on first use and
committed after the view when the response is not a server error, so that refusals keep
their audit events (a failed login, a refused download). A domain error that escapes a view
rolls the whole request back and becomes a friendly 4xx page (`install_database` maps them).

Two tools for the cases in between:

- `attempt()`: a savepoint around a use case whose refusal the view turns into a page of its
  own (the form again, with a message): the refused use case leaves nothing behind, while the
  rest of the request still commits.
- `commit()`: commit now, before a streamed response whose audit event must be durable
  before the first byte leaves.

`separate_transaction()` is for what must be kept whatever the request does (the portal's
shared budgets count every attempt, even one that then fails).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import BadRequest, Conflict, Forbidden, HTTPException, NotFound
from werkzeug.wrappers import Response

from core.db import make_engine, make_session_factory, pool_settings
from core.errors import AccessDenied, CryptoError, DomainError
from core.errors import Conflict as ConflictError
from core.errors import NotFound as NotFoundError
from core.schema import check_schema

EXTENSION_KEY = "candor.database"
_G_KEY = "candor_db"


@dataclass(frozen=True)
class Database:
    """An app's engine and session factory (`app.extensions["candor.database"]`)."""

    engine: Engine
    sessions: sessionmaker[Session]


def _factory() -> sessionmaker[Session]:
    return cast(Database, current_app.extensions[EXTENSION_KEY]).sessions


def db() -> Session:
    """The request's database session, opened on first use."""
    session = g.get(_G_KEY)
    if session is None:
        session = _factory()()
        setattr(g, _G_KEY, session)
    return cast(Session, session)


def commit() -> None:
    """Commit the request's work now (before streaming a response)."""
    session = g.get(_G_KEY)
    if session is not None:
        session.commit()


def rollback() -> None:
    """Undo the request's uncommitted work."""
    session = g.get(_G_KEY)
    if session is not None:
        session.rollback()


@contextmanager
def attempt() -> Iterator[Session]:
    """A savepoint: if the block raises, its writes are undone and the error goes on."""
    with db().begin_nested():
        yield db()


def _holds_connection(session: Session) -> bool:
    """Whether the session's transaction has begun on a connection (on SQLite: holds the
    write lock). A transaction begun lazily (core.cases.pending_files holds the blobs of an
    upload in one) has no connection until its first statement, and locks nothing yet."""
    transaction = session.get_transaction()
    while transaction is not None:
        if transaction._connections:  # no public accessor; SQLAlchemy 2.x keeps it here
            return True
        transaction = transaction.parent
    return False


@contextmanager
def separate_transaction() -> Iterator[Session]:
    """A short transaction of its own, committed when the block ends (not the request's).

    Call it before the request's own work starts: on SQLite every transaction takes the write
    lock, so a second one opened while the request's is open would wait on its own request
    until the busy timeout. That mistake is refused at once instead.
    """
    request_session = g.get(_G_KEY)
    if (request_session is not None and _holds_connection(request_session)
            and request_session.get_bind().dialect.name == "sqlite"):
        raise RuntimeError("separate_transaction() inside the request's open transaction "
                           "would wait on its own SQLite write lock: call it first")
    with _factory()() as session, session.begin():
        yield session


def http_error_for(error: DomainError | CryptoError) -> HTTPException:
    """The HTTP error a domain error becomes when no view handled it (a key or ciphertext
    that does not open is a refusal, 403)."""
    if isinstance(error, NotFoundError):
        return NotFound()
    if isinstance(error, AccessDenied | CryptoError):
        return Forbidden()
    if isinstance(error, ConflictError):
        return Conflict()
    return BadRequest()


def install_database(app: Flask, database_url: str, *, pool_size: int = 50,
                     statistics_day: Callable[[], date] | None = None) -> Database:
    """Give `app` its engine (at most `pool_size` connections: core.db.pool_settings) and the
    per-request unit of work, and map domain errors that escape a view to 4xx pages after
    rolling back. `statistics_day`: for the sessions (core.db.make_session_factory)."""
    engine = make_engine(database_url, **pool_settings(pool_size))
    # An empty or outdated database would answer every request with a 500: refuse to start,
    # naming the missing migrations (core.schema).
    check_schema(engine)
    # The check's connection must not stay in the pool: `candor serve` builds the app before
    # gunicorn forks its workers, which would then share one connection's socket (500s on
    # PostgreSQL: "connection in transaction status", "prepared statement already exists").
    engine.dispose()
    database = Database(engine=engine,
                        sessions=make_session_factory(engine, statistics_day=statistics_day))
    app.extensions[EXTENSION_KEY] = database

    @app.after_request
    def _finish(response: Response) -> Response:
        session = g.get(_G_KEY)
        if session is not None:
            if response.status_code < 500:
                session.commit()
            else:
                session.rollback()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session = g.pop(_G_KEY, None)
        if session is not None:
            session.rollback()
            session.close()

    @app.errorhandler(DomainError)
    @app.errorhandler(CryptoError)
    def _domain_error(error: DomainError | CryptoError) -> Any:
        rollback()
        g.refused_by = error  # for an app's after-request hooks (reviewer.refusals)
        return app.handle_http_exception(http_error_for(error))

    return database
