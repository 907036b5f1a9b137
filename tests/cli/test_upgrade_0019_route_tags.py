"""Migration 0019: `candor db upgrade` tags the intake routes (and approved identity requests)
as they stand when it applies the migration, so that reports keep reaching their handlers,
and only then: a route a database writer adds later stays an alarm in `candor category
list`. Downgrading drops both columns."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text

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
    assert "Applied migration 0019" in upgraded.output
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


def test_the_downgrade_drops_the_tags(env: dict[str, str]) -> None:
    make_instance(env)
    url = load_config(env).database_url
    command.downgrade(alembic_config(url), "0018")
    engine = make_engine(url)
    with engine.begin() as c:
        assert "route_tag" not in list(c.execute(text("SELECT * FROM category_intake")).keys())
        assert "approval_tag" not in list(
            c.execute(text("SELECT * FROM identity_requests")).keys())
    engine.dispose()
