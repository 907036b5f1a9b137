"""`candor reviewer list` shows each account's real state; `candor reviewer edit` changes an
account's email address and display name, audited without the values."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction
from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.models import AuditEvent, Role
from core.services import Services, build_services
from core.staff.accounts import get_reviewer
from core.staff.approvals import request_account
from tests.cli.conftest import PASSPHRASE, enrol, run


def in_instance(env: dict[str, str], work: Callable[[Session, Services], Any]) -> Any:
    """Run `work` in one transaction on the instance's database, as a console request would."""
    config = load_config(env)
    engine = make_engine(config.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            return work(session, build_services(config))
    finally:
        engine.dispose()


def add(env: dict[str, str], username: str, role: str = "reviewer", *extra: str) -> str:
    """`candor reviewer add`; returns the initial (one-time) passphrase."""
    result = run(env, "reviewer", "add", username, "--role", role, *extra,
                 "--passphrase-stdin", input=PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    return PASSPHRASE


def listed(env: dict[str, str]) -> str:
    result = run(env, "reviewer", "list")
    assert result.exit_code == 0, result.output
    return result.output


def test_list_shows_approval_enrolment_custodian_and_contact(
        initialised_env: dict[str, str]) -> None:
    env = initialised_env
    add(env, "root", "admin")
    add(env, "alice")
    enrol(env, "bob", add(env, "bob", "reviewer", "--email", "bob@example.org"))
    assert run(env, "reviewer", "custodian", "bob").exit_code == 0
    # An account an admin made in the console waits for a second admin.
    in_instance(env, lambda s, services: request_account(
        s, services, Actor.reviewer(get_reviewer(s, "root").id), username="carol",
        role=Role.REVIEWER, passphrase=PASSPHRASE))
    add(env, "dave", "auditor")
    assert run(env, "reviewer", "deactivate", "dave").exit_code == 0

    output = listed(env)
    assert re.search(r"USERNAME\s+ROLE\s+STATE\s+ENROLMENT\s+CUSTODIAN\s+EMAIL\s+DISPLAY-NAME",
                     output)
    assert re.search(r"alice\s+reviewer\s+active\s+no TOTP yet\s+no\s+-\s+-", output), output
    assert re.search(r"bob\s+reviewer\s+active\s+complete\s+yes\s+bob@example\.org\s+-",
                     output), output
    assert re.search(r"carol\s+reviewer\s+awaiting approval\s+no TOTP yet\s+no", output), output
    assert re.search(r"root\s+admin\s+active\s+no TOTP yet\s+-", output), output
    assert re.search(r"dave\s+auditor\s+deactivated\s+no TOTP yet\s+-", output), output

    assert run(env, "reviewer", "reset-passphrase", "bob").exit_code == 0
    assert re.search(r"bob\s+reviewer\s+active\s+no keys yet\s+yes", listed(env))


def _edits(env: dict[str, str]) -> list[dict[str, Any]]:
    def read(session: Session, _services: Services) -> list[dict[str, Any]]:
        return [json.loads(d) for d in session.execute(
            select(AuditEvent.detail).where(AuditEvent.action == str(AuditAction.REVIEWER_EDITED))
            .order_by(AuditEvent.position)).scalars()]
    result: list[dict[str, Any]] = in_instance(env, read)
    return result


def test_edit_sets_and_removes_email_and_display_name(initialised_env: dict[str, str]) -> None:
    env = initialised_env
    add(env, "alice")
    result = run(env, "reviewer", "edit", "alice", "--email", "alice@example.org",
                 "--display-name", "Alice  (IT security)")
    assert result.exit_code == 0, result.output
    assert "alice@example.org" in result.output and "Alice (IT security)" in result.output
    assert re.search(r"alice\s+reviewer\s+active\s+no TOTP yet\s+no\s+alice@example\.org\s+"
                     r"Alice \(IT security\)", listed(env))

    assert run(env, "reviewer", "edit", "alice", "--no-email").exit_code == 0
    assert run(env, "reviewer", "edit", "alice", "--no-display-name").exit_code == 0
    assert re.search(r"alice\s+reviewer\s+active\s+no TOTP yet\s+no\s+-\s+-$", listed(env),
                     re.MULTILINE)

    edits = _edits(env)
    assert [(e["email"], e["display_name"]) for e in edits] == [
        ("set", "set"), ("removed", "unchanged"), ("unchanged", "removed")]
    assert all("example.org" not in json.dumps(e) and "IT security" not in json.dumps(e)
               for e in edits)


def test_edit_refuses_what_it_cannot_do(initialised_env: dict[str, str]) -> None:
    env = initialised_env
    add(env, "alice", "reviewer", "--email", "alice@example.org")
    for email in ("not an email", "a@" + "b" * 250 + ".org", "two@a.org, three@b.org"):
        bad = run(env, "reviewer", "edit", "alice", "--email", email)
        assert bad.exit_code == 1, bad.output
        # The same check, and the same words, as `candor reviewer add`.
        assert bad.output.startswith("Error: Enter an email address like name@example"), \
            bad.output
    same = run(env, "reviewer", "edit", "alice", "--email", "alice@example.org")
    assert same.exit_code == 1 and "nothing to change" in same.output
    unknown = run(env, "reviewer", "edit", "nobody", "--email", "n@example.org")
    assert unknown.exit_code == 1 and "no reviewer named" in unknown.output
    nothing = run(env, "reviewer", "edit", "alice")
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
    both = run(env, "reviewer", "edit", "alice", "--email", "x@example.org", "--no-email")
    assert both.exit_code == 2 and "not both" in both.output
    assert _edits(env) == []
    assert re.search(r"alice\s+reviewer\s+active\s+no TOTP yet\s+no\s+alice@example\.org",
                     listed(env))
