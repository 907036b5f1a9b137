"""web.database: the one request pattern both apps use (a unit of work per request).

Each test drives a small Flask app over a real database (SQLite and PostgreSQL) and checks
what is stored afterwards, through a session of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.errors import AccessDenied, Conflict, DecryptionError, InvalidInput, NotFound
from core.models import Category
from web.database import attempt, commit, db, install_database, separate_transaction


def _category(code: str) -> Category:
    return Category(code=code, name_en=code, name_zh=code, position=0)


@pytest.fixture
def app(database_url: str, engine: object) -> Iterator[Flask]:
    """An app with the shared unit of work; `engine` makes sure the schema exists."""
    application = Flask(__name__)
    install_database(application, database_url)

    @application.get("/add/<code>")
    def add(code: str) -> str:
        db().add(_category(code))
        return "ok"

    @application.get("/add-then-refuse/<code>")
    def add_then_refuse(code: str) -> str:
        db().add(_category(code))
        db().flush()
        raise InvalidInput("refused")

    @application.get("/add-then-crash/<code>")
    def add_then_crash(code: str) -> str:
        db().add(_category(code))
        db().flush()
        raise RuntimeError("a bug")

    @application.get("/attempt/<code>")
    def attempted(code: str) -> tuple[str, int]:
        db().add(_category(f"{code}-kept"))
        try:
            with attempt() as session:
                session.add(_category(f"{code}-undone"))
                session.flush()
                raise InvalidInput("the use case refused")
        except InvalidInput:
            return "the form again, with a message", 400
        return "unreachable", 200

    @application.get("/budget-then-refuse/<code>")
    def budget(code: str) -> str:
        with separate_transaction() as session:
            session.add(_category(code))
        db().add(_category(f"{code}-request"))
        db().flush()
        raise Conflict("refused after the budget was counted")

    @application.get("/commit-then-crash/<code>")
    def commit_then_crash(code: str) -> str:
        db().add(_category(code))
        commit()
        raise RuntimeError("after the commit, as a streamed response could fail")

    @application.get("/raise/<name>")
    def raises(name: str) -> str:
        raise {"notfound": NotFound("x"), "denied": AccessDenied("x"),
               "conflict": Conflict("x"), "crypto": DecryptionError("x")}[name]

    application.config["PROPAGATE_EXCEPTIONS"] = False
    yield application
    application.extensions["candor.database"].engine.dispose()


def _codes(session_factory: sessionmaker[Session]) -> set[str]:
    with session_factory() as session:
        return set(session.execute(select(Category.code)).scalars())


def test_work_of_a_successful_request_is_committed(
        app: Flask, session_factory: sessionmaker[Session]) -> None:
    assert app.test_client().get("/add/first").status_code == 200
    assert _codes(session_factory) == {"first"}


def test_an_escaping_domain_error_is_a_4xx_and_leaves_nothing(
        app: Flask, session_factory: sessionmaker[Session]) -> None:
    response = app.test_client().get("/add-then-refuse/half")
    assert response.status_code == 400
    assert _codes(session_factory) == set()


def test_a_crash_is_a_500_and_leaves_nothing(
        app: Flask, session_factory: sessionmaker[Session]) -> None:
    response = app.test_client().get("/add-then-crash/half")
    assert response.status_code == 500
    assert _codes(session_factory) == set()


def test_attempt_undoes_the_refused_use_case_and_keeps_the_rest(
        app: Flask, session_factory: sessionmaker[Session]) -> None:
    response = app.test_client().get("/attempt/x")
    assert response.status_code == 400
    assert _codes(session_factory) == {"x-kept"}


def test_a_separate_transaction_is_kept_whatever_the_request_does(
        app: Flask, session_factory: sessionmaker[Session]) -> None:
    response = app.test_client().get("/budget-then-refuse/counted")
    assert response.status_code == 409
    assert _codes(session_factory) == {"counted"}


def test_commit_makes_work_durable_before_a_later_failure(
        app: Flask, session_factory: sessionmaker[Session]) -> None:
    assert app.test_client().get("/commit-then-crash/durable").status_code == 500
    assert _codes(session_factory) == {"durable"}


@pytest.mark.parametrize(("name", "status"), [
    ("notfound", 404), ("denied", 403), ("conflict", 409), ("crypto", 403)])
def test_domain_errors_map_to_their_status(app: Flask, name: str, status: int) -> None:
    assert app.test_client().get(f"/raise/{name}").status_code == status


def test_each_request_gets_a_fresh_session(app: Flask,
                                           session_factory: sessionmaker[Session]) -> None:
    client = app.test_client()
    client.get("/add-then-refuse/a")  # rolled back: nothing lingers into the next request
    client.get("/add/b")
    with session_factory() as session:
        assert session.execute(select(func.count(Category.id))).scalar_one() == 1


def test_a_separate_transaction_after_the_requests_own_is_refused_on_sqlite(
        app: Flask, backend: str, session_factory: sessionmaker[Session]) -> None:
    """On SQLite it would wait 30 s on the request's own write lock, then fail; it is refused
    at once there. PostgreSQL has no such lock, so it runs."""

    @app.get("/late-budget")
    def late_budget() -> str:
        db().add(_category("request"))
        db().flush()
        with separate_transaction() as session:
            session.add(_category("budget"))
        return "ok"

    response = app.test_client().get("/late-budget")
    if backend == "sqlite":
        assert response.status_code == 500
        assert _codes(session_factory) == set()
    else:
        assert response.status_code == 200
        assert _codes(session_factory) == {"request", "budget"}


def test_an_app_engine_may_open_as_many_connections_as_configured(tmp_path) -> None:
    # 32 threads per worker (candor serve) must never wait for a connection: SQLAlchemy's
    # default 5 + 10 would make the 16th concurrent request wait and then fail with a 500.
    from flask import Flask

    from core.db import create_schema, make_engine, pool_settings
    from web.database import EXTENSION_KEY, install_database

    assert pool_settings(50) == {"pool_size": 10, "max_overflow": 40, "pool_timeout": 60}
    assert pool_settings(4) == {"pool_size": 4, "max_overflow": 0, "pool_timeout": 60}
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    create_schema(make_engine(url))
    app = Flask("pool")
    database = install_database(app, url, pool_size=40)
    assert app.extensions[EXTENSION_KEY] is database
    pool = database.engine.pool
    assert pool.size() == 10 and pool._max_overflow == 30  # noqa: SLF001 - no public getter
