"""Which schema this code needs, and whether a database has it.

The migrations (migrations/versions, run by `candor db upgrade`) are numbered 0001, 0002, ...
`SCHEMA_REVISION` is the one the models match; tests/migrations/test_schema_revision.py keeps
it equal to the newest migration. A database whose `alembic_version` is older (or missing)
is refused by every command and by both apps at start-up, with the missing migrations named,
instead of failing later with "no such table" or an integer overflow.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, inspect, text

#: The newest migration: what the models in core.models describe.
SCHEMA_REVISION = "0021"
#: Alembic's bookkeeping table (named literally in the SQL below).
VERSION_TABLE = "alembic_version"


class SchemaOutdated(Exception):
    """The database is empty, older than this code, or newer; the message says what to do."""


def database_revision(connection: Connection) -> str | None:
    """The migration the database is at (None: no Candor schema at all)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def missing_revisions(current: str | None) -> list[str]:
    """The migrations between `current` and SCHEMA_REVISION, in order."""
    start = int(current) + 1 if current else 1
    return [f"{number:04d}" for number in range(start, int(SCHEMA_REVISION) + 1)]


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutdated, with a one-line reason, unless the database is at
    SCHEMA_REVISION."""
    with engine.connect() as connection:
        current = database_revision(connection)
    if current == SCHEMA_REVISION:
        return
    if current is None:
        raise SchemaOutdated("the database has no Candor tables yet: run `candor db upgrade` "
                             "(or `candor init` for a new instance)")
    if not current.isdigit() or int(current) > int(SCHEMA_REVISION):
        raise SchemaOutdated(f"the database is at migration {current}, newer than this version "
                             f"of Candor ({SCHEMA_REVISION}): upgrade Candor itself")
    raise SchemaOutdated(f"the database is at migration {current}; missing: "
                         f"{', '.join(missing_revisions(current))}: run `candor db upgrade`")


def stamp_schema(connection: Connection) -> None:
    """Record SCHEMA_REVISION in a database whose tables were created straight from the
    models (core.db.create_schema), as Alembic would after the migrations."""
    connection.execute(text("CREATE TABLE IF NOT EXISTS alembic_version "
                            "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    connection.execute(text("DELETE FROM alembic_version"))
    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:revision)"),
                       {"revision": SCHEMA_REVISION})
