"""`candor category ...` against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from cli.main import cli
from core.categories.lookup import active_categories, list_categories
from core.config import load_config
from core.db import make_engine, make_session_factory
from core.models import AuditEvent
from tests.cli.conftest import PASSPHRASE, enrol, run


@pytest.fixture
def env(initialised_env: dict[str, str]) -> dict[str, str]:
    """An initialised instance (default categories) on each backend."""
    return initialised_env


def fails(result: Result, message: str, status: int = 1) -> None:
    """A user mistake: one clear line, a non-zero status, no traceback."""
    assert result.exit_code == status, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output


class Instance:
    """Reads the instance's database directly, for assertions."""

    def __init__(self, env: dict[str, str]) -> None:
        self.engine = make_engine(load_config(env).database_url)
        self.factory = make_session_factory(self.engine)

    def codes(self, active_only: bool = False) -> list[str]:
        with self.factory() as s:
            return [c.code for c in (active_categories(s) if active_only else list_categories(s))]

    def category_events(self) -> list[tuple[str, dict[str, object]]]:
        with self.factory() as s:
            rows = s.scalars(select(AuditEvent).order_by(AuditEvent.position)).all()
            return [(e.action, json.loads(e.detail)) for e in rows
                    if e.action.startswith("category:")]


@pytest.fixture
def instance(env: dict[str, str]) -> Iterator[Instance]:
    db = Instance(env)
    yield db
    db.engine.dispose()


def test_help_on_every_category_command() -> None:
    group = CliRunner().invoke(cli, ["--help"], env={"CANDOR_DATA_DIR": "/nonexistent"})
    assert group.exit_code == 0 and re.search(r"^\s+category\s", group.output, re.M)
    for sub in ("", "list", "show", "add", "edit", "move", "deactivate", "activate", "intake"):
        args = ["category", *([sub] if sub else []), "--help"]
        result = CliRunner().invoke(cli, args, env={"CANDOR_DATA_DIR": "/nonexistent"})
        assert result.exit_code == 0, result.output
        assert re.match(r"Usage: \S+ category", result.output), result.output


