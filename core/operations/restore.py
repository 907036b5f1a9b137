"""`candor restore SRC`: a backup (core.operations.backup) onto an empty instance.

Refused unless the data directory holds no instance data (only `secrets/`, `candor.toml`,
`recovery.pub` or an empty database file may be there already) and the database is empty,
and unless every file of the backup matches its manifest. The schema is created by the
migrations, at the backup's revision; then the blobs are stored under their ids and days
(before the rows, as the apps write them), and the rows are inserted, parents first, in one
transaction that also restores audit/. A failure before the commit removes the blobs and
audit/ files it wrote, so the instance is empty again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    MetaData,
    column,
    func,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from core.blobs import BlobStore
from core.db import make_engine
from core.operations.backup_format import (
    AUDIT_DIR,
    BATCH_ROWS,
    INSTANCE_DIR,
    INSTANCE_FILES,
    BackupBlobs,
    BackupError,
    Progress,
    blob_index,
    copy_file,
    digest_file,
    hashed,
    no_progress,
    open_table,
)
from core.operations.backup_manifest import Manifest, read_manifest
from core.operations.backup_verify import check_backup
from core.schema import SCHEMA_REVISION, VERSION_TABLE, database_revision

#: What may already be in the data directory: the secrets (copied back before or after),
#: settings, the recovery key's public half, and the (empty) blob store and audit folder.
_ALLOWED = frozenset({"secrets", "candor.toml", "recovery.pub", "blobs", AUDIT_DIR})


@dataclass
class RestoreSummary:
    """What was restored, and what the operator should know."""

    manifest: Manifest
    rows: int = 0
    blobs: int = 0
    #: Entries of the access log restored (anything logged after the backup is gone).
    log_size: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def audit_files(self) -> int:
        """How many files of audit/ were restored."""
        return sum(name.startswith(f"{AUDIT_DIR}/") for name in self.manifest.files)

    @property
    def needs_upgrade(self) -> bool:
        """The backup is older than this code: `candor db upgrade` comes next."""
        return self.manifest.schema_revision != SCHEMA_REVISION


def restore_backup(source: Path, *, database_url: str, data_dir: Path, blobs: BlobStore,
                   create_schema: Callable[[str], None],
                   progress: Progress = no_progress) -> RestoreSummary:
    """Restore `source` into an empty data directory, blob store and database.
    `create_schema(revision)` runs the migrations up to `revision`."""
    manifest = read_manifest(source)
    if int(manifest.schema_revision) > int(SCHEMA_REVISION):
        raise BackupError(f"the backup is at migration {manifest.schema_revision}, newer than "
                          f"this version of Candor ({SCHEMA_REVISION}): restore it with the "
                          "version that made it, or a newer one")
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        has_schema = _check_target(engine, database_url, data_dir, blobs, manifest)
        findings = check_backup(source, manifest, progress)
        if findings.problems:
            raise BackupError(f"the backup fails its checks ({findings.problems[0]}"
                              f"{'; ...' if len(findings.problems) > 1 else ''}); nothing "
                              "was restored (`candor backup --verify` lists every problem)")
        if not has_schema:
            create_schema(manifest.schema_revision)
        summary = RestoreSummary(manifest)
        _restore(source, engine, data_dir, blobs, summary, progress)
    finally:
        engine.dispose()
    summary.notes.extend(_restore_instance_files(source, manifest, data_dir))
    lost = sorted({m.case_reference or "?" for m in manifest.missing_blobs if m.lost})
    if lost:
        summary.notes.append(f"files of case(s) {', '.join(lost)} were already missing when "
                             "the backup was taken; their downloads fail")
    return summary


def _check_target(engine: Engine, database_url: str, data_dir: Path, blobs: BlobStore,
                  manifest: Manifest) -> bool:
    """Refuse a target holding anything; return whether the (empty) schema exists."""
    allowed = set(_ALLOWED)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        name = Path(url.database).name
        allowed |= {name, f"{name}-wal", f"{name}-shm", f"{name}-journal"}
    if data_dir.is_dir():
        others = sorted(p.name for p in data_dir.iterdir() if p.name not in allowed)
        if others:
            raise BackupError(f"the data directory {data_dir} is not empty (it holds "
                              f"{', '.join(others[:3])}): restore into an empty one")
        audit = data_dir / AUDIT_DIR
        if audit.is_dir() and any(p.is_file() for p in audit.rglob("*")):
            raise BackupError(f"{audit} is not empty: restore into an empty data directory")
    if next(iter(blobs.list_blobs()), None) is not None:
        raise BackupError("the blob store already holds files: restore into an empty one")
    with engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
        if not names:
            return False
        revision = database_revision(connection)
        if revision != manifest.schema_revision or not _empty(connection, names):
            raise BackupError("the database is not empty: restore needs an empty database "
                              "(create a new one, or drop this one's tables)")
    return True


def _empty(connection: Connection, names: set[str]) -> bool:
    """Whether the tables hold no rows but the migrations' own (the log's empty head)."""
    for name in names - {VERSION_TABLE}:
        if name == "audit_head":
            sizes = connection.execute(
                select(column("size", BigInteger)).select_from(table(name))).scalars().all()
            if any(size != 0 for size in sizes):
                return False
        elif connection.execute(select(func.count()).select_from(table(name))).scalar_one():
            return False
    return True


def _restore(source: Path, engine: Engine, data_dir: Path, blobs: BlobStore,
             summary: RestoreSummary, progress: Progress) -> None:
    """Blobs, then rows and audit/ in one transaction; undone on failure."""
    stored: list[str] = []
    audit = data_dir / AUDIT_DIR
    audit_existed = audit.exists()
    try:
        _put_blobs(source, summary.manifest, blobs, stored, progress)
        summary.blobs = len(stored)
        with engine.begin() as connection:
            summary.rows = _insert_rows(connection, source, summary.manifest, progress)
            summary.log_size = connection.execute(
                select(column("size", BigInteger)).select_from(table("audit_head"))
            ).scalar_one()
            _restore_audit(source, summary.manifest, audit)
    except SQLAlchemyError as exc:
        _undo(blobs, stored, audit, audit_existed)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise BackupError(f"the database refused the backup's rows ({reason}); nothing was "
                          "restored") from None
    except BaseException:
        _undo(blobs, stored, audit, audit_existed)
        raise


def _undo(blobs: BlobStore, stored: list[str], audit: Path, audit_existed: bool) -> None:
    for blob_id in stored:
        blobs.delete(blob_id)
    if audit.is_dir():
        if audit_existed:
            for entry in audit.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        else:
            shutil.rmtree(audit)


def _put_blobs(source: Path, manifest: Manifest, blobs: BlobStore, stored: list[str],
               progress: Progress) -> None:
    reader = BackupBlobs(source)
    with progress("Blobs", manifest.blob_count) as advance:
        for entry in blob_index(source):
            digest = hashlib.sha256()
            size = blobs.put(entry.blob_id, hashed(reader.read(entry.blob_id), digest),
                             day=entry.day)
            stored.append(entry.blob_id)
            if size != entry.size or digest.hexdigest() != entry.sha256:
                raise BackupError(f"blob {entry.blob_id} changed while it was restored")
            advance(1)


def _insert_rows(connection: Connection, source: Path, manifest: Manifest,
                 progress: Progress) -> int:
    """Insert every table's rows in the manifest's (foreign-key) order; return how many."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    present = set(metadata.tables) - {VERSION_TABLE}
    named = {entry.name for entry in manifest.tables}
    if present != named:
        raise BackupError(f"the tables of migration {manifest.schema_revision} are not the "
                          f"backup's ({', '.join(sorted(present ^ named)[:3])} differ)")
    for entry in reversed(manifest.tables):  # what the migrations put in
        connection.execute(metadata.tables[entry.name].delete())
    total = 0
    with progress("Tables", sum(entry.rows for entry in manifest.tables)) as advance:
        for entry in manifest.tables:
            target = metadata.tables[entry.name]
            with open_table(source / entry.file) as (header, rows):
                if {name for name, _ in header.columns} != set(target.columns.keys()):
                    raise BackupError(f"{entry.file}: its columns are not those of "
                                      f"migration {manifest.schema_revision}")
                total += _insert_table(connection, target, rows, advance)
    if connection.dialect.name == "postgresql":
        _reset_sequences(connection, metadata)
    return total


