"""`candor backup`, `candor backup --verify` and `candor restore` end to end (SQLite and
PostgreSQL): a backup restored into a new, empty instance opens with its receipt code and
passes `candor audit verify`; every refusal is one line and a non-zero exit status."""

from __future__ import annotations

import io
import json
import re
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from cli import backup_commands
from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.intake.reporter import login_submitter, open_file_for_submitter
from core.keyring import _SECRET_SIZES, Keyring, write_keyring
from core.models import Attachment
from core.operations.backup_manifest import read_manifest
from core.services import build_services
from crypto.recovery import export_private_key, generate_recovery_key
from tests.cli.backup_instance import FILE, Instance, no_secret_in
from tests.cli.conftest import run


def test_backup_verify_restore_round_trip(instance: Instance, empty_target: dict[str, str],
                                          tmp_path: Path) -> None:
    destination = tmp_path / "backup"
    made = run(instance.env, "backup", str(destination))
    assert made.exit_code == 0, made.output
    no_secret_in(made.output, instance)
    secrets_dir = Path(instance.env["CANDOR_DATA_DIR"]) / "secrets"
    assert f"NOT in the backup: {secrets_dir}" in made.output
    assert "Without it, a restored instance opens nothing" in made.output
    assert re.search(r"1 encrypted files \(\d+\.\d KiB\)", made.output)
    assert stat.S_IMODE(destination.stat().st_mode) == 0o700
    for path in destination.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    assert not (destination / "secrets").exists()

    checked = run({}, "backup", "--verify", str(destination))
    assert checked.exit_code == 0, checked.output
    assert "The backup is whole." in checked.output
    key_file = tmp_path / "recovery.txt"
    key_file.write_text(instance.recovery_key + "\n")
    opened = run({}, "backup", "--verify", str(destination), "--recovery-key", str(key_file))
    assert opened.exit_code == 0, opened.output
    assert "Opened 1 sampled case(s) with the recovery key: the report, 0 message(s) and " \
           "1 file(s)" in opened.output
    no_secret_in(opened.output, instance)
    from_stdin = run({}, "backup", "--verify", str(destination), "--recovery-key", "-",
                     input=instance.recovery_key + "\n")
    assert from_stdin.exit_code == 0, from_stdin.output
    other = export_private_key(generate_recovery_key().private_key)
    wrong = run({}, "backup", "--verify", str(destination), "--recovery-key", "-",
                input=other + "\n")
    assert wrong.exit_code == 1 and "not the recovery key of this instance" in wrong.output

    restored = run(empty_target, "restore", str(destination))
    assert restored.exit_code == 0, restored.output
    no_secret_in(restored.output, instance)
    target_dir = Path(empty_target["CANDOR_DATA_DIR"])
    assert f"copy secrets/ back from where you keep it into {target_dir / 'secrets'}" \
        in restored.output
    assert "pepper, receipt_salt, audit_signing_key, totp_key, cookie_key" in restored.output
    assert "candor backup --verify" in restored.output
    assert re.search(r"The access log is back at \d+ entries: tell the auditors",
                     restored.output)
    assert (target_dir / "recovery.pub").read_text() == (
        Path(instance.env["CANDOR_DATA_DIR"]) / "recovery.pub").read_text()
    again = run(empty_target, "restore", str(destination))
    assert again.exit_code == 1 and "not empty" in again.output

    shutil.copytree(secrets_dir, target_dir / "secrets")  # the operator brings them back
    assert run(empty_target, "audit", "checkpoint").exit_code == 0
    export = tmp_path / "audit.zip"
    assert run(empty_target, "audit", "export", str(export)).exit_code == 0
    key = run(empty_target, "audit", "key").output.splitlines()[0]
    assert key == run(instance.env, "audit", "key").output.splitlines()[0]
    verified = run({}, "audit", "verify", str(export), "--public-key", key)
    assert verified.exit_code == 0, verified.output

    config = load_config(empty_target)
    services = build_services(config)
    engine = make_engine(config.database_url)
    with transaction(make_session_factory(engine)) as session:
        access = login_submitter(session, services, instance.receipt)
        file_id = session.execute(select(Attachment.id)).scalar_one()
        _meta, stream = open_file_for_submitter(session, services, access, file_id)
        assert b"".join(stream) == FILE
    engine.dispose()


