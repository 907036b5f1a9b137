"""CANDOR_DATABASE_URL mistakes and empty or outdated databases: one clear line, never a
traceback, and apps that refuse to start instead of serving 500s."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from core.config import ConfigError, load_config
from core.db import make_engine
from core.schema import SchemaOutdated
from migrations.runner import upgrade
from tests.cli.conftest import run

BAD_URLS = {
    "not a url": "is not a database URL",
    "mysql://user:hunter2@db/candor": "Candor supports PostgreSQL and SQLite",
    "oracle+oracledb://user@db/candor": "Candor supports PostgreSQL and SQLite",
    "postgresql+pg8000://user@db/candor": "which is not installed",
    "postgresql+nosuchdriver://user@db/candor": "which SQLAlchemy does not know",
}


@pytest.mark.parametrize(("url", "reason"), sorted(BAD_URLS.items()))
@pytest.mark.parametrize("command", [("reviewer", "list"), ("init",), ("db", "upgrade"),
                                     ("serve", "portal")])
def test_a_bad_database_url_is_one_line(tmp_path: Path, url: str, reason: str,
                                        command: tuple[str, ...]) -> None:
    (tmp_path / "data").mkdir()
    result = run({"CANDOR_DATA_DIR": str(tmp_path / "data"), "CANDOR_DATABASE_URL": url},
                 *command)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: CANDOR_DATABASE_URL"), result.output
    assert reason in lines[0]
    assert "hunter2" not in result.output


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_as_most_tools_write_them_mean_psycopg(tmp_path: Path,
                                                             scheme: str) -> None:
    config = load_config({"CANDOR_DATA_DIR": str(tmp_path),
                          "CANDOR_DATABASE_URL": f"{scheme}://candor:p%40ss@db:5433/candor"})
    assert config.database_url == "postgresql+psycopg://candor:p%40ss@db:5433/candor"


def test_a_correct_url_is_kept_as_written(tmp_path: Path) -> None:
    url = "postgresql+psycopg://candor:p%25ss@db/candor?sslmode=require"
    config = load_config({"CANDOR_DATA_DIR": str(tmp_path), "CANDOR_DATABASE_URL": url})
    assert config.database_url == url
    with pytest.raises(ConfigError):
        load_config({"CANDOR_DATA_DIR": str(tmp_path), "CANDOR_DATABASE_URL": "::"})


def _data_dir_with_secrets(env: dict[str, str], empty_database: str) -> None:
    """`candor init` on the empty database, then the tables dropped: secrets, no schema."""
    assert run(env, "init").exit_code == 0
    engine = make_engine(empty_database)
    from core.models import Base

    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()


@pytest.mark.parametrize("command", [("reviewer", "list"), ("category", "list"),
                                     ("cleanup",), ("notify",), ("remind",),
                                     ("serve", "portal"), ("serve", "console")])
def test_an_empty_database_is_named_by_every_command(env: dict[str, str], empty_database: str,
                                                     command: tuple[str, ...]) -> None:
    _data_dir_with_secrets(env, empty_database)
    # Mail settings, so that notify and remind get as far as the database.
    result = run(env | {"CANDOR_SMTP_HOST": "mail.invalid"}, *command)
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: the database has no Candor tables yet: run "
                                     "`candor db upgrade` (or `candor init` for a new "
                                     "instance)")


def test_an_outdated_database_names_the_missing_migrations(env: dict[str, str],
                                                           empty_database: str) -> None:
    _data_dir_with_secrets(env, empty_database)
    upgrade(empty_database, "0006")
    for command in (("reviewer", "list"), ("serve", "console")):
        result = run(env, *command)
        assert result.exit_code == 1
        assert result.output.strip() == ("Error: the database is at migration 0006; missing: "
                                         "0007, 0008, 0009, 0010, 0011, 0012, 0013, 0014, 0015, "
                                         "0016, 0017, 0018, 0019, 0020, 0021: "
                                         "run `candor db upgrade`")
    applied = run(env, "db", "upgrade")
    assert applied.exit_code == 0
    assert applied.output.strip() == ("Applied migrations 0007, 0008, 0009, 0010, 0011, 0012, "
                                      "0013, 0014, 0015, 0016, 0017, 0018, 0019, 0020, 0021; "
                                      "the "
                                      "database "
                                      "is up to date.")
    again = run(env, "db", "upgrade")
    assert again.output.strip() == "No migration to apply: the database is up to date."
    assert run(env, "reviewer", "list").exit_code == 0


@pytest.mark.parametrize("app_module", ["portal", "reviewer"])
def test_the_apps_refuse_to_start_on_an_outdated_database(env: dict[str, str],
                                                          empty_database: str,
                                                          app_module: str) -> None:
    """Before: POST /report answered 500 ("no such table" at 0001, an integer overflow at
    0007). Now create_app itself refuses."""
    import importlib

    _data_dir_with_secrets(env, empty_database)
    upgrade(empty_database, "0007")
    config = load_config(env)
    with pytest.raises(SchemaOutdated, match="missing: 0008"):
        importlib.import_module(app_module).create_app(config)
    upgrade(empty_database)
    app = importlib.import_module(app_module).create_app(config)
    app.extensions["candor.database"].engine.dispose()