def test_list_shows_positions_states_names_and_intake(env: dict[str, str]) -> None:
    listed = run(env, "category", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["POS", "CODE", "STATE", "NAME", "(EN)", "NAME", "(ZH)", "INTAKE"]
    assert re.match(r"1\s+it_fault\s+active\s+IT systems and technical faults\s+"
                    r"技术故障与信息系统问题\s+\(none\)$", lines[1])
    assert re.match(r"8\s+other\s+active\s+Something else\s+其他\s+\(none\)$", lines[8])
    assert "No active intake case handler for: it_fault," in listed.output
    # Columns line up although Chinese characters take two columns.
    assert len({line.index("(none)") + sum(1 for c in line[:line.index("(none)")]
                                            if "\u4e00" <= c <= "\u9fff")
                for line in lines[1:9]}) == 1


def test_add_edit_show_move(env: dict[str, str], instance: Instance) -> None:
    added = run(env, "category", "add", "fraud", "--name-en", "Fraud and theft",
                "--name-zh", "欺诈与盗窃", "--description-en", "Money or goods taken.",
                "--position", "2")
    assert added.exit_code == 0, added.output
    assert "Added category 'fraud' at position 2." in added.output
    assert "candor category intake fraud" in added.output
    assert instance.codes()[:3] == ["it_fault", "fraud", "security"]

    edited = run(env, "category", "edit", "fraud", "--description-zh", "金钱或物品被盗。",
                 "--name-en", "Fraud")
    assert edited.exit_code == 0, edited.output
    assert "Updated English name, Chinese description of category 'fraud'." in edited.output
    same = run(env, "category", "edit", "fraud", "--name-en", "Fraud")
    assert same.exit_code == 0 and "nothing changed" in same.output

    shown = run(env, "category", "show", "fraud")
    assert shown.exit_code == 0, shown.output
    for text in ("position:          2", "name (en):         Fraud\n", "欺诈与盗窃",
                 "Money or goods taken.", "金钱或物品被盗。", "state:             active"):
        assert text in shown.output

    moved = run(env, "category", "move", "fraud", "9")
    assert moved.exit_code == 0 and "now at position 9 of 9" in moved.output
    assert instance.codes()[-1] == "fraud"
    assert instance.category_events() == [
        ("category:add", {"category": "fraud", "position": 2}),
        ("category:edit", {"category": "fraud", "fields": "name_en,description_zh"}),
        ("category:move", {"category": "fraud", "from": 2, "to": 9}),
    ]


def test_mistakes_are_one_line_and_change_nothing(env: dict[str, str],
                                                  instance: Instance) -> None:
    before = instance.codes()
    fails(run(env, "category", "add", "Fraud", "--name-en", "F", "--name-zh", "欺"),
          "Error: A category code is 1-32 characters")
    fails(run(env, "category", "add", "security", "--name-en", "S", "--name-zh", "安"),
          "Error: a category 'security' already exists")
    fails(run(env, "category", "add", "fraud", "--name-en", "a\nb", "--name-zh", "欺"),
          "Error: The English name must not contain control characters")
    fails(run(env, "category", "add", "fraud", "--name-en", "x" * 121, "--name-zh", "欺"),
          "the limit is 120")
    fails(run(env, "category", "add", "fraud", "--name-en", "Fraud"),
          "Missing option '--name-zh'", status=2)
    fails(run(env, "category", "add", "fraud", "--name-en", "F", "--name-zh", "欺",
              "--position", "11"), "Error: Position 11 is out of range: choose 1 to 9.")
    fails(run(env, "category", "edit", "fraud", "--name-en", "F"), "Error: no category 'fraud'")
    fails(run(env, "category", "edit", "other"), "give at least one of --name-en", status=2)
    fails(run(env, "category", "edit", "other", "--name-zh", " "),
          "Error: The Chinese name must not be empty.")
    fails(run(env, "category", "move", "other", "0"), "choose 1 to 8")
    fails(run(env, "category", "move", "other", "top"), "'top' is not a valid integer",
          status=2)
    fails(run(env, "category", "show", "nope"), "Error: no category 'nope'")
    fails(run(env, "category", "activate", "other"), "Error: category 'other' is already active")
    assert instance.codes() == before
    assert instance.category_events() == []


def test_keywords_are_added_shown_replaced_and_cleared(env: dict[str, str],
                                                       instance: Instance) -> None:
    """An operator's keywords: commas of both languages separate them, repeats go, `show`
    prints them, `edit` replaces or clears them; the audit names the field, not the words."""
    added = run(env, "category", "add", "procurement", "--name-en", "Procurement",
                "--name-zh", "采购", "--keywords", "tender, Kickback，招标、回扣; tender")
    assert added.exit_code == 0, added.output
    shown = run(env, "category", "show", "procurement")
    assert "keywords:          tender, Kickback, 招标, 回扣\n" in shown.output, shown.output
    assert "keywords:          (none)" in run(env, "category", "show", "security").output

    replaced = run(env, "category", "edit", "security", "--keywords", "badge, 门禁卡")
    assert replaced.exit_code == 0, replaced.output
    assert "Updated keywords of category 'security'." in replaced.output
    assert "keywords:          badge, 门禁卡" in run(env, "category", "show", "security").output
    cleared = run(env, "category", "edit", "security", "--keywords", "")
    assert cleared.exit_code == 0, cleared.output
    assert "keywords:          (none)" in run(env, "category", "show", "security").output

    fails(run(env, "category", "edit", "security", "--keywords", "the, badge"),
          "Error: The keyword 'the' gives suggestions nothing to go on")
    fails(run(env, "category", "edit", "security", "--keywords", "问题"),
          "Error: The keyword '问题' gives suggestions nothing to go on")
    fails(run(env, "category", "edit", "security", "--keywords", "badge\ttailgating"),
          "Error: The keywords must not contain control characters (found U+0009)")
    fails(run(env, "category", "edit", "security", "--keywords", "x" * 61),
          "characters long; the limit is 60")
    fails(run(env, "category", "edit", "security",
              "--keywords", ", ".join(f"term{n}" for n in range(101))),
          "Error: There are 101 keywords; the limit is 100 per category.")
    assert "keywords:          (none)" in run(env, "category", "show", "security").output
    assert instance.category_events() == [
        ("category:add", {"category": "procurement", "position": 9}),
        ("category:edit", {"category": "security", "fields": "keywords"}),
        ("category:edit", {"category": "security", "fields": "keywords"}),
    ]


def test_deactivate_and_activate(env: dict[str, str], instance: Instance) -> None:
    done = run(env, "category", "deactivate", "security")
    assert done.exit_code == 0 and "Deactivated category 'security'" in done.output
    assert "security" not in instance.codes(active_only=True)
    assert re.search(r"^2\s+security\s+inactive\s", run(env, "category", "list").output, re.M)
    fails(run(env, "category", "deactivate", "security"), "already deactivated")
    again = run(env, "category", "activate", "security")
    assert again.exit_code == 0 and "on the submission form again" in again.output
    assert instance.codes(active_only=True)[1] == "security"
    assert [a for a, _ in instance.category_events()] == ["category:deactivate",
                                                          "category:activate"]


def test_the_last_active_category_stays(env: dict[str, str], instance: Instance) -> None:
    for code in instance.codes()[:-1]:
        assert run(env, "category", "deactivate", code).exit_code == 0
    fails(run(env, "category", "deactivate", "other"),
          "Error: 'other' is the last active category")
    assert instance.codes(active_only=True) == ["other"]


def test_intake(env: dict[str, str], instance: Instance) -> None:
    for name, role in (("alice", "reviewer"), ("bob", "reviewer"), ("boss", "admin")):
        assert run(env, "reviewer", "add", name, "--role", role, "--passphrase-stdin",
                   input=PASSPHRASE + "\n").exit_code == 0
    fails(run(env, "category", "intake", "roles", "alice"),
          "Error: alice cannot receive reports yet: they log in, set up TOTP and choose their "
          "own passphrase first.")
    for name in ("alice", "bob"):
        enrol(env, name, PASSPHRASE)
    routed = run(env, "category", "intake", "roles", "alice", "bob")
    assert routed.exit_code == 0, routed.output
    assert "New reports in 'roles' now go to: alice, bob." in routed.output
    assert re.search(r"^5\s+roles\s+active\s+.*\s+alice, bob$",
                     run(env, "category", "list").output, re.M)
    assert "intake:            alice, bob" in run(env, "category", "show", "roles").output

    fails(run(env, "category", "intake", "roles", "boss"), "Error: boss cannot receive cases.")
    fails(run(env, "category", "intake", "roles", "nobody"), "Error: no reviewer named 'nobody'")
    fails(run(env, "category", "intake", "roles"), "name at least one case handler", status=2)
    fails(run(env, "category", "intake", "roles", "alice", "--none"), "not both", status=2)

    # A reset passphrase drops bob's key pair: he receives nothing until he enrols again.
    assert run(env, "reviewer", "reset-passphrase", "bob").exit_code == 0
    assert re.search(r"^5\s+roles\s+active\s+.*\s+alice, bob \(not enrolled yet\)$",
                     run(env, "category", "list").output, re.M)
    assert run(env, "reviewer", "reset-passphrase", "alice").exit_code == 0
    listed = run(env, "category", "list").output
    assert "No active intake case handler for: it_fault," in listed and ", roles" in listed
    assert "intake:            alice (not enrolled yet), bob (not enrolled yet)" in run(
        env, "category", "show", "roles").output
    assert run(env, "reviewer", "deactivate", "bob").exit_code == 0
    assert re.search(r"^5\s+roles\s+.*\s+alice \(not enrolled yet\)$",
                     run(env, "category", "list").output, re.M)

    cleared = run(env, "category", "intake", "roles", "--none")
    assert cleared.exit_code == 0 and "no intake case handler" in cleared.output
    assert instance.category_events() == [
        ("category:change", {"category": "roles", "intake": 2}),
        ("category:change", {"category": "roles", "intake": 0}),
    ]


def test_category_commands_before_init(tmp_path: Path) -> None:
    fails(run({"CANDOR_DATA_DIR": str(tmp_path / "missing")}, "category", "list"),
          "candor init")
