"""The `candor` command line, against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli.main import cli
from core.cases.content import ReportContent
from core.categories.intake_routes import set_intake
from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.intake.submission import SubmissionDraft, submit_report
from core.models import Category
from core.services import build_services
from core.staff.accounts import get_reviewer, totp_secret
from core.staff.authentication import confirm_totp
from core.staff.passphrase_change import change_passphrase
from tests.cli.conftest import PASSPHRASE, enrol, enrolment_code, run
from tests.core.factories import another_enrolment_code


def test_help_needs_no_instance() -> None:
    for args in ([], ["reviewer"], ["db"], ["serve", "--help"], ["init", "--help"]):
        result = CliRunner().invoke(cli, [*args, "--help"] if "--help" not in args else args,
                                    env={"CANDOR_DATA_DIR": "/nonexistent"})
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output


def test_init_creates_private_secrets_and_refuses_to_overwrite(env: dict[str, str]) -> None:
    result = run(env, "init", "--recovery-key")
    assert result.exit_code == 0, result.output
    assert re.search(r"CANDOR-RECOVERY-1-[A-Z2-7-]+", result.output)
    secrets_dir = Path(env["CANDOR_DATA_DIR"]) / "secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    for path in secrets_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    before = {p.name: p.read_bytes() for p in secrets_dir.iterdir()}

    again = run(env, "init")
    assert again.exit_code == 1
    assert "refusing to overwrite" in again.output
    assert "Traceback" not in again.output
    assert {p.name: p.read_bytes() for p in secrets_dir.iterdir()} == before


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {"CANDOR_DATA_DIR": str(tmp_path / "data"),
           "CANDOR_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = run(env, "init")
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach the database")
    assert "Traceback" not in result.output
    assert not (tmp_path / "data" / "secrets").exists()


@pytest.mark.parametrize("command", [("audit", "export", "{missing}/log.zip"),
                                     ("backup", "{file}/backup"),
                                     ("report", "--period", "2026-Q4", "--output-dir",
                                      "{file}/reports")])
def test_a_path_that_cannot_be_written_is_one_clear_line(
        initialised_env: dict[str, str], tmp_path: Path, command: tuple[str, ...]) -> None:
    """Outside tester: a folder that does not exist gave a Python traceback."""
    (tmp_path / "a-file").write_text("not a folder")
    places = {"missing": str(tmp_path / "no" / "such"), "file": str(tmp_path / "a-file")}
    result = run(initialised_env, *(part.format(**places) for part in command))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and str(tmp_path) in line


def test_commands_before_init_say_what_to_do(tmp_path: Path) -> None:
    env = {"CANDOR_DATA_DIR": str(tmp_path / "missing")}
    result = run(env, "reviewer", "add", "alice", "--role", "reviewer", "--passphrase-stdin",
                 input=PASSPHRASE + "\n")
    assert result.exit_code == 1
    assert "candor init" in result.output


def test_reviewer_lifecycle(env: dict[str, str]) -> None:
    assert run(env, "init").exit_code == 0
    added = run(env, "reviewer", "add", "Alice", "--role", "reviewer", "--passphrase-stdin",
                input=PASSPHRASE + "\n")
    assert added.exit_code == 0, added.output
    assert "otpauth://totp/Candor:alice?secret=" in added.output

    duplicate = run(env, "reviewer", "add", "alice", "--role", "admin", "--passphrase-stdin",
                    input=PASSPHRASE + "\n")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output

    bad_role = run(env, "reviewer", "add", "bob", "--role", "superuser", "--passphrase-stdin",
                   input=PASSPHRASE + "\n")
    assert bad_role.exit_code == 2 and "superuser" in bad_role.output

    weak = run(env, "reviewer", "add", "bob", "--role", "auditor", "--passphrase-stdin",
               input="password1234\n")
    assert weak.exit_code == 1 and "too easy to guess" in weak.output
    for email in ("not an email", "a@" + "b" * 250 + ".org", "two@a.org, three@b.org"):
        bad_email = run(env, "reviewer", "add", "bob", "--role", "auditor", "--email", email,
                        "--passphrase-stdin", input=PASSPHRASE + "\n")
        assert bad_email.exit_code == 1, bad_email.output
        assert bad_email.output.startswith("Error: Enter an email address like name@example"), \
            bad_email.output
    assert run(env, "remind", "--days", "-5").exit_code == 2

    listed = run(env, "reviewer", "list")
    assert listed.exit_code == 0
    assert re.search(r"alice\s+reviewer\s+active", listed.output)
    assert "bob" not in listed.output

    assert run(env, "reviewer", "deactivate", "alice").exit_code == 0
    assert re.search(r"alice\s+reviewer\s+deactivated", run(env, "reviewer", "list").output)
    again = run(env, "reviewer", "deactivate", "alice")
    assert again.exit_code == 1 and "already deactivated" in again.output
    unknown = run(env, "reviewer", "deactivate", "nobody")
    assert unknown.exit_code == 1 and "no reviewer named" in unknown.output


def test_db_upgrade_is_repeatable(env: dict[str, str]) -> None:
    assert run(env, "init").exit_code == 0
    for _ in range(2):
        result = run(env, "db", "upgrade")
        assert result.exit_code == 0 and "up to date" in result.output


def test_reset_passphrase_then_recover(env: dict[str, str]) -> None:
    init = run(env, "init", "--recovery-key")
    recovery_text = re.search(r"CANDOR-RECOVERY-1-[A-Z2-7-]+", init.output).group(0)
    assert run(env, "reviewer", "add", "carol", "--role", "reviewer", "--passphrase-stdin",
               input=PASSPHRASE + "\n").exit_code == 0

    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:  # carol enrols in the console: her own passphrase
        carol = get_reviewer(session, "carol")
        code = pyotp.TOTP(totp_secret(services, carol)).now()
        assert confirm_totp(session, services, carol, code)
        change_passphrase(session, services, carol, PASSPHRASE, "carol's own quartz meadow 7")
        for category in session.query(Category).all():
            set_intake(session, services.keyring, category.code, [carol])
    with transaction(factory) as session:
        submit_report(session, services, SubmissionDraft(), category_code="it_fault",
                      report=ReportContent(summary="VPN drops every hour"))

    reset = run(env, "reviewer", "reset-passphrase", "carol")
    assert reset.exit_code == 0 and "One-time passphrase" in reset.output
    early = run(env, "recover", "carol", "--key-stdin", input=recovery_text + "\n")
    assert early.exit_code == 1 and "no key pair yet" in early.output
    one_time = reset.output.split("One-time passphrase for 'carol':")[1].split()[0]
    with transaction(factory) as session:  # she logs in again and chooses a passphrase
        change_passphrase(session, services, get_reviewer(session, "carol"), one_time,
                          "carol's new quartz meadow 8")
    wrong = run(env, "recover", "carol", "--key-stdin", input="CANDOR-RECOVERY-1-AAAA\n")
    assert wrong.exit_code == 1 and "Traceback" not in wrong.output
    recovered = run(env, "recover", "carol", "--key-stdin", input=recovery_text + "\n")
    assert recovered.exit_code == 0, recovered.output
    assert "Re-granted 1 case(s)" in recovered.output
    engine.dispose()


def test_cleanup_removes_orphans_and_keeps_referenced_blobs(env: dict[str, str]) -> None:
    from datetime import UTC, datetime, timedelta

    from core.blobs import FileSystemBlobStore

    assert run(env, "init").exit_code == 0
    config = load_config(env)
    store = FileSystemBlobStore(config.blob_dir)
    # Days in UTC, as the portal writes them; the fresh blob is kept even if UTC midnight
    # passes before the command runs.
    today = datetime.now(UTC).date()
    # Blob dates may be a week's Monday: the orphan is old enough even if it stands for Sunday.
    orphan, _ = store.write([b"ciphertext nobody references"], day=today - timedelta(days=8))
    fresh, _ = store.write([b"an upload still in flight"], day=today)
    result = run(env, "cleanup")
    assert result.exit_code == 0, result.output
    assert "Removed 1 orphaned blob(s)" in result.output
    remaining = {blob_id for blob_id, _day in store.list_blobs()}
    assert orphan not in remaining and fresh in remaining


def test_reviewer_list_columns_line_up(env: dict[str, str]) -> None:
    """A username shorter than the USERNAME header used to push the header out of line."""
    assert run(env, "init").exit_code == 0
    for name, role in (("al", "auditor"), ("bo", "reviewer")):
        assert run(env, "reviewer", "add", name, "--role", role, "--passphrase-stdin",
                   input=PASSPHRASE + "\n").exit_code == 0
    lines = run(env, "reviewer", "list").output.splitlines()
    columns = ["USERNAME", "ROLE", "STATE", "ENROLMENT", "CUSTODIAN", "EMAIL", "DISPLAY-NAME"]
    assert lines[0].split() == columns
    for column in columns[1:]:
        start = lines[0].index(column)
        for line in lines[1:]:
            assert line[start - 2:start] == "  " and line[start] != " ", (column, lines)
    assert all(line == line.rstrip() for line in lines)


def test_custodian_role_from_the_command_line(env: dict[str, str]) -> None:
    """The operator names identity custodians (bootstrap, before a second admin exists); an
    account that has not chosen its own passphrase yet cannot hold identity keys."""
    assert run(env, "init").exit_code == 0
    assert run(env, "reviewer", "add", "kim", "--role", "reviewer", "--passphrase-stdin",
               input=PASSPHRASE + "\n").exit_code == 0
    early = run(env, "reviewer", "custodian", "kim")
    assert early.exit_code == 1 and "cannot hold identity keys" in early.output
    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    with transaction(make_session_factory(engine)) as session:
        kim = get_reviewer(session, "kim")
        assert confirm_totp(session, services, kim, pyotp.TOTP(totp_secret(services, kim)).now())
        change_passphrase(session, services, kim, PASSPHRASE, "kim's own quartz meadow 9")
    engine.dispose()
    given = run(env, "reviewer", "custodian", "kim")
    assert given.exit_code == 0 and "is an identity custodian" in given.output
    taken = run(env, "reviewer", "custodian", "kim", "--remove")
    assert taken.exit_code == 0 and "no longer" in taken.output


def _refused_approvals(env: dict[str, str]) -> list[dict[str, object]]:
    """The details of the access log's refusals of `candor reviewer approve`."""
    engine = make_engine(load_config(env).database_url)
    with engine.connect() as connection:
        details = connection.execute(text(
            "SELECT detail FROM audit_events WHERE action = 'access:refuse'")).scalars().all()
    engine.dispose()
    return [d for d in map(json.loads, details) if d.get("endpoint") == "cli:reviewer approve"]


