"""Revisions 0015-0017 on existing data: what each adds to rows written before it, and what a
downgrade keeps (the schema as a whole is checked against the models in test_migrations.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, update

from tests.databases import fresh_database


def test_0015_adds_empty_keywords_and_downgrades_without_loss_of_the_rest(
        backend: str, tmp_path: Path) -> None:
    """Categories from before 0015 get no keywords, so suggestions are as they were; a
    downgrade drops the operator's keywords and keeps every category as it was."""
    from alembic import command
    from sqlalchemy import MetaData, Table, insert

    from migrations.runner import alembic_config

    def categories(connection) -> Table:  # reflected: the schema of the revision in place
        return Table("categories", MetaData(), autoload_with=connection)

    with fresh_database(backend, tmp_path, with_schema=False) as url:
        config = alembic_config(url)
        command.upgrade(config, "0014")
        engine = create_engine(url)
        with engine.begin() as c:
            c.execute(insert(categories(c)).values(
                code="canteen", name_en="Canteen", name_zh="食堂", description_en="Food.",
                description_zh="", position=0, active=True))
        engine.dispose()
        command.upgrade(config, "head")
        engine = create_engine(url)
        with engine.begin() as c:
            t = categories(c)
            assert c.execute(select(t.c.code, t.c.keywords)).all() == [("canteen", "")]
            c.execute(update(t).values(keywords="noodles, 食堂"))
        engine.dispose()
        command.downgrade(config, "0014")
        engine = create_engine(url)
        with engine.begin() as c:
            t = categories(c)
            assert "keywords" not in t.c
            assert c.execute(select(t.c.code, t.c.name_zh, t.c.description_en)).all() == [
                ("canteen", "食堂", "Food.")]
        engine.dispose()


def test_0016_admits_display_name_changes_and_downgrades_without_them(
        backend: str, tmp_path: Path) -> None:
    """Changes from before 0016 stay as they were; after it the check constraint admits a
    display-name change and still refuses an unknown kind; a downgrade deletes the
    display-name changes and keeps the others."""
    from alembic import command
    from sqlalchemy import MetaData, Table, insert
    from sqlalchemy.exc import IntegrityError

    from migrations.runner import alembic_config

    def table(connection, name: str) -> Table:  # reflected: the schema of the revision in place
        return Table(name, MetaData(), autoload_with=connection)

    now = datetime(2026, 12, 1, tzinfo=UTC)
    with fresh_database(backend, tmp_path, with_schema=False) as url:
        config = alembic_config(url)
        command.upgrade(config, "0015")
        engine = create_engine(url)
        with engine.begin() as c:
            admin = c.execute(insert(table(c, "reviewers")).values(
                username="adam", role="admin", passphrase_hash="x", active=True,
                must_change_passphrase=False, approved=True, identity_custodian=False,
                totp_confirmed=True, failed_logins=0, created_at=now)
                .returning(table(c, "reviewers").c.id)).scalar_one()
            c.execute(insert(table(c, "staff_changes")).values(
                kind="custodian", status="pending", reviewer_id=admin, custodian=True,
                requested_by=admin, requested_at=now))
        engine.dispose()
        command.upgrade(config, "head")
        engine = create_engine(url)
        with engine.begin() as c:
            t = table(c, "staff_changes")
            assert c.execute(select(t.c.kind, t.c.display_name)).all() == [("custodian", None)]
            c.execute(insert(t).values(kind="display_name", status="pending", reviewer_id=admin,
                                       display_name="Adam A.", requested_by=admin,
                                       requested_at=now))
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(insert(table(c, "staff_changes")).values(
                kind="rename", status="pending", requested_by=admin, requested_at=now))
        engine.dispose()
        command.downgrade(config, "0015")
        engine = create_engine(url)
        with engine.begin() as c:
            t = table(c, "staff_changes")
            assert "display_name" not in t.c
            assert c.execute(select(t.c.kind)).scalars().all() == ["custodian"]
        engine.dispose()


def test_0017_adds_an_empty_table_of_sent_forms_and_downgrades_without_it(
        backend: str, tmp_path: Path) -> None:
    from alembic import command

    from migrations.runner import alembic_config

    with fresh_database(backend, tmp_path, with_schema=False) as url:
        config = alembic_config(url)
        command.upgrade(config, "0016")
        engine = create_engine(url)
        assert "submission_tokens" not in inspect(engine).get_table_names()
        engine.dispose()
        command.upgrade(config, "head")
        engine = create_engine(url)
        with engine.begin() as c:
            c.exec_driver_sql("INSERT INTO submission_tokens (token_hash) VALUES (%s)"
                              if backend == "postgresql" else
                              "INSERT INTO submission_tokens (token_hash) VALUES (?)",
                              (b"\x01" * 32,))
        engine.dispose()
        command.downgrade(config, "0016")
        engine = create_engine(url)
        assert "submission_tokens" not in inspect(engine).get_table_names()
        engine.dispose()
