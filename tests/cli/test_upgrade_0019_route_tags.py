"""Migration 0019: `candor db upgrade` tags the intake routes (and approved identity requests)
as they stand when it applies the migration, so that reports keep reaching their handlers,
and only then: a route a database writer adds later stays an alarm in `candor category
list`. Downgrading drops both columns."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from core.cases.content import ReportContent
from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.intake.submission import SubmissionDraft, submit_report
from core.models import CaseGrant
from core.services import build_services
from core.staff.accounts import get_reviewer
from migrations.runner import alembic_config
from tests.cli.backup_instance import make_instance
from tests.cli.conftest import run


def _carol_receives_a_new_report(env: dict[str, str]) -> bool:
    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    try:
        factory = make_session_factory(engine)
        with transaction(factory) as s:
            case_id = submit_report(s, services, SubmissionDraft(), category_code="it_fault",
                                    report=ReportContent(summary="After the upgrade")).case_id
            carol = get_reviewer(s, "carol").id
        with factory() as s:
            return s.execute(select(CaseGrant.id).where(
                CaseGrant.case_id == case_id, CaseGrant.reviewer_id == carol)).first() is not None
    finally:
        engine.dispose()


def test_the_upgrade_tags_routes_once(env: dict[str, str]) -> None:
    make_instance(env)  # carol is every category's intake
    url = load_config(env).database_url
    command.downgrade(alembic_config(url), "0018")
    upgraded = run(env, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "Applied migrations 0019, 0020" in upgraded.output
    assert _carol_receives_a_new_report(env)
    listed = run(env, "category", "list")
    assert "Alarm" not in listed.output and "carol" in listed.output
    engine = make_engine(url)
    with engine.begin() as c:  # a database writer clears a tag, hoping for an upgrade
        c.execute(text("UPDATE category_intake SET route_tag = NULL WHERE category_id = "
                       "(SELECT id FROM categories WHERE code = 'it_fault')"))
    engine.dispose()
    assert run(env, "db", "upgrade").exit_code == 0
    assert not _carol_receives_a_new_report(env)
    listed = run(env, "category", "list")
    assert "carol (ROUTE NOT WRITTEN BY CANDOR: receives nothing)" in listed.output
    assert "Alarm: 1 intake route(s) were not written by Candor" in listed.output
    assert "it_fault" in listed.output.split("No active intake case handler for:")[1]
    assert run(env, "category", "intake", "it_fault", "carol").exit_code == 0  # the way out
    assert _carol_receives_a_new_report(env)
    assert "Alarm" not in run(env, "category", "list").output


def test_the_upgrade_waits_for_the_secrets(env: dict[str, str]) -> None:
    """Second reader: 0019 applied where the secrets were not mounted (a migration container)
    tagged nothing, and no later upgrade would: every route was lost, silently. Now the
    migration waits until the secrets are there."""
    make_instance(env)
    config = load_config(env)
    command.downgrade(alembic_config(config.database_url), "0018")
    hidden = config.secrets_dir.with_name("secrets-not-mounted")
    config.secrets_dir.rename(hidden)
    refused = run(env, "db", "upgrade")
    assert refused.exit_code == 1
    assert "migration 0019 tags" in refused.output and "holds no secrets" in refused.output
    hidden.rename(config.secrets_dir)
    applied = run(env, "db", "upgrade")
    assert "Applied migrations 0019, 0020" in applied.output
    assert _carol_receives_a_new_report(env)


def test_tagging_cut_short_is_finished_by_the_next_upgrade(
        env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The migration commits, then the tagging fails (a lost connection): the data
    directory remembers it, and the next `candor db upgrade` tags, with nothing to apply."""
    import cli.db_commands

    make_instance(env)
    config = load_config(env)
    command.downgrade(alembic_config(config.database_url), "0018")

    def lost_connection(*_args: object) -> int:
        raise OperationalError("UPDATE", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patched:
        patched.setattr(cli.db_commands, "tag_untagged_routes", lost_connection)
        with pytest.raises(OperationalError):
            run(env, "db", "upgrade")
    assert not _carol_receives_a_new_report(env)  # applied, not tagged
    again = run(env, "db", "upgrade")
    assert again.exit_code == 0 and "No migration to apply" in again.output
    assert _carol_receives_a_new_report(env)
    assert not (config.data_dir / "tagging-due").exists()


def test_the_downgrade_drops_the_tags(env: dict[str, str]) -> None:
    make_instance(env)
    url = load_config(env).database_url
    command.downgrade(alembic_config(url), "0018")
    engine = make_engine(url)
    with engine.begin() as c:
        assert "route_tag" not in list(c.execute(text("SELECT * FROM category_intake")).keys())
        assert "approval_tag" not in list(
            c.execute(text("SELECT * FROM identity_requests")).keys())
        assert "change_tag" not in list(c.execute(text("SELECT * FROM staff_changes")).keys())
    engine.dispose()
