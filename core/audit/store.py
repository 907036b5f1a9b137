"""The access log's records outside the database, in `<data dir>/audit/`:

- `leaves`: the leaf hash of every entry that a checkpoint covers, 32 bytes each, appended
  when a checkpoint is signed. Checkpoints sign the Merkle root of these hashes, so an export
  carrying them names the exact position where the database's log was altered afterwards;
- `checkpoints/<size>.txt`: every signed checkpoint note, as auditors receive it.

Someone who can write to the database (but not to these files) cannot rewrite either; someone
with the whole server can, but not the checkpoints that auditors already keep.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from crypto.merkle import HASH_BYTES, RootStream

_READ_CHUNK = HASH_BYTES * 65536


class LeafFile:
    """The append-only file of recorded leaf hashes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def count(self) -> int:
        """How many whole leaf hashes the file holds (a torn last write is ignored: it was
        never signed, and the next append overwrites it)."""
        try:
            return self.path.stat().st_size // HASH_BYTES
        except FileNotFoundError:
            return 0

    def read(self, count: int | None = None) -> bytes:
        """The first `count` leaf hashes (all of them by default), concatenated."""
        count = self.count() if count is None else count
        if count == 0:
            return b""
        with self.path.open("rb") as stream:
            data = stream.read(count * HASH_BYTES)
        if len(data) != count * HASH_BYTES:
            raise ValueError("the recorded leaf hashes are shorter than expected")
        return data

    def leaf(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        with self.path.open("rb") as stream:
            stream.seek(index * HASH_BYTES)
            return stream.read(HASH_BYTES)

    def chunks(self) -> Iterator[bytes]:
        """The whole leaf hashes in file order, in large chunks."""
        whole = self.count() * HASH_BYTES
        if not whole:
            return
        with self.path.open("rb") as stream:
            while whole > 0:
                chunk = stream.read(min(_READ_CHUNK, whole))
                if not chunk:
                    break
                whole -= len(chunk)
                yield chunk

    def root(self, size: int | None = None) -> bytes:
        """The Merkle root of the first `size` recorded leaves (default: all of them)."""
        stream = RootStream()
        for chunk in self.chunks():
            for offset in range(0, len(chunk), HASH_BYTES):
                if stream.size == size:
                    return stream.root()
                stream.append(chunk[offset:offset + HASH_BYTES])
        return stream.root()

    def append(self, leaves: bytes) -> None:
        """Append leaf hashes after the last whole one, durably (fsync) before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.lseek(fd, self.count() * HASH_BYTES, os.SEEK_SET)
            os.ftruncate(fd, self.count() * HASH_BYTES)
            view = memoryview(leaves)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)


class ChainMark:
    """The hash chain's head at the last recorded leaf (`<count> <head hex>`): the chain
    hash stored with that entry must still equal it, or an earlier entry was rewritten and
    every hash after it recomputed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> tuple[int, bytes] | None:
        """The recorded (count, head), if any."""
        try:
            count, head = self.path.read_text(encoding="ascii").split()
            return int(count), bytes.fromhex(head)
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return None

    def write(self, count: int, head: bytes) -> None:
        """Replace the mark atomically."""
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(f"{count} {head.hex()}\n", encoding="ascii")
        os.replace(temporary, self.path)


class CheckpointFiles:
    """The folder of signed checkpoint notes, one file per checkpoint, named by size."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, size: int) -> Path:
        """Where the checkpoint of `size` entries is kept."""
        return self.folder / f"{size:012d}.txt"

    def write(self, size: int, note: str) -> Path:
        """Keep a new note (atomically; an existing file is never overwritten)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path_for(size)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(note, encoding="utf-8")
        try:
            with temporary.open("rb") as stream:
                os.fsync(stream.fileno())
            os.link(temporary, path)  # FileExistsError if a note of this size is kept
        finally:
            temporary.unlink(missing_ok=True)
        return path

    def read(self, size: int) -> str | None:
        """The kept note of `size` entries, if any."""
        try:
            return self.path_for(size).read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return None

    def all(self) -> list[str]:
        """Every kept note, by size (unreadable files are skipped)."""
        if not self.folder.is_dir():
            return []
        notes = []
        for path in sorted(self.folder.glob("*.txt")):
            try:
                notes.append(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
        return notes


def audit_folder(data_dir: Path) -> Path:
    """`<data dir>/audit`."""
    return data_dir / "audit"


def leaf_file(data_dir: Path) -> LeafFile:
    """The instance's recorded leaf hashes."""
    return LeafFile(audit_folder(data_dir) / "leaves")


def chain_mark(data_dir: Path) -> ChainMark:
    """The chain head at the last recorded leaf."""
    return ChainMark(audit_folder(data_dir) / "chain")


def checkpoint_files(data_dir: Path) -> CheckpointFiles:
    """The instance's kept checkpoint notes."""
    return CheckpointFiles(audit_folder(data_dir) / "checkpoints")
