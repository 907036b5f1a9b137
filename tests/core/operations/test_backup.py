"""core.operations.backup / restore / backup_verify: an online backup of a running instance
(writers keep committing), restored onto an empty one where every case opens again, with its
receipt code and with its handlers' keys, every file byte-identical and the access log
verifying; across SQLite and PostgreSQL too."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.blobs import BlobNotFound, BlobStore, FileSystemBlobStore
from core.config import Config
from core.db import make_engine, make_session_factory, transaction
from core.models import (
    Attachment,
    Base,
    EvidenceEntry,
)
from core.operations.backup import BLOB_COLUMNS, write_backup
from core.operations.backup_format import BackupError, TableHeader, blob_path, no_progress
from core.operations.backup_manifest import read_manifest
from core.operations.backup_verify import check_backup, open_sample
from core.operations.restore import restore_backup
from core.schema import SCHEMA_REVISION
from core.services import Services
from crypto.keys import KeyPair
from migrations.runner import upgrade
from tests.core.factories import handlers_and_case, submit
from tests.core.operations.backup_world import (
    BIG,
    Writer,
    assert_opens,
    blob_digests,
    instance,
    populate,
    restored,
)


def test_an_online_backup_restores_every_case_whole(backend: str, tmp_path: Path,
                                                    config: Config, services: Services,
                                                    session_factory: sessionmaker[Session],
                                                    recovery_key: KeyPair) -> None:
    world = populate(config, services, session_factory)
    writer = Writer(session_factory, services)
    writer.start()
    writer.wait_for(1)
    after_snapshot: set[str] = set()

    @contextmanager
    def progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
        if label == "Tables":  # inside the read transaction: writers must go on committing
            before = len(writer.done)
            writer.wait_for(before + 2)
            after_snapshot.update(ref for ref, _, _ in writer.done[before:])
        yield lambda done: None

    destination = tmp_path / "backup"
    summary = write_backup(destination, database_url=config.database_url,
                           data_dir=config.data_dir, blobs=services.blobs, progress=progress)
    writer.stop()
    manifest = summary.manifest
    assert manifest.schema_revision == SCHEMA_REVISION and not summary.lost
    assert stat.S_IMODE(destination.stat().st_mode) == 0o700
    for path in destination.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    with open(destination / "tables" / "cases.jsonl") as handle:
        header = TableHeader.parse(handle.readline())
        in_backup = {header.decode(line)["reference"] for line in handle}
    assert set(world.receipts) <= in_backup
    assert not after_snapshot & in_backup  # one snapshot: later commits are not in it
    receipts = dict(world.receipts)
    files = dict(world.files)
    for reference, receipt, data in writer.done:
        if reference in in_backup:
            receipts[reference] = receipt
            files[(reference, 1)] = data
    assert check_backup(destination, manifest).ok
    original = blob_digests(services.blobs, session_factory)

    shutil.rmtree(config.data_dir)  # the instance is gone; the backup and secrets remain
    with restored(world, tmp_path / "restored", backend, destination) as (new, factory):
        with factory() as s:
            for entry in manifest.tables:
                table = Base.metadata.tables[entry.name]
                assert s.scalar(select(func.count()).select_from(table)) == entry.rows
            assert s.scalar(select(func.count()).select_from(EvidenceEntry).where(
                EvidenceEntry.corrects_id.is_not(None))) == 3
        restored_blobs = blob_digests(new.blobs, factory)
        assert restored_blobs == {i: original[i] for i in restored_blobs}
        assert {i: day for i, day in new.blobs.list_blobs()} == {
            i: day for i, day in FileSystemBlobStore(destination / "blobs").list_blobs()}
        assert_opens(world, new, factory, receipts, files)


@pytest.mark.parametrize(("source", "target"),
                         [("sqlite", "postgresql"), ("postgresql", "sqlite")])
def test_a_backup_restores_across_database_kinds(source: str, target: str, tmp_path: Path,
                                                  recovery_key: KeyPair) -> None:
    with instance(source, tmp_path / "source", recovery_key) as (config, services, url):
        engine = make_engine(url)
        factory = make_session_factory(engine)
        world = populate(config, services, factory)
        destination = tmp_path / "backup"
        summary = write_backup(destination, database_url=url, data_dir=config.data_dir,
                               blobs=services.blobs)
        assert summary.manifest.source_database == source
        findings = check_backup(destination, summary.manifest)
        open_sample(destination, summary.manifest, recovery_key.private_key, findings)
        assert findings.ok and findings.cases_opened == 3 and findings.files_opened == 6
        engine.dispose()
    with restored(world, tmp_path / "restored", target, destination) as (new, factory):
        assert_opens(world, new, factory, world.receipts, world.files)


def test_verify_opens_cases_with_the_recovery_key_and_finds_a_flipped_byte(
        tmp_path: Path, config: Config, services: Services,
        session_factory: sessionmaker[Session], recovery_key: KeyPair) -> None:
    populate(config, services, session_factory)
    destination = tmp_path / "backup"
    manifest = write_backup(destination, database_url=config.database_url,
                            data_dir=config.data_dir, blobs=services.blobs).manifest
    findings = check_backup(destination, manifest)
    assert findings.ok and findings.blobs == 6 and findings.rows > 0
    open_sample(destination, manifest, recovery_key.private_key, findings, sample=2)
    assert findings.ok and findings.cases_opened == 2
    with pytest.raises(BackupError, match="not the recovery key"):
        open_sample(destination, manifest, os.urandom(32), check_backup(destination, manifest))

    with session_factory() as s:
        big = s.execute(select(Attachment.blob_id).where(
            Attachment.stored_size > len(BIG))).scalar_one()
    path = blob_path(destination, big)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    findings = check_backup(destination, manifest)
    assert findings.problems == [f"blob {big}: differs from the index (altered or damaged)"]
    # Even with the index made to agree, the stream's tag gives the flip away.
    index = destination / "blobs.jsonl"
    lines = [json.loads(line) for line in index.read_text().splitlines()]
    for line in lines:
        if line["id"] == big:
            line["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    index.write_text("".join(json.dumps(line) + "\n" for line in lines))
    findings = check_backup(destination, manifest)
    assert findings.problems == ["blobs.jsonl differs from the manifest (altered or damaged)"]
    open_sample(destination, manifest, recovery_key.private_key, findings, sample=3)
    assert any("does not decrypt" in problem for problem in findings.problems)


class VanishingBlobs:
    """A blob store where one blob disappears just before the backup reads it; `delete_row`
    also deletes its attachment row first (a deletion after the snapshot)."""

    def __init__(self, inner: BlobStore, blob_id: str,
                 delete_row: Callable[[], None] | None) -> None:
        self.inner, self.blob_id, self.delete_row = inner, blob_id, delete_row

    def read(self, blob_id: str) -> Iterator[bytes]:
        if blob_id == self.blob_id:
            if self.delete_row is not None:
                self.delete_row()
            raise BlobNotFound(blob_id)
        return self.inner.read(blob_id)

    def write(self, chunks: Iterator[bytes], *, day: date) -> tuple[str, int]:
        return self.inner.write(chunks, day=day)

    def put(self, blob_id: str, chunks: Iterator[bytes], *, day: date) -> int:
        return self.inner.put(blob_id, chunks, day=day)

    def delete(self, blob_id: str) -> None:
        self.inner.delete(blob_id)

    def list_blobs(self) -> Iterator[tuple[str, date]]:
        return self.inner.list_blobs()


@pytest.mark.parametrize("deleted", [True, False])
def test_a_blob_missing_at_copy_time(deleted: bool, tmp_path: Path, config: Config,
                                     services: Services,
                                     session_factory: sessionmaker[Session]) -> None:
    """Deleted with its row after the snapshot: said, and the backup is fine. Still
    referenced: the case is named (never a file name) and verify fails."""
    _alice, _bob, result = handlers_and_case(session_factory, services)
    other = submit(session_factory, services, files=[("gone.txt", b"soon gone")])
    with session_factory() as s:
        blob_id = s.execute(select(Attachment.blob_id).where(
            Attachment.case_id == other.case_id)).scalar_one()

    def delete_row() -> None:
        with transaction(session_factory) as s:
            s.execute(delete(Attachment).where(Attachment.blob_id == blob_id))

    store = VanishingBlobs(services.blobs, blob_id, delete_row if deleted else None)
    destination = tmp_path / "backup"
    summary = write_backup(destination, database_url=config.database_url,
                           data_dir=config.data_dir, blobs=store)
    findings = check_backup(destination, summary.manifest)
    if deleted:
        assert summary.deleted_after_snapshot == 1 and summary.lost == ()
        assert findings.ok and "deleted" in findings.notes[0]
    else:
        assert summary.lost == (other.reference,)
        assert findings.problems == [f"case {other.reference}: a file was already missing "
                                     "on the instance when the backup was taken"]
    assert "gone.txt" not in " ".join(findings.problems + findings.notes)
    assert result.reference != other.reference


def test_refusals(tmp_path: Path, config: Config, services: Services,
                  session_factory: sessionmaker[Session]) -> None:
    populate(config, services, session_factory)
    destination = tmp_path / "backup"
    (destination / "old").mkdir(parents=True)
    with pytest.raises(BackupError, match="not empty"):
        write_backup(destination, database_url=config.database_url,
                     data_dir=config.data_dir, blobs=services.blobs)
    assert [p.name for p in destination.iterdir()] == ["old"]
    shutil.rmtree(destination)
    write_backup(destination, database_url=config.database_url, data_dir=config.data_dir,
                 blobs=services.blobs)

    def restore_onto(data_dir: Path, url: str) -> None:
        restore_backup(destination, database_url=url, data_dir=data_dir,
                       blobs=FileSystemBlobStore(data_dir / "blobs"),
                       create_schema=lambda revision: upgrade(url, revision))

    with pytest.raises(BackupError, match="database is not empty"):  # the running instance
        restore_onto(tmp_path / "fresh", config.database_url)
    with pytest.raises(BackupError, match="audit is not empty"):
        restore_onto(config.data_dir, config.database_url)
    FileSystemBlobStore(tmp_path / "other" / "blobs").write([b"x"], day=date.today())
    with pytest.raises(BackupError, match="blob store already holds"):
        restore_onto(tmp_path / "other", config.database_url)
    (tmp_path / "other" / "notes.txt").write_text("")
    with pytest.raises(BackupError, match=r"is not empty \(it holds notes.txt\)"):
        restore_onto(tmp_path / "other", config.database_url)
    manifest = destination / "manifest.json"
    body = json.loads(manifest.read_text())
    body["tables"][0]["rows"] += 1
    manifest.write_text(json.dumps(body))
    with pytest.raises(BackupError, match="altered or damaged"):
        read_manifest(destination)


def test_put_stores_under_the_given_id_and_day_and_never_replaces(tmp_path: Path) -> None:
    store = FileSystemBlobStore(tmp_path / "blobs")
    blob_id = "0123456789abcdef0123456789abcdef"
    day = date(2024, 2, 29)
    assert store.put(blob_id, iter([b"abc", b"def"]), day=day) == 6
    assert b"".join(store.read(blob_id)) == b"abcdef"
    assert list(store.list_blobs()) == [(blob_id, day)]
    with pytest.raises(FileExistsError):
        store.put(blob_id, iter([b"other"]), day=day)
    with pytest.raises(ValueError, match="invalid blob id"):
        store.put("../../etc/passwd", iter([b"x"]), day=day)
    assert b"".join(store.read(blob_id)) == b"abcdef"
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_every_blob_column_is_copied_and_every_column_type_is_known() -> None:
    named = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns
             if "blob" in c.name}
    assert named == {(blob.table.name, blob.name) for blob, _day in BLOB_COLUMNS}
    for table in Base.metadata.sorted_tables:
        TableHeader.of(table)  # raises for a type the backup cannot write exactly


def test_no_progress_is_silent() -> None:
    with no_progress("Tables", 3) as advance:
        advance(3)
