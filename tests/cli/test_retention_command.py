"""`candor retention run|hold|release` against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.cases import workflow
from core.clock import Clock
from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.models import ActorKind, AuditEvent, Case, ScopeDecision
from core.services import build_services
from tests.cli.conftest import run
from tests.conftest import CHEAP_KDF
from tests.core.cases.retention_world import dump
from tests.core.factories import handlers_and_case


@pytest.fixture
def env(initialised_env: dict[str, str]) -> dict[str, str]:
    """An instance whose cases are due one day after they are finished."""
    return {**initialised_env, "CANDOR_RETENTION_DAYS": "1"}


@pytest.fixture
def instance(env):
    engine = make_engine(load_config(env).database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def referred(env, instance) -> str:
    """A case referred elsewhere two days ago (due yesterday); its reference."""
    services = build_services(load_config(env, kdf=CHEAP_KDF))
    past = datetime.now(UTC) - timedelta(days=2)
    services.clock = Clock(now=lambda: past)
    alice, _bob, result = handlers_and_case(instance, services)
    with transaction(instance) as s:
        workflow.decide_scope(s, services, alice.unlocked, result.case_id,
                              ScopeDecision.REFERRED, message="Ask HR.")
    return result.reference


def _events(instance, action: str) -> list[tuple[ActorKind, dict]]:
    with instance() as s:
        return [(kind, json.loads(detail)) for kind, detail in s.execute(
            select(AuditEvent.actor_kind, AuditEvent.detail)
            .where(AuditEvent.action == action).order_by(AuditEvent.position))]


def test_help_on_every_retention_command() -> None:
    for args in (["retention", "--help"], ["retention", "run", "--help"],
                 ["retention", "hold", "--help"], ["retention", "release", "--help"]):
        result = run({}, *args)
        assert result.exit_code == 0 and "Usage:" in result.output, args
    assert "retention" in run({}, "--help").output


def test_a_dry_run_lists_the_due_cases_and_changes_nothing(env, instance, referred) -> None:
    with instance() as s:
        before = dump(s)
    result = run(env, "retention", "run", "--dry-run")
    assert result.exit_code == 0, result.output
    assert referred in result.output and "DUE ON" in result.output
    assert "Dry run: 1 case(s) due" in result.output and "nothing was changed" in result.output
    with instance() as s:
        assert dump(s) == before


def test_hold_run_release_run(env, instance, referred) -> None:
    result = run(env, "retention", "hold", referred)
    assert result.exit_code == 0 and f"Case {referred} is on legal hold." in result.output
    assert "was already on legal hold" in run(env, "retention", "hold", referred).output
    typed = f"  {referred.lower()} "  # as someone might type it: the console's search takes it
    assert f"Case {referred} was already on legal hold." in run(
        env, "retention", "hold", typed).output
    result = run(env, "retention", "run")
    assert result.exit_code == 0 and "Destroyed the content of 0 case(s)" in result.output
    released = run(env, "retention", "release", referred)
    assert released.exit_code == 0 and f"Case {referred} is no longer on legal hold." in (
        released.output)
    assert f"Case {referred} was not on legal hold." in run(
        env, "retention", "release", referred).output
    result = run(env, "retention", "run")
    assert result.exit_code == 0, result.output
    assert referred in result.output and "Destroyed the content of 1 case(s)" in result.output
    with instance() as s:
        case = s.execute(select(Case).where(Case.reference == referred)).scalar_one()
        assert case.content_destroyed_on is not None and case.report_ciphertext == b""
    assert _events(instance, "case:hold") == [(ActorKind.SYSTEM, {"hold": True}),
                                              (ActorKind.SYSTEM, {"hold": False})]
    ((actor, detail),) = _events(instance, "case:destroy")
    assert actor is ActorKind.SYSTEM and detail["grants"] > 0
    # Once destroyed: nothing more to do, and no hold can be placed.
    assert "Destroyed the content of 0 case(s)" in run(env, "retention", "run").output
    result = run(env, "retention", "hold", referred)
    assert result.exit_code == 1 and "destroyed under the retention policy" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_reference_is_one_line(env, instance) -> None:
    result = run(env, "retention", "hold", "NOPE-0000")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no case with the reference 'NOPE-0000'"


def test_retention_off_destroys_nothing(env, instance, referred) -> None:
    off = {**env, "CANDOR_RETENTION_DAYS": "0"}
    with instance() as s:
        before = dump(s)
    result = run(off, "retention", "run")
    assert result.exit_code == 0 and "Retention is off" in result.output
    with instance() as s:
        assert dump(s) == before


def test_a_negative_setting_is_refused(env) -> None:
    result = run({**env, "CANDOR_RETENTION_DAYS": "-5"}, "retention", "run", "--dry-run")
    assert result.exit_code == 1 and "retention_days: must not be negative" in result.output


@pytest.mark.parametrize("days", ["1000000", "99999999999999999999"])
def test_a_setting_too_large_is_one_line(env, days: str) -> None:
    """A destruction day past the calendar's end was a traceback here (and a 500 on the case
    page of every finished case); now the setting is refused, as a negative one is."""
    result = run({**env, "CANDOR_RETENTION_DAYS": days}, "retention", "run", "--dry-run")
    assert result.exit_code == 1, result.output
    assert f"retention_days: at most 36600, got {days}" in result.output
    assert "Traceback" not in result.output
