"""A backup's manifest.json: written last, it marks a finished backup and says what it holds
(format, schema revision, row counts, the digest of every file but the blobs, which
blobs.jsonl lists with theirs)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from core.operations.backup_format import (
    BLOB_INDEX,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BackupError,
    FileDigest,
    HashingWriter,
)


def safe_relative(name: str) -> PurePosixPath:
    """A path named in a manifest, refused unless it stays inside the backup."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise BackupError(f"{MANIFEST} names a path outside the backup")
    return path


@dataclass(frozen=True)
class TableEntry:
    """One table of the backup: its name, row count and file."""

    name: str
    rows: int
    file: str


@dataclass(frozen=True)
class MissingBlob:
    """A blob an attachment row of the snapshot names but the backup lacks. `lost`: still
    referenced after the snapshot, so missing on the instance itself; otherwise deleted
    (with its row) after the snapshot was taken."""

    blob_id: str
    lost: bool
    case_reference: str | None


@dataclass(frozen=True)
class Manifest:
    """What manifest.json says."""

    schema_revision: str
    source_database: str
    created_at: str
    tables: tuple[TableEntry, ...]
    blob_count: int
    blob_bytes: int
    missing_blobs: tuple[MissingBlob, ...]
    files: dict[str, FileDigest]

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "format": FORMAT, "version": FORMAT_VERSION,
            "schema_revision": self.schema_revision, "source_database": self.source_database,
            "created_at": self.created_at,
            "tables": [{"name": t.name, "rows": t.rows, "file": t.file} for t in self.tables],
            "blobs": {"count": self.blob_count, "bytes": self.blob_bytes, "index": BLOB_INDEX},
            "missing_blobs": [{"id": m.blob_id, "lost": m.lost, "case": m.case_reference}
                              for m in self.missing_blobs],
            "files": {name: {"size": d.size, "sha256": d.sha256}
                      for name, d in sorted(self.files.items())},
        }
        body["checksum"] = _checksum(body)
        return json.dumps(body, indent=1) + "\n"


def _checksum(body: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON without its checksum: an edited or damaged
    manifest is told apart from a damaged file."""
    rest = {k: v for k, v in body.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Write manifest.json atomically (its presence marks a finished backup)."""
    temporary = root / (MANIFEST + ".tmp")
    out = HashingWriter(temporary)
    out.write(manifest.to_json().encode("utf-8"))
    out.close()
    os.replace(temporary, root / MANIFEST)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_manifest(root: Path) -> Manifest:
    """Parse and check a backup's manifest.json; BackupError with the reason otherwise."""
    path = root / MANIFEST
    if not root.is_dir():
        raise BackupError(f"{root} is not a directory")
    if not path.is_file():
        raise BackupError(f"{root} has no {MANIFEST}: not a Candor backup, or one that did "
                          "not finish")
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("format") != FORMAT:
            raise BackupError(f"{path} is not a Candor backup manifest")
        if body.get("version") != FORMAT_VERSION:
            raise BackupError(f"the backup's format {body.get('version')!r} is not one this "
                              f"version of Candor reads ({FORMAT_VERSION})")
        if body.get("checksum") != _checksum(body):
            raise BackupError(f"{MANIFEST} was altered or damaged (its checksum does not "
                              "match)")
        manifest = Manifest(
            schema_revision=str(body["schema_revision"]),
            source_database=str(body["source_database"]),
            created_at=str(body["created_at"]),
            tables=tuple(TableEntry(str(t["name"]), int(t["rows"]), str(t["file"]))
                         for t in body["tables"]),
            blob_count=int(body["blobs"]["count"]),
            blob_bytes=int(body["blobs"]["bytes"]),
            missing_blobs=tuple(MissingBlob(str(m["id"]), bool(m["lost"]),
                                            None if m["case"] is None else str(m["case"]))
                                for m in body["missing_blobs"]),
            files={str(name): FileDigest(int(d["size"]), str(d["sha256"]))
                   for name, d in body["files"].items()},
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError,
            AttributeError) as exc:
        raise BackupError(f"{path} cannot be read ({type(exc).__name__})") from None
    if not manifest.schema_revision.isdigit():
        raise BackupError(f"{MANIFEST} names no valid schema revision")
    for name in (*manifest.files, *(t.file for t in manifest.tables)):
        safe_relative(name)
    return manifest
