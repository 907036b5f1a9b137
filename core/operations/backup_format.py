"""The layout of a backup directory, its manifest, and the exact encoding of its rows.

A backup (`candor backup DEST`) is a directory::

    manifest.json         written last: format, schema revision, row counts, file digests
    tables/<table>.jsonl  one per table, in foreign-key order: a header line naming the
                          columns and their types, then one JSON array per row
    blobs.jsonl           one line per blob copied: id, day, size, sha256
    blobs/<id[:2]>/<id>   the encrypted attachments, dated like the blob store's files
    audit/                the data directory's audit/ folder (checkpoints, leaves, chain)
    instance/             recovery.pub and candor.toml, if the instance has them

Values are typed by the header, not guessed: bytes are base64, dates and datetimes ISO 8601
(datetimes with their offset), enums their value, JSON columns as JSON; integers are exact.
So a backup taken from SQLite restores into PostgreSQL and the other way round. Nothing in it
is plaintext of a case: rows hold what the database holds (ciphertext, keyed hashes, clear
routing fields), blobs hold ciphertext. The instance secrets are NOT part of it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Integer,
    LargeBinary,
    String,
    Table,
    TypeDecorator,
)
from sqlalchemy.types import TypeEngine

from core.blobs import READ_CHUNK, BlobNotFound
from crypto.stream import ABYTES, CHUNK_SIZES, HEADER_BYTES

FORMAT = "candor-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BLOB_INDEX = "blobs.jsonl"
TABLES_DIR = "tables"
BLOBS_DIR = "blobs"
AUDIT_DIR = "audit"
INSTANCE_DIR = "instance"
#: Files of the data directory, outside secrets/, that a backup keeps (neither is secret).
INSTANCE_FILES = ("recovery.pub", "candor.toml")
#: Rows per batch when writing to a database.
BATCH_ROWS = 1000


class BackupError(Exception):
    """A backup cannot be made, read or restored; the message says why in one line and never
    holds content, a receipt code or a file name."""


class Progress(Protocol):
    """Makes a progress indicator for one phase: `with progress(label, total) as advance:`,
    then `advance(n)` after each n units done."""

    def __call__(self, label: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        ...


@contextmanager
def _silent(label: str, total: int) -> Iterator[Callable[[int], None]]:
    yield lambda done: None


#: A Progress that shows nothing (library use, tests, output that is not a terminal).
no_progress: Progress = _silent


# --- Values -------------------------------------------------------------------------------


def column_code(column: Column[Any]) -> str:
    """How a column's values are written: int, bool, str, bytes, date, datetime or json."""
    kind: TypeEngine[Any] = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    for cls, code in ((Boolean, "bool"), (Integer, "int"), (Enum, "str"), (String, "str"),
                      (LargeBinary, "bytes"), (DateTime, "datetime"), (Date, "date"),
                      (JSON, "json")):
        if isinstance(kind, cls):
            return code
    raise BackupError(f"column {column.table.name}.{column.name} has a type backups do not "
                      f"know ({kind!r})")


def encode_value(code: str, value: Any) -> Any:
    """A column value as JSON (None stays null)."""
    if value is None:
        return None
    if code == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if code in ("date", "datetime"):
        return str(value.isoformat())
    if code == "str" and not isinstance(value, str):
        return str(value.value)  # an enum member: its stored value
    if code == "bool":
        return bool(value)
    return value


def decode_value(code: str, value: Any) -> Any:
    """The inverse of encode_value; ValueError if the JSON value does not fit the type."""
    if value is None or code == "json":
        return value
    if code == "bytes" and isinstance(value, str):
        return base64.b64decode(value, validate=True)
    if code == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if code == "datetime" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if code == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if (code == "bool" and isinstance(value, bool)) or (code == "str" and isinstance(value, str)):
        return value
    raise ValueError(f"a {code} column holds {type(value).__name__}")


@dataclass(frozen=True)
class TableHeader:
    """The first line of a table file: the table and its columns with their value codes."""

    table: str
    columns: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, table: Table) -> TableHeader:
        return cls(table.name, tuple((c.name, column_code(c)) for c in table.columns))

    def to_json(self) -> str:
        return json.dumps({"table": self.table, "columns": [list(c) for c in self.columns]})

    @classmethod
    def parse(cls, line: str) -> TableHeader:
        data = json.loads(line)
        return cls(str(data["table"]), tuple((str(n), str(c)) for n, c in data["columns"]))

    def decode(self, line: str) -> dict[str, Any]:
        """One row line as {column: value}; ValueError if it does not match the header."""
        values = json.loads(line)
        if not isinstance(values, list) or len(values) != len(self.columns):
            raise ValueError("a row does not match its table's columns")
        return {name: decode_value(code, value)
                for (name, code), value in zip(self.columns, values, strict=True)}


