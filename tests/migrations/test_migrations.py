"""The Alembic migrations must produce exactly the schema the models describe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, update

from core.db import create_schema, make_engine
from core.models import AuditHead, Base
from crypto.audit_chain import GENESIS
from migrations.runner import current_heads, upgrade
from tests.databases import fresh_database


def _constraint_names(url: str) -> dict[str, set[str]]:
    engine = create_engine(url)
    inspector = inspect(engine)
    names: dict[str, set[str]] = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        found = {c["name"] for c in inspector.get_check_constraints(table) if c["name"]}
        found |= {c["name"] for c in inspector.get_unique_constraints(table) if c["name"]}
        found |= {c["name"] for c in inspector.get_foreign_keys(table) if c["name"]}
        found |= {i["name"] for i in inspector.get_indexes(table) if i["name"]}
        names[table] = found
    engine.dispose()
    return names


def test_single_head() -> None:
    assert len(current_heads()) == 1


def test_upgrade_matches_models(backend: str, tmp_path: Path) -> None:
    (tmp_path / "migrated").mkdir()
    with fresh_database(backend, tmp_path / "migrated", with_schema=False) as migrated_url:
        upgrade(migrated_url)
        engine = make_engine(migrated_url)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            head = connection.execute(select(AuditHead.size, AuditHead.head)).one()
        engine.dispose()
        assert head == (0, GENESIS)
        (tmp_path / "models").mkdir()
        with fresh_database(backend, tmp_path / "models", with_schema=False) as model_url:
            model_engine = make_engine(model_url)
            create_schema(model_engine)
            model_engine.dispose()
            # Constraint and index names too (autogenerate ignores CHECK constraints).
            assert _constraint_names(migrated_url) == _constraint_names(model_url)


def test_upgrade_is_idempotent(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path, with_schema=False) as url:
        upgrade(url)
        upgrade(url)


def test_attachments_from_before_0006_are_stream_format_1(backend: str, tmp_path: Path) -> None:
    """Rows that existed before 0006 were written with 64 KiB chunks (format 1)."""
    from alembic import command

    from core.audit import sequence_reporter_events
    from core.blobs import FileSystemBlobStore
    from core.clock import Clock
    from core.config import load_config
    from core.db import make_session_factory, transaction
    from core.keyring import Keyring
    from core.models import Attachment
    from core.services import Services
    from crypto.recovery import generate_recovery_key
    from migrations.runner import alembic_config
    from tests.conftest import CHEAP_KDF
    from tests.core.factories import seed_categories, submit

    with fresh_database(backend, tmp_path, with_schema=False) as url:
        upgrade(url)
        # The files are made with today's code, then the column is dropped and re-added as an
        # upgrade from 0005 would add it to rows written before it.
        engine = make_engine(url)
        factory = make_session_factory(engine)
        config = load_config({}, data_dir=tmp_path, database_url=url, kdf=CHEAP_KDF)
        services = Services(
            config=config,
            keyring=Keyring.generate(recovery_public_key=generate_recovery_key().public_key),
            blobs=FileSystemBlobStore(config.blob_dir),
            clock=Clock(),
        )
        seed_categories(factory)
        submit(factory, services, files=[("a.txt", b"a"), ("b.txt", b"b")])
        # 0007 first: the submission's audit event waits for the end of its day, and dropping
        # the queue would lose it. Once the day is over and it is in the log, 0007 goes.
        with pytest.raises(RuntimeError, match="1 reporter audit events are still queued"):
            command.downgrade(alembic_config(url), "0006")
        tomorrow = Clock(now=lambda: datetime.now(UTC) + timedelta(days=1, hours=3))
        with transaction(factory) as s:
            assert sequence_reporter_events(s, tomorrow) == 1
        # Today's files are format 2, which the code before 0006 cannot read: refused.
        with pytest.raises(RuntimeError, match="stream format 2"):
            command.downgrade(alembic_config(url), "0005")
        with engine.begin() as connection:
            connection.execute(update(Attachment).values(stream_version=1))
        engine.dispose()
        command.downgrade(alembic_config(url), "0005")
        upgrade(url)
        engine = make_engine(url)
        with engine.connect() as connection:
            versions = connection.execute(select(Attachment.stream_version)).scalars().all()
        engine.dispose()
        assert versions == [1, 1]