def test_refusals_are_one_line_and_a_failure_status(instance: Instance,
                                                    empty_target: dict[str, str],
                                                    tmp_path: Path) -> None:
    destination = tmp_path / "backup"
    (destination / "old").mkdir(parents=True)
    taken = run(instance.env, "backup", str(destination))
    assert taken.exit_code == 1 and "is not empty; back up into a new directory" in taken.output
    shutil.rmtree(destination)
    assert run(instance.env, "backup", str(destination)).exit_code == 0
    usage = run(instance.env, "backup", str(tmp_path / "x"), "--recovery-key", "-")
    assert usage.exit_code == 2 and "--recovery-key goes with --verify" in usage.output

    onto_itself = run(instance.env, "restore", str(destination))
    assert onto_itself.exit_code == 1 and "is not empty" in onto_itself.output

    def tampered(change: str) -> Path:
        copy = tmp_path / change
        shutil.copytree(destination, copy)
        return copy

    flipped = tampered("blob")
    blob = next(p for p in (flipped / "blobs").rglob("*") if p.is_file())
    data = bytearray(blob.read_bytes())
    data[100] ^= 0x80
    blob.write_bytes(bytes(data))
    checked = run({}, "backup", "--verify", str(flipped))
    assert checked.exit_code == 1
    assert f"blob {blob.name}: differs from the index (altered or damaged)" in checked.output
    refused = run(empty_target, "restore", str(flipped))
    assert refused.exit_code == 1 and "the backup fails its checks" in refused.output

    edited = tampered("manifest")
    body = json.loads((edited / "manifest.json").read_text())
    body["tables"][0]["rows"] += 1
    (edited / "manifest.json").write_text(json.dumps(body))
    for args in (("restore", str(edited)), ("backup", "--verify", str(edited))):
        result = run(empty_target, *args)
        assert result.exit_code == 1 and "altered or damaged" in result.output

    newer = tampered("newer")
    manifest = replace(read_manifest(newer), schema_revision="9999")
    (newer / "manifest.json").write_text(manifest.to_json())
    result = run(empty_target, "restore", str(newer))
    assert result.exit_code == 1 and "at migration 9999, newer than this version" in result.output

    not_a_backup = run(empty_target, "restore", str(tmp_path))
    assert not_a_backup.exit_code == 1 and "has no manifest.json" in not_a_backup.output
    for result in (taken, usage, onto_itself, checked, refused, result, not_a_backup):
        assert "Traceback" not in result.output
    assert not Path(empty_target["CANDOR_DATA_DIR"], "audit").exists()


def test_the_named_secret_files_are_the_keyrings() -> None:
    assert set(backup_commands.SECRET_FILES) == set(_SECRET_SIZES)


def test_progress_bars_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(backup_commands.sys, "stderr", terminal)
    with backup_commands._progress()("Blobs", 4) as advance:
        advance(4)
    assert "Blobs" in terminal.getvalue() and "100%" in terminal.getvalue()


@pytest.mark.parametrize("own", [True, False])
def test_restore_checks_secrets_already_in_place(own: bool, instance: Instance,
                                                 empty_target: dict[str, str],
                                                 tmp_path: Path) -> None:
    """Secrets copied back before the restore are checked against the backup's newest
    checkpoint: another instance's would open nothing."""
    destination = tmp_path / "backup"
    assert run(instance.env, "backup", str(destination)).exit_code == 0
    target = load_config(empty_target)
    if own:
        shutil.copytree(Path(instance.env["CANDOR_DATA_DIR"]) / "secrets", target.secrets_dir)
    else:
        write_keyring(target, Keyring.generate())
    restored = run(empty_target, "restore", str(destination))
    assert restored.exit_code == 0, restored.output
    if own:
        assert (f"{target.secrets_dir} is already in place; its key signed the backup's "
                "newest checkpoint.") in restored.output
    else:
        assert f"Warning: {target.secrets_dir} is not this backup's" in restored.output


def test_a_destroyed_case_is_not_sampled_as_missing_its_key(instance: Instance,
                                                            tmp_path: Path) -> None:
    """Outside tester: after `candor retention run`, `backup --verify --recovery-key` said
    the destroyed cases "have no recovery grant (made before the recovery key existed)"."""
    from datetime import timedelta

    from sqlalchemy import update

    from core.audit.log import Actor
    from core.cases.shredding import destroy_case_content
    from core.models import Case, CaseStatus

    config = load_config({**instance.env, "CANDOR_RETENTION_DAYS": "1"})
    services = build_services(config)
    engine = make_engine(config.database_url)
    factory = make_session_factory(engine)
    closed = services.clock.today() - timedelta(days=3)
    with transaction(factory) as session:  # the case closed three days ago: due
        session.execute(update(Case).values(status=CaseStatus.CLOSED, closed_on=closed))
        (case_id,) = session.execute(select(Case.id)).scalars()
        assert destroy_case_content(session, services, case_id, Actor.system()) is not None
    engine.dispose()
    destination = tmp_path / "backup"
    assert run(instance.env, "backup", str(destination)).exit_code == 0
    opened = run({}, "backup", "--verify", str(destination), "--recovery-key", "-",
                 input=instance.recovery_key + "\n")
    assert opened.exit_code == 0, opened.output
    assert "no recovery grant" not in opened.output
    assert "1 case(s) were not sampled: retention destroyed their content." in opened.output
