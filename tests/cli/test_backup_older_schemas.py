"""A backup Candor made at an earlier migration restores into today's Candor, then `candor
db upgrade` brings it up to date: the report opens with its receipt code, the later
features work, and the audit log verifies.

When a migration adds a table or a column, add it to ADDED_SINCE or ADDED_COLUMNS_SINCE.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.intake.reporter import login_submitter, open_file_for_submitter
from core.models import Attachment
from core.operations.backup_format import FileDigest
from core.operations.backup_manifest import read_manifest
from core.services import build_services
from core.staff.accounts import get_reviewer
from tests.cli.backup_instance import FILE, Instance, no_secret_in
from tests.cli.conftest import run

#: Tables the migrations after each revision added, and nothing else but the columns of
#: ADDED_COLUMNS_SINCE: a backup Candor made at an earlier revision is a backup of today's
#: minus these.
ADDED_SINCE = {"0012": ("statistics_months", "statistics_cells", "category_examples",
                        "submission_tokens"),
               "0013": ("category_examples", "submission_tokens"),
               "0014": ("submission_tokens",), "0015": ("submission_tokens",),
               "0016": ("submission_tokens",), "0017": (), "0018": ()}
#: Columns the migrations added to tables that were already there: (the migration, table,
#: column). ADDED_COLUMNS_SINCE[revision] are those a backup made at `revision` lacks.
_COLUMNS = (("0015", "categories", "keywords"), ("0016", "staff_changes", "display_name"),
            ("0018", "reviewers", "standing_tag"), ("0018", "case_members", "member_tag"),
            ("0018", "reviewer_sessions", "session_tag"),
            ("0019", "category_intake", "route_tag"),
            ("0019", "identity_requests", "approval_tag"),
            ("0019", "identity_requests", "request_tag"),
            ("0019", "staff_changes", "change_tag"), ("0019", "cases", "lead_tag"),
            ("0021", "statistics_months", "changed_on"))


def _columns_after(revision: str) -> dict[str, tuple[str, ...]]:
    added: dict[str, tuple[str, ...]] = {}
    for since, table, column in _COLUMNS:
        if since > revision:
            added[table] = (*added.get(table, ()), column)
    return added


ADDED_COLUMNS_SINCE = {revision: _columns_after(revision) for revision in ADDED_SINCE}


def _without_columns(path: Path, columns: tuple[str, ...]) -> FileDigest:
    """Rewrite the table file at `path` without `columns`; its new size and digest."""
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    head = json.loads(header)
    kept = [i for i, (name, _code) in enumerate(head["columns"]) if name not in columns]
    assert len(kept) == len(head["columns"]) - len(columns), "a column to drop is missing"
    head["columns"] = [head["columns"][i] for i in kept]
    lines = [json.dumps(head)] + [json.dumps([json.loads(row)[i] for i in kept])
                                  for row in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    data = path.read_bytes()
    return FileDigest(len(data), hashlib.sha256(data).hexdigest())


def _as_made_at(backup: Path, revision: str, copy: Path) -> Path:
    """`backup` as Candor at `revision` would have written it: without the tables and
    columns later migrations added, and the manifest saying so (its digests match every
    file)."""
    shutil.copytree(backup, copy)
    manifest = read_manifest(copy)
    later = {entry.file for entry in manifest.tables if entry.name in ADDED_SINCE[revision]}
    assert len(later) == len(ADDED_SINCE[revision])
    for name in later:
        (copy / name).unlink()
    files = {name: d for name, d in manifest.files.items() if name not in later}
    for entry in manifest.tables:
        if entry.name in ADDED_COLUMNS_SINCE[revision] and entry.file not in later:
            files[entry.file] = _without_columns(copy / entry.file,
                                                 ADDED_COLUMNS_SINCE[revision][entry.name])
    older = replace(manifest, schema_revision=revision,
                    tables=tuple(t for t in manifest.tables if t.file not in later),
                    files=files)
    (copy / "manifest.json").write_text(older.to_json())
    return copy


@pytest.mark.parametrize("revision", sorted(ADDED_SINCE))
def test_a_backup_of_an_earlier_migration_restores_then_upgrades(
        revision: str, instance: Instance, empty_target: dict[str, str],
        tmp_path: Path) -> None:
    """The README's path for a backup older than the installed Candor: restored at its own
    revision, refused by the apps until `candor db upgrade`, then whole: the reporter's
    receipt opens the case and its file, the access log verifies, and the tables the later
    migrations added work (statistics are counted, a category is confirmed, keywords start
    empty and can be given)."""
    from core.cases.casework import UnlockedReviewer
    from core.cases.recategorise import set_category
    from core.models import Case, CategoryExample
    from core.schema import SCHEMA_REVISION, SchemaOutdated, check_schema
    from crypto.reviewer_keys import unwrap_private_key

    assert run(instance.env, "backup", str(tmp_path / "backup")).exit_code == 0
    older = _as_made_at(tmp_path / "backup", revision, tmp_path / f"backup-{revision}")
    assert run({}, "backup", "--verify", str(older)).exit_code == 0

    restored = run(empty_target, "restore", str(older))
    assert restored.exit_code == 0, restored.output
    assert f"The backup is at migration {revision}: then run `candor db upgrade`." \
        in restored.output
    no_secret_in(restored.output, instance)
    config = load_config(empty_target)
    engine = make_engine(config.database_url)
    try:
        with pytest.raises(SchemaOutdated, match=f"at migration {revision}; missing"):
            check_schema(engine)
        # The README's order: secrets/ back first (the upgrade tags rows with their key).
        without = run(empty_target, "db", "upgrade")
        assert without.exit_code == 1 and "copy secrets/ back first" in without.output
        shutil.copytree(Path(instance.env["CANDOR_DATA_DIR"]) / "secrets", config.secrets_dir)
        upgraded = run(empty_target, "db", "upgrade")
        assert upgraded.exit_code == 0, upgraded.output
        check_schema(engine)  # now at SCHEMA_REVISION
        services = build_services(config)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            access = login_submitter(session, services, instance.receipt)
            file_id = session.execute(select(Attachment.id)).scalar_one()
            _meta, stream = open_file_for_submitter(session, services, access, file_id)
            assert b"".join(stream) == FILE
        with transaction(factory) as session:
            account = get_reviewer(session, "carol")
            assert account.wrapped_private_key is not None
            carol = UnlockedReviewer(reviewer_id=account.id, private_key=unwrap_private_key(
                account.wrapped_private_key, "carol's own quartz meadow 7"))
            case_id = session.execute(select(Case.id)).scalar_one()
            set_category(session, services, carol, case_id, "security")
        with factory() as session:
            assert session.get(CategoryExample, case_id) is not None
    finally:
        engine.dispose()
    today = services.clock.today()
    report = run(empty_target, "report", "--period", f"{today.year}-{today.month:02d}",
                 "--format", "html", "--output-dir", str(tmp_path / "review"))
    assert report.exit_code == 0, report.output
    html = next((tmp_path / "review").glob("*.html")).read_text("utf-8")
    assert 'id="review-total">' in html
    assert "keywords:          (none)" in run(empty_target, "category", "show", "security").output
    assert run(empty_target, "category", "edit", "security", "--keywords", "badge").exit_code == 0
    assert run(empty_target, "audit", "checkpoint").exit_code == 0
    export = tmp_path / "audit.zip"
    assert run(empty_target, "audit", "export", str(export)).exit_code == 0
    key = run(empty_target, "audit", "key").output.splitlines()[0]
    verified = run({}, "audit", "verify", str(export), "--public-key", key)
    assert verified.exit_code == 0, verified.output
    assert SCHEMA_REVISION not in ADDED_SINCE  # the newest revision is today's backup


