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
from tests.databases import as_written_before_0009, fresh_database, renumber_rows_sequentially


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

    from core.audit.log import sequence_reporter_events
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
        renumber_rows_sequentially(url)  # below 0008, ids were sequential
        as_written_before_0009(url)
        # 0007 first: the submission's audit event waits for the end of its day, and dropping
        # the queue would lose it. Once the day is over and it is in the log, 0007 goes.
        with pytest.raises(RuntimeError, match="1 reporter audit events are still queued"):
            command.downgrade(alembic_config(url), "0006")
        tomorrow = Clock(now=lambda: datetime.now(UTC) + timedelta(days=1, hours=5))
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


def test_0008_orders_existing_rows_by_id_and_downgrades_without_loss(
    backend: str, tmp_path: Path
) -> None:
    """Rows written before 0008 keep their sequential ids and get positions in id order
    within their case; new rows take random ids (PostgreSQL: no sequence left); a downgrade
    keeps every row and gives the code before 0008 its id sequences back."""
    import os
    from datetime import date

    from alembic import command
    from sqlalchemy import MetaData, Table, func, insert, text

    from migrations.runner import alembic_config

    def table(connection, name):  # reflected: the schema of the revision in place
        return Table(name, MetaData(), autoload_with=connection)

    def add_case(connection) -> int:
        return connection.execute(insert(table(connection, "cases")).values(
            reference=os.urandom(4).hex(), lookup_id=os.urandom(32), status="received",
            channel="web", disclosure="anonymous", received_on=date(2026, 1, 5),
            acknowledge_due=date(2026, 1, 12), feedback_due=date(2026, 4, 5),
            report_ciphertext=b"x").returning(id_column(connection, "cases"))).scalar_one()

    def id_column(connection, name):
        return table(connection, name).c.id

    def add_message(connection, case_id: int) -> int:
        return connection.execute(insert(table(connection, "messages")).values(
            case_id=case_id, author="reviewer", kind="information", key_kind="case",
            body_ciphertext=b"x", created_on=date(2026, 1, 6),
        ).returning(id_column(connection, "messages"))).scalar_one()

    def add_file(connection, case_id: int, message_id: int | None) -> int:
        return connection.execute(insert(table(connection, "attachments")).values(
            case_id=case_id, message_id=message_id, key_kind="case", blob_id=os.urandom(8).hex(),
            wrapped_file_key=b"k", meta_ciphertext=b"m", stored_size=1, stream_version=2,
            created_on=date(2026, 1, 6),
        ).returning(id_column(connection, "attachments"))).scalar_one()

    def positions(connection, name: str) -> dict[int, tuple[int, int]]:
        t = table(connection, name)
        return {row.id: (row.case_id, row.position)
                for row in connection.execute(select(t.c.id, t.c.case_id, t.c.position))}

    with fresh_database(backend, tmp_path, with_schema=False) as url:
        config = alembic_config(url)
        command.upgrade(config, "0007")
        engine = create_engine(url)
        with engine.begin() as c:
            one, two = add_case(c), add_case(c)
            m1, m2, m3, m4 = (add_message(c, case) for case in (one, two, one, one))
            f1, f2, f3 = add_file(c, one, m1), add_file(c, two, None), add_file(c, one, None)
        assert max(one, two, m1, m2, m3, m4, f1, f2, f3) < 1 << 31
        engine.dispose()

        command.upgrade(config, "head")
        engine = create_engine(url)
        with engine.begin() as c:
            assert positions(c, "messages") == {m1: (one, 1), m3: (one, 2), m4: (one, 3),
                                                m2: (two, 1)}
            assert positions(c, "attachments") == {f1: (one, 1), f3: (one, 2), f2: (two, 1)}
            if backend == "postgresql":
                for name in ("cases", "case_grants", "messages", "attachments"):
                    assert c.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                     {"t": name}).scalar() is None
        from core.models import Message
        from core.models.base import random_row_id

        with engine.begin() as c:  # a row as today's code writes it
            new = c.execute(insert(Message).values(
                id=random_row_id(), case_id=one, position=4, author="submitter",
                kind="reporter_message", key_kind="case", body_ciphertext=b"y",
                binding=1, created_on=date(2026, 1, 7)).returning(Message.id)).scalar_one()
        assert new >= 1 << 62
        engine.dispose()

        # The code before 0008 could neither order nor (PostgreSQL) hold a random id.
        with pytest.raises(RuntimeError, match="1 rows of messages have random ids"):
            command.downgrade(config, "0007")
        with engine.begin() as c:
            c.execute(text("DELETE FROM messages WHERE id = :i"), {"i": new})
        engine.dispose()
        command.downgrade(config, "0007")
        engine = create_engine(url)
        with engine.begin() as c:
            ids = set(c.execute(select(table(c, "messages").c.id)).scalars())
            assert ids == {m1, m2, m3, m4}
            # The code before 0008 leaves ids to the database again, in sequence.
            assert add_message(c, two) == max(ids) + 1
            assert c.execute(select(func.count()).select_from(table(c, "cases"))).scalar() == 2
        engine.dispose()
        command.upgrade(config, "head")  # and up again


