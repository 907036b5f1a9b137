"""The blob store: where encrypted attachments live. It only ever sees ciphertext.

Order of operations: a use case writes the blob first, then commits the row that references it.
A crash in between leaves an orphan blob (ciphertext nobody can find a key for), which
`sweep_orphans` deletes later; it never leaves a row pointing at a missing blob.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import mmap
import os
import secrets
import time as time_module
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from core.background import consume_in_background
from crypto.stream import ABYTES, CHUNK_SIZE

READ_CHUNK = CHUNK_SIZE + ABYTES  # one secretstream chunk with its tag
#: Blobs reach the disk in whole blocks of this size, from one page-aligned buffer.
WRITE_BLOCK = 1024 * 1024
#: O_DIRECT needs buffer address, file offset and length aligned to the device's logical
#: block size: 4096 covers 512-byte and 4K devices.
_DIRECT_ALIGN = 4096


class BlobNotFound(Exception):
    """No blob with that id."""


class BlobStore(Protocol):
    """Where ciphertext blobs are kept (filesystem now; an S3-compatible store later)."""

    def write(self, chunks: Iterable[bytes], *, day: date) -> tuple[str, int]:
        """Store the chunks under a new random id atomically; return (id, size in bytes)."""
        ...

    def put(self, blob_id: str, chunks: Iterable[bytes], *, day: date) -> int:
        """Store the chunks under `blob_id` (a restore) atomically; return the size in bytes.
        Raise ValueError for an id that `new_blob_id` could not have made, FileExistsError if
        a blob with that id exists (it is never replaced)."""
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

    def clear_temporary(self, older_than: timedelta = ...) -> int:
        """Remove what interrupted writes left behind (older than `older_than`; writes in
        flight are kept); return how many."""
        ...


def new_blob_id() -> str:
    """A random blob id: 128 bits, hex, unrelated to the content or the file name."""
    return secrets.token_hex(16)


def _is_blob_id(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


class FileSystemBlobStore:
    """Blobs as files `<root>/<id[:2]>/<id>`, written to `<root>/tmp` then renamed into place.

    File times, and the times of the folders a new file changes, are set to midnight UTC of the
    day written (the reporter's day or week): an exact modification time on disk would tell
    when a reporter uploaded evidence. (Change times cannot be set: SECURITY.md.)
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
        try:
            midnight = datetime.combine(day, time.min, tzinfo=UTC).timestamp()
            size = _write_new_file(tmp_path, chunks, midnight)
            final = self._path(blob_id)
            new_folder = _make_folder(final.parent)
            os.replace(tmp_path, final)
            # The rename, and a new folder, must survive a crash: the row referencing the
            # blob is committed next.
            self._settle(final.parent, new_folder, midnight)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        return blob_id, size

    def put(self, blob_id: str, chunks: Iterable[bytes], *, day: date) -> int:
        """Store the chunks under a given id (restoring a backup), dated and written like
        `write`; partial files never become visible and an existing blob is never replaced
        (ValueError for an invalid id, FileExistsError for an existing one)."""
        if not _is_blob_id(blob_id):
            raise ValueError("invalid blob id")
        final = self._path(blob_id)
        if final.exists():
            raise FileExistsError(f"blob {blob_id} exists")
        tmp_path = self._tmp / f"{blob_id}.{secrets.token_hex(4)}"
        try:
            midnight = datetime.combine(day, time.min, tzinfo=UTC).timestamp()
            size = _write_new_file(tmp_path, chunks, midnight)
            new_folder = _make_folder(final.parent)
            # A link, unlike a rename, fails if the id was stored meanwhile.
            os.link(tmp_path, final)
            tmp_path.unlink()  # before the folders are dated: it changes the temporary one
            self._settle(final.parent, new_folder, midnight)
        finally:
            tmp_path.unlink(missing_ok=True)
        return size

    def _settle(self, folder: Path, new_folder: bool, midnight: float) -> None:
        """Date the folders the new file changed like the file itself, then make the new
        entries durable. A folder's modification time is that of its latest change: left alone,
        it would tell when the latest upload arrived to the second."""
        changed = [folder, self._tmp] + ([self.root] if new_folder else [])
        for path in changed:
            os.utime(path, (midnight, midnight))
        _fsync_directory(folder)
        if new_folder:
            _fsync_directory(self.root)

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
        """Remove a blob if present, leaving its folder's times as they were.

        An unlink sets the folder's modification time to now: after a refused upload (whose
        blobs are deleted at once) the folder would tell when a reporter tried, to the second.
        The folder keeps the coarse day of its latest write instead.
        """
        try:
            path = self._path(blob_id)
        except BlobNotFound:
            return
        try:
            before = path.parent.stat()
        except FileNotFoundError:
            return  # no folder, no blob
        try:
            path.unlink()
        except FileNotFoundError:
            return
        os.utime(path.parent, ns=(before.st_atime_ns, before.st_mtime_ns))

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


class _BlockWriter:
    """Writes a new file in whole blocks from a page-aligned buffer, bypassing the page cache
    (O_DIRECT) where the filesystem allows it.

    Why: ciphertext of evidence is written once and read rarely. Through the page cache, a
    1 GiB upload costs seconds of kernel CPU on a busy host, at random, and a long fsync at
    the end; direct block writes cost almost no CPU and leave the cache to the database
    (benches/upload.py). Filesystems without O_DIRECT (tmpfs) get the same block writes
    through the cache. The tail that does not fill an aligned block is written through the
    cache, then everything is fsynced.
    """

    def __init__(self, path: Path, *, mtime: float) -> None:
        # An anonymous mapping is page-aligned, as O_DIRECT requires. Made before the file
        # is opened, so that a failure here leaves no descriptor behind.
        self._buffer = mmap.mmap(-1, WRITE_BLOCK)
        self._view = memoryview(self._buffer)
        self._fd, self._direct = _open_new_file(path)
        self._mtime = mtime
        self._fill = 0
        self.size = 0

    def __enter__(self) -> _BlockWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)
        self._view.release()
        # If a traceback still holds a slice of the buffer, it is freed with that instead.
        with contextlib.suppress(BufferError):
            self._buffer.close()

    def write_batches(self, batches: Iterable[list[bytes]]) -> None:
        """Write every chunk of every batch, then :meth:`finish`."""
        for batch in batches:
            for chunk in batch:
                self.write(chunk)
        self.finish()

    def write(self, data: bytes) -> None:
        """Append `data`, writing out every block it completes."""
        piece = memoryview(data).cast("B")
        n = piece.nbytes
        pos = 0
        while pos < n:
            take = min(WRITE_BLOCK - self._fill, n - pos)
            self._view[self._fill : self._fill + take] = piece[pos : pos + take]
            self._fill += take
            pos += take
            if self._fill == WRITE_BLOCK:
                self._write_out(self._view)
                self._fill = 0
        self.size += n

    def finish(self) -> None:
        """Write what is buffered, set the file's times, and make it all durable."""
        aligned = self._fill - self._fill % _DIRECT_ALIGN
        if aligned:
            self._write_out(self._view[:aligned])
        if aligned < self._fill:
            self._stop_direct()  # an unaligned length cannot go through O_DIRECT
            self._write_out(self._view[aligned : self._fill])
        self._fill = 0
        # Before the fsync, so that the coarse time is what reaches the disk.
        os.utime(self._fd, (self._mtime, self._mtime))
        os.fsync(self._fd)

    def _write_out(self, block: memoryview) -> None:
        done = 0
        while done < block.nbytes:
            try:
                written = os.write(self._fd, block[done:])
            except OSError as exc:
                # Some filesystems accept O_DIRECT at open and refuse the write itself.
                if not (self._direct and exc.errno == errno.EINVAL):
                    raise
                self._stop_direct()
                continue
            done += written
            if done < block.nbytes:
                self._stop_direct()  # a short write leaves the offset unaligned

    def _stop_direct(self) -> None:
        if self._direct:
            flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
            fcntl.fcntl(self._fd, fcntl.F_SETFL, flags & ~os.O_DIRECT)
            self._direct = False