@contextmanager
def open_table(path: Path) -> Iterator[tuple[TableHeader, Iterator[dict[str, Any]]]]:
    """A table file's header and its rows, decoded as they are read (ValueError on a line
    that does not match the header)."""
    with path.open(encoding="utf-8") as handle:
        try:
            header = TableHeader.parse(handle.readline())
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path.name} has no valid header") from exc
        yield header, (header.decode(line) for line in handle)


# --- Files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileDigest:
    """Size and SHA-256 of one file of the backup."""

    size: int
    sha256: str


def make_private_dir(path: Path) -> None:
    """Create `path` and any missing parent, each 0700 (whatever the umask)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)


class HashingWriter:
    """A new private file (0600, never an existing one) whose digest is computed as it is
    written; `close` makes it durable."""

    def __init__(self, path: Path) -> None:
        make_private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._handle: IO[bytes] = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._size = 0

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self._hash.update(data)
        self._size += len(data)

    def line(self, text: str) -> None:
        """Write one line of text (UTF-8)."""
        self.write(text.encode("utf-8") + b"\n")

    def close(self) -> FileDigest:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        return FileDigest(self._size, self._hash.hexdigest())


def digest_file(path: Path) -> FileDigest:
    """Size and SHA-256 of a file as it is on disk."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return FileDigest(size, digest.hexdigest())


def copy_file(source: Path, destination: Path) -> FileDigest:
    """Copy a file into the backup (0600), returning the digest of what was written."""
    out = HashingWriter(destination)
    with source.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            out.write(chunk)
    return out.close()


def is_blob_id(name: str) -> bool:
    """Whether `name` has the form of a blob id (32 lowercase hex digits)."""
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


def blob_path(root: Path, blob_id: str) -> Path:
    """Where a blob lies in a backup (the filesystem blob store's layout)."""
    return root / BLOBS_DIR / blob_id[:2] / blob_id


def blob_is_well_formed(size: int, stream_version: int) -> bool:
    """Whether a ciphertext of `size` bytes can be a whole secretstream of that format (a
    header, full chunks, then a final chunk shorter than a full one): the most that can be
    checked without the file's key."""
    chunk = CHUNK_SIZES.get(stream_version)
    if chunk is None or size < HEADER_BYTES + ABYTES:
        return False
    return (size - HEADER_BYTES - ABYTES) % (chunk + ABYTES) < chunk


class BackupBlobs:
    """A backup's blobs, read-only, through the blob store's interface (so that the core
    functions that decrypt files can read them)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, blob_id: str) -> Iterator[bytes]:
        path = blob_path(self.root, blob_id)
        if not is_blob_id(blob_id) or not path.is_file():
            raise BlobNotFound(blob_id)
        return self._chunks(path)

    @staticmethod
    def _chunks(path: Path) -> Iterator[bytes]:
        with path.open("rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk

    def list_blobs(self) -> Iterator[tuple[str, date]]:
        folder = self.root / BLOBS_DIR
        if not folder.is_dir():
            return
        for sub in sorted(folder.iterdir()):
            if sub.is_dir() and sub.name != "tmp":
                for path in sorted(sub.iterdir()):
                    yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC).date()

    def write(self, chunks: Iterable[bytes], *, day: date) -> tuple[str, int]:
        raise PermissionError("a backup is read-only")

    def put(self, blob_id: str, chunks: Iterable[bytes], *, day: date) -> int:
        raise PermissionError("a backup is read-only")

    def delete(self, blob_id: str) -> None:
        raise PermissionError("a backup is read-only")

    def clear_temporary(self, older_than: timedelta = timedelta(hours=6)) -> int:
        return 0  # a backup is written once, by candor backup: nothing is ever left half-done


@dataclass(frozen=True)
class BlobEntry:
    """One line of blobs.jsonl."""

    blob_id: str
    day: date
    size: int
    sha256: str


def blob_index(root: Path) -> Iterator[BlobEntry]:
    """The blobs a backup lists (ValueError on a malformed line)."""
    with (root / BLOB_INDEX).open(encoding="utf-8") as handle:
        for line in handle:
            data = json.loads(line)
            entry = BlobEntry(str(data["id"]), date.fromisoformat(data["day"]),
                              int(data["size"]), str(data["sha256"]))
            if not is_blob_id(entry.blob_id):
                raise ValueError("a malformed blob id")
            yield entry


def hashed(chunks: Iterable[bytes], into: Any) -> Iterator[bytes]:
    """Pass chunks through, feeding each to `into` (a hashlib object) on the way."""
    for chunk in chunks:
        into.update(chunk)
        yield chunk
