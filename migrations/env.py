"""Alembic environment: uses core's metadata and engine settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from core.db import make_engine
from core.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL without a database connection (`alembic upgrade --sql`)."""
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the configured database."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a column by copying its table; dropping the old copy of a table
            # others refer to would fail their foreign keys. As SQLite's documentation asks,
            # enforcement is off while migrating (a PRAGMA, so outside any transaction: on the
            # driver's connection, before SQLAlchemy begins one) and checked afterwards.
            _driver_execute(connection, "PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=sqlite, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        if sqlite:
            _driver_execute(connection, "PRAGMA foreign_keys=ON")
    engine.dispose()


def _driver_execute(connection: Connection, statement: str) -> None:
    """Run a statement on the driver's connection, outside SQLAlchemy's transaction."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(statement)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
