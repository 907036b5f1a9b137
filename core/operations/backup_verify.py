"""`candor backup --verify SRC`: is a backup whole, and do its cases open?

Without a key, everything that can be checked without one: every file against the manifest's
digest, every table's rows (they decode, and as many as the manifest says), every blob
present with its size and SHA-256, its size that of a whole secretstream of its format
(crypto.stream) and of its attachment row, and every attachment row with its blob. With the
organisation recovery key, a random sample of cases is opened as `candor recover` would open
them: the report, the messages, the identity and every file, decrypted in full so that every
authentication tag is checked. Only counts are reported, never content. Reading a backup
happens outside the instance, so no access-log entry records it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, create_engine, insert
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from core.blobs import BlobNotFound
from core.cases.content import Identity
from core.cases.contexts import identity_context
from core.cases.files import attachment_key, file_plaintext
from core.cases.grants import FIRST_EPOCH, CaseKeys, open_recovery_grant
from core.cases.reading import decrypt_case
from core.errors import AccessDenied
from core.models import Base, Case, KeyKind
from core.operations.backup_format import (
    BLOB_INDEX,
    BLOBS_DIR,
    BackupBlobs,
    BackupError,
    Progress,
    blob_index,
    blob_is_well_formed,
    blob_path,
    digest_file,
    hashed,
    no_progress,
    open_table,
)
from core.operations.backup_manifest import Manifest
from core.schema import SCHEMA_REVISION
from crypto.errors import CryptoError
from crypto.records import decrypt_record

#: Cases opened by default with the recovery key.
DEFAULT_SAMPLE = 20
#: Tables of a case that opening it reads, by the column naming the case.
_CASE_TABLES = {"cases": "id", "case_grants": "case_id", "messages": "case_id",
                "attachments": "case_id"}
#: Whole tables the case rows refer to (staff names, categories).
_SHARED_TABLES = ("categories", "reviewers")


@dataclass
class Findings:
    """What a check found: `problems` fail it, `notes` do not."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: int = 0
    blobs: int = 0
    blob_bytes: int = 0
    cases_opened: int = 0
    cases_without_recovery_grant: int = 0
    #: Cases whose content retention destroyed: nothing to open, so never sampled.
    cases_destroyed: int = 0
    messages_opened: int = 0
    files_opened: int = 0
    file_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Attached:
    case_id: int
    stored_size: int
    stream_version: int


def check_backup(source: Path, manifest: Manifest,
                 progress: Progress = no_progress) -> Findings:
    """Every check that needs no key (see the module's docstring)."""
    findings = Findings()
    for name, expected in sorted(manifest.files.items()):
        path = source / name
        if not path.is_file():
            findings.problems.append(f"{name} is missing")
        elif digest_file(path) != expected:
            findings.problems.append(f"{name} differs from the manifest (altered or damaged)")
    attached = _check_tables(source, manifest, findings)
    listed = _check_blobs(source, manifest, attached, findings, progress)
    missing = {m.blob_id: m for m in manifest.missing_blobs}
    for blob_id, row in attached.items():
        if blob_id in listed:
            continue
        gone = missing.get(blob_id)
        if gone is None:
            findings.problems.append(f"case {_reference(source, row.case_id)}: a file's "
                                     "blob is not in the backup")
        elif gone.lost:
            findings.problems.append(f"case {gone.case_reference}: a file was already "
                                     "missing on the instance when the backup was taken")
    deleted = sum(not m.lost for m in manifest.missing_blobs)
    if deleted:
        findings.notes.append(f"{deleted} file(s) were deleted with their case after the "
                              "snapshot; the backup has their rows but not their blobs")
    return findings


def _check_tables(source: Path, manifest: Manifest,
                  findings: Findings) -> dict[str, _Attached]:
    """Count and decode every row; return the attachments' blobs with their rows."""
    attached: dict[str, _Attached] = {}
    for entry in manifest.tables:
        path = source / entry.file
        if entry.file not in manifest.files:
            findings.problems.append(f"{entry.file} has no digest in the manifest")
        if not path.is_file():
            continue
        rows = 0
        try:
            with open_table(path) as (header, values):
                if header.table != entry.name:
                    raise ValueError("the file holds another table")
                for row in values:
                    rows += 1
                    if entry.name == "attachments":
                        attached[row["blob_id"]] = _Attached(
                            row["case_id"], row["stored_size"], row["stream_version"])
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            findings.problems.append(f"{entry.file}: row {rows + 1} cannot be read ({exc})")
            continue
        findings.rows += rows
        if rows != entry.rows:
            findings.problems.append(f"{entry.file} holds {rows} rows, the manifest says "
                                     f"{entry.rows}")
    return attached


def _check_blobs(source: Path, manifest: Manifest, attached: dict[str, _Attached],
                 findings: Findings, progress: Progress) -> set[str]:
    """Check every listed blob; return the ids listed."""
    listed: set[str] = set()
    try:
        with progress("Checking blobs", manifest.blob_count) as advance:
            for entry in blob_index(source):
                listed.add(entry.blob_id)
                problem = _blob_problem(source, entry.blob_id, entry.size, entry.sha256,
                                        attached.get(entry.blob_id))
                if problem:
                    findings.problems.append(f"blob {entry.blob_id}: {problem}")
                findings.blobs += 1
                findings.blob_bytes += entry.size
                advance(1)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        findings.problems.append(f"{BLOB_INDEX} cannot be read ({type(exc).__name__})")
        return listed
    if (findings.blobs, findings.blob_bytes) != (manifest.blob_count, manifest.blob_bytes):
        findings.problems.append(f"{BLOB_INDEX} lists {findings.blobs} blobs of "
                                 f"{findings.blob_bytes} bytes, the manifest says "
                                 f"{manifest.blob_count} of {manifest.blob_bytes}")
    unlisted = sum(1 for path in _blob_files(source) if path.name not in listed)
    if unlisted:
        findings.problems.append(f"{unlisted} file(s) in {BLOBS_DIR}/ are not in "
                                 f"{BLOB_INDEX}")
    return listed


