"""The blob store: where encrypted attachments live. It only ever sees ciphertext.

Order of operations: a use case writes the blob first, then commits the row that references it.
A crash in between leaves an orphan blob (ciphertext nobody can find a key for), which
`sweep_orphans` deletes later; it never leaves a row pointing at a missing blob.
"""

from __future__ import annotations

import os
import secrets
import time as time_module
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

READ_CHUNK = 64 * 1024 + 17  # one secretstream chunk with its tag


class BlobNotFound(Exception):
    """No blob with that id."""


class BlobStore(Protocol):
    """Where ciphertext blobs are kept (filesystem now; an S3-compatible store later)."""

    def write(self, chunks: Iterable[bytes], *, day: date) -> tuple[str, int]:
        """Store the chunks under a new random id atomically; return (id, size in bytes)."""
        ...

    def read(self, blob_id: str) -> Iterator[bytes]:
        """Yield the blob's bytes in chunks. Raise BlobNotFound if it does not exist."""
        ...

    def delete(self, blob_id: str) -> None:
        """Remove a blob; a missing blob is not an error."""
        ...

    def list_blobs(self) -> Iterator[tuple[str, date]]:
        """Yield (id, day written) of every stored blob, for orphan sweeping."""
        ...


def new_blob_id() -> str:
    """A random blob id: 128 bits, hex, unrelated to the content or the file name."""
    return secrets.token_hex(16)


def _is_blob_id(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


class FileSystemBlobStore:
    """Blobs as files `<root>/<id[:2]>/<id>`, written to `<root>/tmp` then renamed into place.

    File times are set to midnight UTC of the day written: an exact modification time on disk
    would tell when a reporter uploaded evidence.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, blob_id: str) -> Path:
        if not _is_blob_id(blob_id):
            raise BlobNotFound("invalid blob id")
        return self.root / blob_id[:2] / blob_id

    def write(self, chunks: Iterable[bytes], *, day: date) -> tuple[str, int]:
        """Store the chunks atomically under a new id; partial files never become visible."""
        blob_id = new_blob_id()
        tmp_path = self._tmp / blob_id
        size = 0
        try:
            with open(tmp_path, "xb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            final = self._path(blob_id)
            final.parent.mkdir(exist_ok=True, mode=0o700)
            midnight = datetime.combine(day, time.min, tzinfo=UTC).timestamp()
            os.utime(tmp_path, (midnight, midnight))
            os.replace(tmp_path, final)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        return blob_id, size

    def read(self, blob_id: str) -> Iterator[bytes]:
        """Yield the blob in chunks of one secretstream block."""
        path = self._path(blob_id)
        if not path.is_file():
            raise BlobNotFound(blob_id)
        return self._iter_file(path)

    @staticmethod
    def _iter_file(path: Path) -> Iterator[bytes]:
        with open(path, "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk

    def delete(self, blob_id: str) -> None:
        """Remove a blob if present."""
        try:
            self._path(blob_id).unlink(missing_ok=True)
        except BlobNotFound:
            return

    def list_blobs(self) -> Iterator[tuple[str, date]]:
        """Every blob with the day it was written (its coarsened modification time)."""
        for folder in sorted(self.root.iterdir()):
            if folder == self._tmp or not folder.is_dir():
                continue
            for path in folder.iterdir():
                if _is_blob_id(path.name):
                    yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC).date()

    def clear_temporary(self, older_than: timedelta = timedelta(hours=6)) -> int:
        """Delete leftovers of interrupted writes older than `older_than`; return how many.

        A file being written right now has a fresh modification time and is kept.
        """
        cutoff = time_module.time() - older_than.total_seconds()
        removed = 0
        for path in self._tmp.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
            except FileNotFoundError:
                continue  # finished (renamed) meanwhile
        return removed
