"""The filesystem blob store's block writes: O_DIRECT where the filesystem has it, the
fallbacks where it has not, durability, and no leaks when a write fails (test_blobs.py holds
the tests both stores share)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from datetime import date
from pathlib import Path

import pytest

from core import blobs as blobs_module
from core.blobs import WRITE_BLOCK, FileSystemBlobStore
from tests.core.test_blobs import files_under, pieces_of

DAY = date(2024, 3, 9)


@pytest.fixture
def fs_store(tmp_path: Path) -> FileSystemBlobStore:
    return FileSystemBlobStore(tmp_path / "blobs")


def test_files_are_written_with_o_direct_where_possible(fs_store, monkeypatch):
    store = fs_store
    opened = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777):
        fd = real_open(path, flags, mode)
        opened.append(flags)
        return fd

    monkeypatch.setattr(blobs_module.os, "open", recording_open)
    data = os.urandom(2 * WRITE_BLOCK + 10)
    blob_id, _ = store.write([data], day=DAY)
    assert b"".join(store.read(blob_id)) == data
    # This machine's filesystem (ext4 in CI) supports O_DIRECT: the first open asked for it.
    assert opened[0] & os.O_DIRECT
    assert stat.S_IMODE((store.root / blob_id[:2] / blob_id).stat().st_mode) == 0o600


def test_falls_back_when_the_filesystem_refuses_o_direct_at_open(fs_store, monkeypatch):
    store = fs_store
    import errno

    real_open = os.open

    def no_direct(path, flags, mode=0o777):
        if flags & os.O_DIRECT:
            fd = real_open(path, flags & ~os.O_DIRECT, mode)  # created, as tmpfs may do
            os.close(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, mode)

    monkeypatch.setattr(blobs_module.os, "open", no_direct)
    data = os.urandom(WRITE_BLOCK + 5)
    blob_id, size = store.write([data], day=DAY)
    assert size == len(data)
    assert b"".join(store.read(blob_id)) == data
    assert list((store.root / "tmp").iterdir()) == []


def test_falls_back_when_a_direct_write_is_refused(fs_store, monkeypatch):
    store = fs_store
    import errno
    import fcntl

    real_write = os.write

    def refuse_direct(fd, data):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(blobs_module.os, "write", refuse_direct)
    data = os.urandom(2 * WRITE_BLOCK + 4096)
    blob_id, _ = store.write([data], day=DAY)
    assert b"".join(store.read(blob_id)) == data


def test_short_writes_are_completed(fs_store, monkeypatch):
    store = fs_store
    real_write = os.write

    def short(fd, data):
        return real_write(fd, bytes(memoryview(data)[:12_345]))

    monkeypatch.setattr(blobs_module.os, "write", short)
    data = os.urandom(WRITE_BLOCK + 70_000)
    blob_id, _ = store.write(pieces_of(data, 65_553), day=DAY)
    assert b"".join(store.read(blob_id)) == data


def test_a_failing_disk_leaves_nothing(fs_store, monkeypatch):
    store = fs_store
    import errno

    calls = 0
    real_write = os.write

    def disk_full(fd, data):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(blobs_module.os, "write", disk_full)
    pulled = 0

    def plenty():
        nonlocal pulled
        for _ in range(200):
            pulled += 1
            yield os.urandom(WRITE_BLOCK)

    with pytest.raises(OSError, match="No space"):
        store.write(plenty(), day=DAY)
    assert files_under(store.root) == []
    assert pulled < 10  # the producer stopped soon after the writer failed


def test_tmpfs_without_o_direct(tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("no /dev/shm on this machine")
    root = Path(tempfile.mkdtemp(dir=shm))
    try:
        store = FileSystemBlobStore(root)
        data = os.urandom(WRITE_BLOCK + 3)
        blob_id, _ = store.write([data], day=DAY)
        assert b"".join(store.read(blob_id)) == data
    finally:
        shutil.rmtree(root)


def test_rename_and_new_folders_are_made_durable(fs_store, monkeypatch):
    store = fs_store
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(blobs_module.os, "fsync", recording_fsync)
    blob_id, _ = store.write([b"x" * 10_000], day=DAY)
    folder = store.root / blob_id[:2]
    # The file (still under tmp/ when synced), its folder after the rename, and the root,
    # which holds the folder's new entry.
    assert synced[0] == str(store.root / "tmp" / blob_id)
    assert synced[1:] == [str(folder), str(store.root)]


def test_no_descriptor_leaks_when_the_buffer_cannot_be_allocated(fs_store, monkeypatch):
    store = fs_store
    def no_memory(*args, **kwargs):
        raise OSError(12, "Cannot allocate memory")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(blobs_module.mmap, "mmap", no_memory)
    for _ in range(5):
        with pytest.raises(OSError, match="allocate"):
            store.write([b"x"], day=DAY)
    assert len(os.listdir("/proc/self/fd")) == before
    assert files_under(store.root) == []
