"""Checking CANDOR_DATABASE_URL before anything connects: one clear line for every mistake.

Candor runs on SQLite (embedded) and PostgreSQL (through psycopg 3). `postgres://` and plain
`postgresql://`, as most tools write them, mean PostgreSQL through psycopg.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

#: What the error messages suggest.
EXAMPLES = "postgresql://user@host/candor or sqlite:////srv/candor/candor.sqlite3"
#: The driver Candor installs for PostgreSQL.
POSTGRES_DRIVER = "psycopg"


class DatabaseUrlError(ValueError):
    """The URL cannot be used; the message says why in one line, without the password."""


def _backend_and_driver(url: URL) -> tuple[str, str | None]:
    backend, _, driver = url.drivername.partition("+")
    return backend, driver or None


def checked_database_url(raw: str) -> str:
    """The URL Candor will use for `raw`, or DatabaseUrlError with a one-line reason."""
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUrlError(
            f"CANDOR_DATABASE_URL is not a database URL (expected e.g. {EXAMPLES})") from exc
    backend, driver = _backend_and_driver(url)
    given = url.drivername
    if backend in ("postgres", "postgresql"):
        url = url.set(drivername=f"postgresql+{driver or POSTGRES_DRIVER}")
    elif backend != "sqlite":
        raise DatabaseUrlError(
            f"CANDOR_DATABASE_URL names the database {backend!r}: Candor supports PostgreSQL "
            f"and SQLite (e.g. {EXAMPLES})")
    try:
        url.get_dialect().import_dbapi()
    except NoSuchModuleError as exc:
        raise DatabaseUrlError(
            f"CANDOR_DATABASE_URL names the driver {url.drivername!r}, which SQLAlchemy does "
            f"not know (use postgresql+psycopg or sqlite)") from exc
    except ImportError as exc:
        raise DatabaseUrlError(
            f"CANDOR_DATABASE_URL needs the driver {url.drivername!r}, which is not installed "
            f"(Candor installs psycopg: use postgresql+psycopg)") from exc
    # Returned as given unless the scheme was completed (a password's quoting stays as is).
    return raw.strip() if url.drivername == given else url.render_as_string(hide_password=False)