def test_the_operator_approves_and_confirms_accounts(env: dict[str, str]) -> None:
    """`candor reviewer approve` for an account a console admin made or reset, when there is
    no second admin; `candor reviewer confirm` for an account whose record someone changed
    in the database (both audited, both refuse when there is nothing to do)."""
    assert run(env, "init").exit_code == 0
    assert run(env, "reviewer", "add", "kim", "--role", "reviewer", "--passphrase-stdin",
               input=PASSPHRASE + "\n").exit_code == 0
    nothing = run(env, "reviewer", "approve", "kim", "--code", "1234 5678 9012")
    assert nothing.exit_code == 1 and "not waiting for approval" in nothing.output
    config = load_config(env)
    engine = make_engine(config.database_url)
    with engine.begin() as connection:  # a database writer
        connection.execute(text("UPDATE reviewers SET identity_custodian = :yes, "
                                "approved = :no WHERE username = 'kim'"),
                           {"yes": True, "no": False})
    engine.dispose()
    # Approving would vouch for the writer's flags.
    tampered = run(env, "reviewer", "approve", "kim", "--code", "1234 5678 9012")
    assert tampered.exit_code == 1 and "changed outside Candor" in tampered.output
    refused = run(env, "reviewer", "confirm", "kim", input="n\n")
    assert refused.exit_code == 1 and "identity custodian yes" in refused.output
    assert ("Changed outside Candor: approved yes -> no; identity custodian no -> yes."
            in refused.output)
    assert run(env, "reviewer", "confirm", "kim", "--yes").exit_code == 0
    early = run(env, "reviewer", "approve", "kim", "--code", "1234 5678 9012")
    assert early.exit_code == 1 and "has not completed enrolment yet" in early.output
    enrol(env, "kim", PASSPHRASE)
    uncoded = run(env, "reviewer", "approve", "kim")  # the owner's code, as in the console
    assert uncoded.exit_code == 2 and "Missing option '--code'" in uncoded.output
    mistyped = run(env, "reviewer", "approve", "kim", "--code", "1234 5678 9012")
    assert mistyped.exit_code == 1 and "typing error" in mistyped.output
    assert _refused_approvals(env) == []  # a typing error is no attempt
    wrong = run(env, "reviewer", "approve", "kim", "--code",
                another_enrolment_code(enrolment_code(env, "kim")))
    assert wrong.exit_code == 1 and "not the one shown" in wrong.output, wrong.output
    # Logged, as the console logs an admin's wrong code: never the code itself.
    [refusal] = _refused_approvals(env)
    assert refusal["endpoint"] == "cli:reviewer approve" and refusal["status"] == 403
    assert enrolment_code(env, "kim").replace(" ", "")[:6] not in json.dumps(refusal)
    approved = run(env, "reviewer", "approve", "kim", "--code", enrolment_code(env, "kim"))
    assert approved.exit_code == 0 and "Approved 'kim'" in approved.output, approved.output
    again = run(env, "reviewer", "confirm", "kim", "--yes")
    assert again.exit_code == 1 and "nothing to confirm" in again.output