def _insert_table(connection: Connection, target: Any, rows: Any,
                  advance: Callable[[int], None]) -> int:
    """Insert in batches. A column referring to its own table (a correction pointing at the
    entry it corrects) is filled in afterwards, so that row order does not matter."""
    own = [fk.parent.name for fk in target.foreign_keys if fk.column.table is target]
    keys = [c.name for c in target.primary_key.columns]
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        if own and any(row[name] is not None for name in own):
            later.append({name: row[name] for name in (*keys, *own)})
            row = {**row, **dict.fromkeys(own)}
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            connection.execute(target.insert(), batch)
            count += len(batch)
            advance(len(batch))
            batch = []
    if batch:
        connection.execute(target.insert(), batch)
        count += len(batch)
        advance(len(batch))
    for values in later:
        condition = [target.c[name] == values[name] for name in keys]
        connection.execute(target.update().where(*condition)
                           .values({name: values[name] for name in own}))
    return count


def _reset_sequences(connection: Connection, metadata: MetaData) -> None:
    """Move each sequence-backed key past the restored ids."""
    for target in metadata.sorted_tables:
        for key in target.primary_key.columns:
            sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                          {"t": target.name, "c": key.name}).scalar()
            if sequence:
                highest = select(func.max(key)).scalar_subquery()
                connection.execute(select(func.setval(
                    sequence, func.coalesce(highest, 0) + 1, False)))


def _restore_audit(source: Path, manifest: Manifest, audit: Path) -> None:
    prefix = f"{AUDIT_DIR}/"
    for name, expected in manifest.files.items():
        if name.startswith(prefix):
            written = copy_file(source / name, audit / name[len(prefix):])
            if written != expected:
                raise BackupError(f"{name} changed while it was restored")


def _restore_instance_files(source: Path, manifest: Manifest, data_dir: Path) -> list[str]:
    """recovery.pub and candor.toml, unless the data directory has its own."""
    notes = []
    for name in INSTANCE_FILES:
        stored = f"{INSTANCE_DIR}/{name}"
        if stored not in manifest.files:
            continue
        target = data_dir / name
        if not target.exists():
            copy_file(source / stored, target)
            if name == "recovery.pub":
                os.chmod(target, 0o644)  # a public key
        elif digest_file(target) != manifest.files[stored]:
            notes.append(f"kept the data directory's own {name}, which differs from the "
                         "backup's")
    return notes