def _write_new_file(path: Path, chunks: Iterable[bytes], mtime: float) -> int:
    """Write `chunks` to a new file dated `mtime`, durably; return its size. The calling
    thread produces the chunks (encrypting them, for an upload) while a second thread writes
    the ones before: CPU and disk overlap."""
    with _BlockWriter(path, mtime=mtime) as out:
        consume_in_background(_batched(chunks, WRITE_BLOCK), out.write_batches,
                              depth=2, name="candor-blob-write")
        return out.size


def _batched(chunks: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    """Group chunks into lists of about `size` bytes: one thread hand-over per list."""
    batch: list[bytes] = []
    total = 0
    for chunk in chunks:
        batch.append(chunk)
        total += len(chunk)
        if total >= size:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def _make_folder(path: Path) -> bool:
    """Create a blob folder (0700) unless it exists; return whether it was created."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return False
    return True


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_new_file(path: Path) -> tuple[int, bool]:
    """Create `path` (mode 0600, never an existing file); (fd, whether O_DIRECT is on)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    direct = getattr(os, "O_DIRECT", 0)
    if direct:
        try:
            return os.open(path, flags | direct, 0o600), True
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            # The filesystem has no O_DIRECT; the file may have been created nonetheless.
            path.unlink(missing_ok=True)
    return os.open(path, flags, 0o600), False
