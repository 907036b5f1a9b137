"""Migration 0018: `candor db upgrade` tags every account's standing as it stands when the
migration is applied (accounts keep working: they log in and receive reports), and only
then (a tag a database writer clears later is not restored by a later upgrade).
Downgrading drops the column and the reset changes."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.services import build_services
from core.staff.accounts import get_reviewer
from core.staff.keys import standing_trusted
from migrations.runner import alembic_config
from tests.cli.conftest import PASSPHRASE, run


def _trusted(env: dict[str, str]) -> bool:
    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    try:
        with transaction(make_session_factory(engine)) as s:
            return standing_trusted(services.keyring, get_reviewer(s, "kim"))
    finally:
        engine.dispose()


def test_the_upgrade_tags_standings_once(env: dict[str, str]) -> None:
    assert run(env, "init").exit_code == 0
    assert run(env, "reviewer", "add", "kim", "--role", "reviewer", "--passphrase-stdin",
               input=PASSPHRASE + "\n").exit_code == 0
    assert _trusted(env)
    url = load_config(env).database_url
    command.downgrade(alembic_config(url), "0017")
    upgraded = run(env, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "Applied migrations 0018, 0019" in upgraded.output
    assert "Bound 1 account(s)" in upgraded.output
    assert _trusted(env)
    engine = make_engine(url)
    with engine.begin() as c:  # a database writer clears the tag, hoping for an upgrade
        c.execute(text("UPDATE reviewers SET standing_tag = NULL"))
    engine.dispose()
    assert run(env, "db", "upgrade").exit_code == 0
    assert not _trusted(env)


def test_the_downgrade_drops_the_tags_and_reset_changes(env: dict[str, str]) -> None:
    assert run(env, "init").exit_code == 0
    assert run(env, "reviewer", "add", "kim", "--role", "reviewer", "--passphrase-stdin",
               input=PASSPHRASE + "\n").exit_code == 0
    url = load_config(env).database_url
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO staff_changes (kind, status, reviewer_id, requested_by, "
                       "requested_at) SELECT 'reset', 'pending', id, id, created_at "
                       "FROM reviewers"))
    engine.dispose()
    command.downgrade(alembic_config(url), "0017")
    engine = make_engine(url)
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM staff_changes")).scalar_one() == 0
        columns = c.execute(text("SELECT * FROM reviewers")).keys()
        assert "standing_tag" not in list(columns)
    engine.dispose()