def _blob_problem(source: Path, blob_id: str, size: int, sha256: str,
                  row: _Attached | None) -> str | None:
    path = blob_path(source, blob_id)
    if not path.is_file():
        return "missing"
    digest = hashlib.sha256()
    actual = sum(len(chunk) for chunk in hashed(BackupBlobs(source).read(blob_id), digest))
    if actual != size or digest.hexdigest() != sha256:
        return "differs from the index (altered or damaged)"
    if row is None:
        return "no attachment row names it"
    if row.stored_size != size or not blob_is_well_formed(size, row.stream_version):
        return "its size is not that of its attachment's encrypted stream"
    return None


def _blob_files(source: Path) -> Iterable[Path]:
    root = source / BLOBS_DIR
    if root.is_dir():
        for folder in root.iterdir():
            yield from (folder.iterdir() if folder.is_dir() else [folder])


def _reference(source: Path, case_id: int) -> str:
    """A case's reference, read from the backup's cases table."""
    try:
        with open_table(source / "tables" / "cases.jsonl") as (_, rows):
            for row in rows:
                if row["id"] == case_id:
                    return str(row["reference"])
    except (OSError, ValueError, KeyError):
        pass
    return "?"


def open_sample(source: Path, manifest: Manifest, recovery_private_key: bytes,
                findings: Findings, *, sample: int = DEFAULT_SAMPLE,
                rng: random.Random | None = None, progress: Progress = no_progress) -> None:
    """Open `sample` random cases with the recovery key, adding what was opened, and what
    failed, to `findings`. BackupError if the key is not this instance's."""
    if manifest.schema_revision != SCHEMA_REVISION:
        raise BackupError(f"the backup is at migration {manifest.schema_revision}: opening "
                          f"its cases needs this version's schema ({SCHEMA_REVISION}); "
                          "restore it and run `candor db upgrade` instead")
    files = {entry.name: source / entry.file for entry in manifest.tables}
    with open_table(files["cases"]) as (_, rows):
        cases = [(row["id"], row["content_destroyed_on"]) for row in rows]
    # A destroyed case has no grant left to open (core.cases.shredding): not a missing key.
    case_ids = [case_id for case_id, destroyed_on in cases if destroyed_on is None]
    findings.cases_destroyed = len(cases) - len(case_ids)
    chosen = (rng or random.SystemRandom()).sample(case_ids, min(sample, len(case_ids)))
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            _load(connection, files, set(chosen))
        blobs = BackupBlobs(source)
        deleted = {m.blob_id for m in manifest.missing_blobs}
        with progress("Opening cases", len(chosen)) as advance, Session(engine) as session:
            for case_id in chosen:
                case = session.get(Case, case_id)
                if case is not None:
                    _open_case(session, case, recovery_private_key, blobs, deleted, findings)
                advance(1)
    finally:
        engine.dispose()


def _load(connection: Connection, files: dict[str, Path], chosen: set[int]) -> None:
    """The chosen cases' rows, and the staff and categories they name, into a scratch
    database (foreign keys not enforced: nothing else is needed)."""
    for name in (*_SHARED_TABLES, *_CASE_TABLES):
        table = Base.metadata.tables[name]
        with open_table(files[name]) as (_, rows):
            by_case = _CASE_TABLES.get(name)
            batch = [row for row in rows if by_case is None or row[by_case] in chosen]
        if batch:
            connection.execute(insert(table), batch)


def _open_case(session: Session, case: Case, recovery_private_key: bytes, blobs: BackupBlobs,
               deleted: set[str], findings: Findings) -> None:
    """Decrypt one case in full with the recovery key; record counts and failures."""
    keys: dict[tuple[int, KeyKind], bytes] = {}
    try:
        for epoch in range(FIRST_EPOCH, case.key_epoch + 1):
            for kind in KeyKind:
                key = open_recovery_grant(session, case.id, recovery_private_key, kind, epoch)
                if key is not None:
                    keys[(epoch, kind)] = key
    except AccessDenied:
        raise BackupError("the recovery key does not open this backup's cases: it is not "
                          "the recovery key of this instance") from None
    if (FIRST_EPOCH, KeyKind.CASE) not in keys:
        findings.cases_without_recovery_grant += 1
        return
    ref = case.reference
    case_keys = CaseKeys.of(case, keys)
    try:
        view = decrypt_case(case, case_keys)
        if case.identity_ciphertext is not None and (FIRST_EPOCH, KeyKind.IDENTITY) in keys:
            Identity.from_bytes(decrypt_record(keys[(FIRST_EPOCH, KeyKind.IDENTITY)],
                                               case.identity_ciphertext, identity_context(ref)))
    except (CryptoError, ValueError, KeyError, TypeError):
        findings.problems.append(f"case {ref}: the report or identity does not decrypt")
        return
    if view.tampered:
        findings.problems.append(f"case {ref}: {len(view.tampered)} record(s) fail their "
                                 "integrity check")
    findings.messages_opened += len(view.messages)
    del view
    for attachment in case.attachments:
        key = attachment_key(attachment, case_keys)
        if key is None or attachment.blob_id in deleted:
            continue
        try:
            size = sum(len(chunk) for chunk in file_plaintext(blobs, attachment, ref, key))
        except (CryptoError, BlobNotFound):
            findings.problems.append(f"case {ref}: file {attachment.position} does not "
                                     "decrypt")
            continue
        findings.files_opened += 1
        findings.file_bytes += size
    findings.cases_opened += 1
