"""`candor backup DEST`: a consistent copy of a running instance (core.operations.backup_format
describes what is written).

The apps keep running. Every table is read in ONE read transaction, so the rows agree with
each other whatever is written meanwhile: on PostgreSQL REPEATABLE READ, READ ONLY; on SQLite
a deferred read transaction on a connection of its own (WAL lets it read its snapshot while
the apps write; core.db's engines would begin it IMMEDIATE and hold off every writer until
the backup ends). The only moment writers wait is while audit/ is copied: the access log's
head is locked meanwhile, as a checkpoint locks it, so that the copied folder and the
snapshot describe the same log (a folder ahead of the database would make the restored
instance's next checkpoint report removed entries). Then the blobs the snapshot references
are copied through the blob store's interface; blobs are written before the rows that
reference them, so each one exists unless it was deleted after the snapshot (checked again
when missing). The manifest is written last.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from core.audit.log import locked_head
from core.blobs import BlobNotFound, BlobStore, FileSystemBlobStore
from core.db import make_engine
from core.models import Attachment, AuditHead, Base, Case
from core.operations.backup_format import (
    AUDIT_DIR,
    BATCH_ROWS,
    BLOB_INDEX,
    BLOBS_DIR,
    INSTANCE_DIR,
    INSTANCE_FILES,
    TABLES_DIR,
    BackupError,
    FileDigest,
    HashingWriter,
    Progress,
    TableHeader,
    copy_file,
    encode_value,
    hashed,
    make_private_dir,
    no_progress,
)
from core.operations.backup_manifest import Manifest, MissingBlob, TableEntry, write_manifest
from core.schema import SCHEMA_REVISION, database_revision

#: The columns that name blobs in the blob store, each with the column of its row's day
#: (every other column is a row value only).
BLOB_COLUMNS = ((Attachment.__table__.c.blob_id, Attachment.__table__.c.created_on),)


@dataclass(frozen=True)
class BackupSummary:
    """What was written. `lost`: case references whose files are missing on the instance
    itself (the backup lacks them too; an error for the operator)."""

    manifest: Manifest
    deleted_after_snapshot: int
    lost: tuple[str, ...]


def write_backup(destination: Path, *, database_url: str, data_dir: Path, blobs: BlobStore,
                 progress: Progress = no_progress) -> BackupSummary:
    """Back up the database, the blobs it references, audit/ and the instance's public files
    into `destination`, a new or empty directory (0700, files 0600). On failure, what was
    written is removed again."""
    created = _prepare(destination)
    try:
        return _write(destination, database_url, data_dir, blobs, progress)
    except BaseException:
        _remove_partial(destination, created)
        raise


def _prepare(destination: Path) -> bool:
    """Make the destination private; True if it was created. A non-empty one is refused."""
    if destination.exists() or destination.is_symlink():
        if not destination.is_dir():
            raise BackupError(f"{destination} exists and is not a directory")
        if any(destination.iterdir()):
            raise BackupError(f"{destination} is not empty; back up into a new directory")
        os.chmod(destination, 0o700)
        return False
    destination.mkdir(mode=0o700, parents=True)
    os.chmod(destination, 0o700)
    return True


def _remove_partial(destination: Path, created: bool) -> None:
    for entry in list(destination.iterdir()) if destination.is_dir() else []:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if created:
        destination.rmdir()


def _write(destination: Path, database_url: str, data_dir: Path, blobs: BlobStore,
           progress: Progress) -> BackupSummary:
    lock_engine = make_engine(database_url, poolclass=NullPool)
    read_engine = snapshot_engine(database_url)
    try:
        with _snapshot(lock_engine, read_engine, data_dir, destination) as (snapshot, files):
            tables, referenced = _dump_tables(snapshot, destination, files, progress)
        blob_count, blob_bytes, missing = _copy_blobs(referenced, blobs, read_engine,
                                                      destination, files, progress)
    finally:
        lock_engine.dispose()
        read_engine.dispose()
    for name in INSTANCE_FILES:
        if (data_dir / name).is_file():
            files[f"{INSTANCE_DIR}/{name}"] = copy_file(data_dir / name,
                                                        destination / INSTANCE_DIR / name)
    manifest = Manifest(
        schema_revision=SCHEMA_REVISION, source_database=read_engine.dialect.name,
        created_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        tables=tuple(tables), blob_count=blob_count, blob_bytes=blob_bytes,
        missing_blobs=tuple(missing), files=files)
    write_manifest(destination, manifest)
    return BackupSummary(manifest, sum(not m.lost for m in missing),
                         tuple(sorted({m.case_reference or "?" for m in missing if m.lost})))


def snapshot_engine(database_url: str) -> Engine:
    """An engine whose transactions only read, without holding off writers: SQLite
    transactions begin DEFERRED with writes refused (query_only); PostgreSQL ones are
    REPEATABLE READ, READ ONLY (one snapshot for the whole transaction)."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, poolclass=NullPool,
                               connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA query_only=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN DEFERRED")

        return engine
    return create_engine(database_url, poolclass=NullPool, isolation_level="REPEATABLE READ",
                         execution_options={"postgresql_readonly": True})