def test_0012_starts_retention_at_the_upgrade_and_downgrades_only_without_retention_state(
    backend: str, tmp_path: Path
) -> None:
    """Cases already referred or not admissible get the upgrade's day as closed_on (their
    retention can only end later); a closed case keeps its day, an open one has none. A
    downgrade would silently drop legal holds (a re-upgrade would then let retention destroy
    a held case) and leave destroyed cases to code that cannot show them: it refuses both."""
    import os
    from datetime import date

    from alembic import command
    from sqlalchemy import MetaData, Table, insert

    from core.models.base import random_row_id
    from migrations.runner import alembic_config

    def cases(connection) -> Table:  # reflected: the schema of the revision in place
        return Table("cases", MetaData(), autoload_with=connection)

    def add_case(connection, status: str, closed_on: date | None = None) -> int:
        return connection.execute(insert(cases(connection)).values(
            id=random_row_id(), reference=os.urandom(4).hex(), lookup_id=os.urandom(32),
            status=status, channel="web", disclosure="anonymous", received_on=date(2026, 1, 5),
            acknowledge_due=date(2026, 1, 12), feedback_due=date(2026, 4, 5),
            closed_on=closed_on, report_ciphertext=b"x", priority="normal", key_epoch=1,
            review_requested=False,
        ).returning(cases(connection).c.id)).scalar_one()

    with fresh_database(backend, tmp_path, with_schema=False) as url:
        config = alembic_config(url)
        command.upgrade(config, "0011")
        engine = create_engine(url)
        with engine.begin() as c:
            referred, rejected = add_case(c, "referred"), add_case(c, "not_admissible")
            closed, open_ = add_case(c, "closed", date(2026, 3, 1)), add_case(c, "decided")
        engine.dispose()
        before = date.today()
        command.upgrade(config, "head")
        after = date.today()
        engine = create_engine(url)
        with engine.begin() as c:
            t = cases(c)
            rows = {r.id: r for r in c.execute(
                select(t.c.id, t.c.closed_on, t.c.legal_hold, t.c.content_destroyed_on))}
        assert before <= rows[referred].closed_on <= after
        assert before <= rows[rejected].closed_on <= after
        assert rows[closed].closed_on == date(2026, 3, 1)
        assert rows[open_].closed_on is None
        assert not any(r.legal_hold or r.content_destroyed_on for r in rows.values())

        with engine.begin() as c:
            t = cases(c)
            c.execute(update(t).where(t.c.id == referred).values(legal_hold=True))
        with pytest.raises(RuntimeError, match="1 cases are on legal hold"):
            command.downgrade(config, "0011")
        with engine.begin() as c:
            t = cases(c)
            c.execute(update(t).where(t.c.id == referred).values(
                legal_hold=False, content_destroyed_on=date(2026, 6, 1)))
        with pytest.raises(RuntimeError, match="retention destroyed the content of 1 cases"):
            command.downgrade(config, "0011")
        with engine.begin() as c:
            c.execute(update(cases(c)).values(content_destroyed_on=None))
        engine.dispose()
        command.downgrade(config, "0011")
        engine = create_engine(url)
        with engine.begin() as c:
            t = cases(c)
            assert "legal_hold" not in t.c
            assert dict(c.execute(select(t.c.id, t.c.closed_on)).all()) == {
                referred: None, rejected: None, closed: date(2026, 3, 1), open_: None}
        engine.dispose()
