"""core.cases.inbox_counts: the counters equal a rebuild, stay exact under concurrency, and
are filled by the migration."""

from __future__ import annotations

import random
import threading
from collections import Counter
from pathlib import Path

from alembic import command
from sqlalchemy import event

from core.audit.log import Actor
from core.cases import inbox
from core.cases.casework import (
    change_status,
)
from core.cases.inbox import InboxFilter, inbox_page
from core.cases.inbox_counts import (
    CountKey,
    apply_deltas,
    computed_counts,
    lock_case,
    rebuild_inbox_counts,
    stored_counts,
)
from core.db import make_engine, make_session_factory, transaction
from core.models import Case, CaseStatus
from core.services import Services
from migrations.runner import alembic_config, upgrade
from tests.core.cases.test_inbox import (
    _build,
    assert_keys_in_step,
)
from tests.core.factories import add_reviewer, next_stages, seed_categories, submit
from tests.databases import as_written_before_0009, fresh_database, renumber_rows_sequentially


def test_incremental_counters_equal_a_rebuild(session_factory, services):
    rng = random.Random(4)
    world = _build(session_factory, services, rng, n_cases=16)
    with transaction(session_factory) as s:
        incremental = stored_counts(s)
        assert incremental == computed_counts(s)
        assert sum(incremental.values()) > 0
        rows = rebuild_inbox_counts(s)
    with session_factory() as s:
        assert stored_counts(s) == incremental
        assert rows == len(incremental)
        # The rebuild repairs a damaged table.
    with transaction(session_factory) as s:
        s.execute(inbox.InboxCount.__table__.update().values(count=7))
    with transaction(session_factory) as s:
        rebuild_inbox_counts(s)
    with session_factory() as s:
        assert stored_counts(s) == incremental
    assert world.case_ids


def test_counters_stay_exact_under_concurrency(session_factory, services):
    alice = add_reviewer(session_factory, services, "alice")
    bob = add_reviewer(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id, bob.id], "security": [alice.id]},
                    services=services)
    seeded = [submit(session_factory, services).case_id for _ in range(4)]
    errors: list[BaseException] = []
    per_thread = 4
    # No statement may fail, not even one that is caught: PostgreSQL writes every failed
    # statement (a unique violation, say) to its own log with the row's values and time.
    failed_statements: list[str] = []
    engine = session_factory.kw["bind"]
    on_error = lambda context: failed_statements.append(str(context.original_exception))  # noqa: E731
    event.listen(engine, "handle_error", on_error)

    def submitter(category: str) -> None:
        try:
            for _ in range(per_thread):
                submit(session_factory, services, category=category)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def mover(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(per_thread):
                with transaction(session_factory) as s:
                    case = s.get(Case, rng.choice(seeded))
                    assert case is not None
                    lock_case(s, case)  # choose the move from the committed stage
                    change_status(s, services, Actor.system(), case,
                                  rng.choice(next_stages(s, case)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submitter, args=(c,))
               for c in ("it_fault", "it_fault", "security", "it_fault")]
    threads += [threading.Thread(target=mover, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    event.remove(engine, "handle_error", on_error)
    assert errors == []
    assert failed_statements == []
    with session_factory() as s:
        assert stored_counts(s) == computed_counts(s)
        page = inbox_page(s, alice.id, InboxFilter(), services.clock.today())
        assert page.total == len(seeded) + 4 * per_thread
        assert inbox_page(s, bob.id, InboxFilter(), services.clock.today()).total \
            == len(seeded) + 3 * per_thread


def test_migration_fills_the_counters(backend: str, tmp_path: Path, services: Services):
    (tmp_path / "migrated").mkdir()
    with fresh_database(backend, tmp_path / "migrated", with_schema=False) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        try:
            _build(factory, services, random.Random(9), n_cases=8)
            with factory() as s:
                expected = computed_counts(s)
            assert expected
            renumber_rows_sequentially(url)  # below 0008, ids were sequential
            as_written_before_0009(url)
            with factory() as s:
                expected = computed_counts(s)
            command.downgrade(alembic_config(url), "0002")
            upgrade(url)
            with factory() as s:
                assert stored_counts(s) == expected
                assert_keys_in_step(s)  # the inbox keys were filled from the cases (0005)
        finally:
            engine.dispose()


def test_a_new_cell_created_by_many_at_once_raises_no_database_error(session_factory, services):
    # Eight transactions create the same missing counter cell at the same moment. With an
    # insert that catches the unique violation, PostgreSQL logs seven errors with the cell's
    # values; with ON CONFLICT none is raised and the count is exact.
    alice = add_reviewer(session_factory, services, "alice")
    key = CountKey(alice.id, False, CaseStatus.RECEIVED, 0)
    failed_statements: list[str] = []
    engine = session_factory.kw["bind"]
    on_error = lambda context: failed_statements.append(str(context.original_exception))  # noqa: E731
    event.listen(engine, "handle_error", on_error)
    # On SQLite each transaction holds the write lock from its start: they run one by one.
    together = engine.dialect.name == "postgresql"
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            with transaction(session_factory) as s:
                s.connection()
                if together:
                    start.wait(timeout=10)
                apply_deltas(s, Counter({key: 1}))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    event.remove(engine, "handle_error", on_error)
    assert errors == [] and failed_statements == []
    with session_factory() as s:
        assert stored_counts(s)[key] == 8