@contextmanager
def _snapshot(lock_engine: Engine, read_engine: Engine, data_dir: Path, destination: Path,
              ) -> Iterator[tuple[Connection, dict[str, FileDigest]]]:
    """Copy audit/ and open the read transaction while the log's head is locked; yield the
    snapshot's connection and the digests of the copied files. Writers wait only for the
    copy of audit/."""
    with read_engine.connect() as snapshot:
        with Session(lock_engine) as lock, lock.begin():
            locked_head(lock)  # as a checkpoint does: none runs, the log does not grow
            files = _copy_audit(data_dir, destination)
            snapshot.begin()
            # The first read fixes the snapshot (both backends), before the lock is let go.
            snapshot.execute(select(AuditHead.size)).all()
        revision = database_revision(snapshot)
        if revision != SCHEMA_REVISION:
            raise BackupError(f"the database is at migration {revision}, this version of "
                              f"Candor at {SCHEMA_REVISION}: run `candor db upgrade` first")
        try:
            yield snapshot, files
        finally:
            snapshot.rollback()


def _copy_audit(data_dir: Path, destination: Path) -> dict[str, FileDigest]:
    """Copy <data dir>/audit (checkpoints, leaves, chain); temporaries of an interrupted
    write are left out."""
    source = data_dir / "audit"
    files: dict[str, FileDigest] = {}
    if not source.is_dir():
        return files
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.suffix != ".tmp":
            relative = path.relative_to(source)
            files[f"{AUDIT_DIR}/{relative.as_posix()}"] = copy_file(
                path, destination / AUDIT_DIR / relative)
    return files


def _dump_tables(snapshot: Connection, destination: Path, files: dict[str, FileDigest],
                 progress: Progress) -> tuple[list[TableEntry], dict[str, date]]:
    """Write every table, parents before children; return the entries and the blobs the
    rows reference, each with its row's day (used if the store does not tell the blob's)."""
    tables = Base.metadata.sorted_tables
    total = sum(snapshot.execute(select(func.count()).select_from(t)).scalar_one()
                for t in tables)
    entries: list[TableEntry] = []
    referenced: dict[str, date] = {}
    blob_tables = {blob.table.name: (blob.name, day.name) for blob, day in BLOB_COLUMNS}
    with progress("Tables", total) as advance:
        for table in tables:
            header = TableHeader.of(table)
            name = f"{TABLES_DIR}/{table.name}.jsonl"
            out = HashingWriter(destination / name)
            out.line(header.to_json())
            order = list(table.primary_key.columns) or list(table.columns)
            result = snapshot.execution_options(yield_per=BATCH_ROWS).execute(
                select(table).order_by(*order))
            rows = 0
            blob_columns = blob_tables.get(table.name)
            for batch in result.partitions():
                for row in batch:
                    out.line(json.dumps([encode_value(code, value) for (_, code), value
                                         in zip(header.columns, row, strict=True)],
                                        separators=(",", ":")))
                    if blob_columns is not None:
                        values = row._mapping
                        referenced[values[blob_columns[0]]] = values[blob_columns[1]]
                rows += len(batch)
                advance(len(batch))
            files[name] = out.close()
            entries.append(TableEntry(table.name, rows, name))
    return entries, referenced


def _copy_blobs(referenced: dict[str, date], blobs: BlobStore, read_engine: Engine,
                destination: Path, files: dict[str, FileDigest], progress: Progress,
                ) -> tuple[int, int, list[MissingBlob]]:
    """Copy every referenced blob with its day; return (count, bytes, the missing ones)."""
    days = {blob_id: day for blob_id, day in blobs.list_blobs() if blob_id in referenced}
    make_private_dir(destination / BLOBS_DIR)
    store = FileSystemBlobStore(destination / BLOBS_DIR)
    index = HashingWriter(destination / BLOB_INDEX)
    count = total = 0
    missing: list[MissingBlob] = []
    with progress("Blobs", len(referenced)) as advance:
        for blob_id in sorted(referenced):
            day = days.get(blob_id, referenced[blob_id])
            digest = hashlib.sha256()
            try:
                size = store.put(blob_id, hashed(blobs.read(blob_id), digest), day=day)
            except BlobNotFound:
                missing.append(_recheck(read_engine, blob_id))
            else:
                index.line(json.dumps({"id": blob_id, "day": day.isoformat(), "size": size,
                                       "sha256": digest.hexdigest()}))
                count += 1
                total += size
            advance(1)
    files[BLOB_INDEX] = index.close()
    (destination / BLOBS_DIR / "tmp").rmdir()
    return count, total, missing


def _recheck(read_engine: Engine, blob_id: str) -> MissingBlob:
    """A blob the snapshot references is gone: is it still referenced now (lost on the
    instance) or was its row deleted after the snapshot?"""
    with read_engine.connect() as connection, connection.begin():
        reference = connection.execute(
            select(Case.reference).join(Attachment, Attachment.case_id == Case.id)
            .where(Attachment.blob_id == blob_id)).scalar_one_or_none()
    return MissingBlob(blob_id, lost=reference is not None, case_reference=reference)
