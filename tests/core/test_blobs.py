"""The blob stores: the same tests for the filesystem store and the S3 store (a real moto
server over HTTP), then the filesystem store's own (file modes, O_DIRECT, temporary files).
The S3 store's own tests are in test_blobs_s3.py."""

from __future__ import annotations

import os
import stat
from datetime import UTC, date, datetime, timedelta

import pytest

from core.blobs import READ_CHUNK, BlobNotFound, FileSystemBlobStore, new_blob_id
from core.blobs_s3 import MIN_PART_SIZE, S3BlobStore
from tests.s3_server import object_keys, pending_uploads, s3_bucket, s3_client, s3_endpoint

__all__ = ["s3_bucket", "s3_client", "s3_endpoint"]  # fixtures

DAY = date(2024, 3, 9)
STORES = ["filesystem", "s3"]


@pytest.fixture
def fs_store(tmp_path):
    return FileSystemBlobStore(tmp_path / "blobs")


@pytest.fixture
def s3_store(s3_client, s3_bucket):
    # The smallest part S3 allows, so that multipart uploads need little test data.
    return S3BlobStore(s3_client, s3_bucket, "candor/", part_size=MIN_PART_SIZE)


@pytest.fixture(params=STORES)
def store(request):
    """Each blob store in turn (the S3 server starts only for the S3 store's tests)."""
    return request.getfixturevalue(f"{'fs' if request.param == 'filesystem' else 's3'}_store")


def files_under(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def leftovers(store):
    """Whatever the store holds: files (finished or temporary), or objects and pending
    multipart uploads."""
    if isinstance(store, FileSystemBlobStore):
        return files_under(store.root)
    return (object_keys(store.client, store.bucket)
            + [u["Key"] for u in pending_uploads(store.client, store.bucket)])


def stored_size(store, blob_id):
    """The size of the stored blob, as the store's own metadata says."""
    if isinstance(store, FileSystemBlobStore):
        return (store.root / blob_id[:2] / blob_id).stat().st_size
    return store.client.head_object(Bucket=store.bucket, Key=store.key(blob_id))["ContentLength"]


def add_stray(store, name, data=b"not a blob"):
    """A file or object named `name` (relative to the store) that the store did not write."""
    if isinstance(store, FileSystemBlobStore):
        path = store.root / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    else:
        store.client.put_object(Bucket=store.bucket, Key=store.prefix + name, Body=data)


def test_write_read_delete(store):
    data = [os.urandom(1000), b"", os.urandom(READ_CHUNK + 70_000), b"end"]
    blob_id, size = store.write(iter(data), day=DAY)
    assert size == sum(map(len, data))
    assert len(blob_id) == 32 and all(c in "0123456789abcdef" for c in blob_id)
    assert b"".join(store.read(blob_id)) == b"".join(data)
    chunks = list(store.read(blob_id))
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= READ_CHUNK
    assert [(blob_id, DAY)] == list(store.list_blobs())
    store.delete(blob_id)
    with pytest.raises(BlobNotFound):
        store.read(blob_id)
    store.delete(blob_id)  # missing: not an error
    assert list(store.list_blobs()) == []


def test_empty_blob(store):
    blob_id, size = store.write([], day=DAY)
    assert size == 0
    assert b"".join(store.read(blob_id)) == b""


def test_ids_are_random_and_unrelated_to_content(store):
    ids = {store.write([b"same"], day=DAY)[0] for _ in range(20)}
    assert len(ids) == 20
    for blob_id in ids:
        assert b"".join(store.read(blob_id)) == b"same"


@pytest.mark.parametrize("piece", [100_000, 3 * 1024 * 1024])  # the S3 store: one part, two
def test_failing_stream_leaves_nothing(store, piece):
    def broken():
        yield b"a" * piece
        yield b"b" * piece
        raise OSError("client went away")

    with pytest.raises(OSError, match="went away"):
        store.write(broken(), day=DAY)
    assert leftovers(store) == []
    assert list(store.list_blobs()) == []


@pytest.mark.parametrize("piece", [10, 3 * 1024 * 1024])
def test_interrupt_leaves_nothing(store, piece):
    def interrupted():
        yield b"x" * piece
        yield b"y" * piece
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.write(interrupted(), day=DAY)
    assert leftovers(store) == []


def test_list_blobs_gives_each_blob_its_day(store):
    days = [date(2023, 12, 31), date(2024, 1, 1), DAY, date(2024, 2, 29)]
    written = {store.write([day.isoformat().encode()], day=day)[0]: day for day in days}
    # A datetime is a date too: only its day is kept.
    late, _ = store.write([b"late"], day=datetime(2024, 3, 9, 23, 59, 58, tzinfo=UTC))
    written[late] = DAY
    assert dict(store.list_blobs()) == written
    assert len(list(store.list_blobs())) == len(written)


def needs_put(store):
    # `put` (restoring a backup) reaches the filesystem store in a change of its own.
    if not hasattr(store, "put"):
        pytest.skip(f"{type(store).__name__} has no put")


def test_put_stores_under_the_given_id(store):
    needs_put(store)
    blob_id = new_blob_id()
    data = [os.urandom(70_000), b"", os.urandom(READ_CHUNK + 3)]
    assert store.put(blob_id, iter(data), day=DAY) == sum(map(len, data))
    assert b"".join(store.read(blob_id)) == b"".join(data)
    assert list(store.list_blobs()) == [(blob_id, DAY)]
    empty = new_blob_id()
    assert store.put(empty, [], day=DAY) == 0
    assert b"".join(store.read(empty)) == b""
    assert sorted(store.list_blobs()) == sorted([(blob_id, DAY), (empty, DAY)])


def test_put_never_replaces_a_blob(store):
    needs_put(store)
    blob_id, _ = store.write([b"original"], day=DAY)
    with pytest.raises(FileExistsError):
        store.put(blob_id, [b"replacement"], day=date(2024, 4, 1))
    assert b"".join(store.read(blob_id)) == b"original"
    assert list(store.list_blobs()) == [(blob_id, DAY)]


@pytest.mark.parametrize("bad", ["", "../" + "0" * 29, "A" * 32, "0" * 31, "tmp"])
def test_put_refuses_an_invalid_id(store, bad):
    needs_put(store)
    with pytest.raises(ValueError):
        store.put(bad, [b"x"], day=DAY)
    assert leftovers(store) == []


def test_an_interrupted_put_leaves_nothing(store):
    needs_put(store)
    def interrupted():
        yield b"x" * (3 * 1024 * 1024)
        yield b"y" * (3 * 1024 * 1024)
        raise KeyboardInterrupt

    blob_id = new_blob_id()
    with pytest.raises(KeyboardInterrupt):
        store.put(blob_id, interrupted(), day=DAY)
    assert leftovers(store) == []
    with pytest.raises(BlobNotFound):
        store.read(blob_id)


def test_file_time_is_midnight_utc_of_the_day(fs_store):
    store = fs_store
    blob_id, _ = store.write([b"x"], day=DAY)
    path = store.root / blob_id[:2] / blob_id
    midnight = datetime(2024, 3, 9, tzinfo=UTC).timestamp()
    st = path.stat()
    assert st.st_mtime == midnight
    assert st.st_atime == midnight


def test_folders_are_dated_like_the_files_they_received(fs_store):
    # A folder's modification time is that of its latest entry: left alone it would date the
    # latest upload to the second. The blob's folder, the temporary folder and (for a new
    # folder) the root all carry the day only, after write and after put.
    store = fs_store
    midnight = datetime(2024, 3, 9, tzinfo=UTC).timestamp()
    blob_id, _ = store.write([b"x"], day=DAY)
    restored = "ab" * 16
    store.put(restored, [b"y"], day=DAY)
    for folder in (store.root, store.root / "tmp", store.root / blob_id[:2],
                   store.root / restored[:2]):
        assert folder.stat().st_mtime == midnight, folder


def test_deleting_a_blob_leaves_its_folder_dated_as_before(fs_store):
    # A refused upload deletes the blobs it wrote at once: an unlink dates the folder to the
    # second unless the store puts its times back.
    store = fs_store
    midnight = datetime(2024, 3, 9, tzinfo=UTC).timestamp()
    blob_id, _ = store.write([b"x"], day=DAY)
    store.delete(blob_id)
    folder = store.root / blob_id[:2]
    assert not (folder / blob_id).exists()
    assert folder.stat().st_mtime == midnight
    store.delete(blob_id)  # deleting it again is not an error, and dates nothing
    store.delete("cd" * 16)  # nor is a blob whose folder never existed
    assert folder.stat().st_mtime == midnight


def test_blob_is_not_readable_by_others(fs_store):
    store = fs_store
    blob_id, _ = store.write([b"x"], day=DAY)
    folder = store.root / blob_id[:2]
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((store.root / "tmp").stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "../../etc/passwd",
        "tmp",
        "A" * 32,
        "0" * 31,
        "0" * 33,
        "g" * 32,
        "../" + "0" * 29,
        "0" * 16 + "/" + "0" * 15,
        "ABCDEF" + "0" * 26,
    ],
)
def test_invalid_blob_ids_are_rejected(store, bad, tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    kept, _ = store.write([b"keep me too"], day=DAY)
    with pytest.raises(BlobNotFound):
        store.read(bad)
    store.delete(bad)  # no error, and nothing outside the store is touched
    assert victim.read_bytes() == b"keep me"
    assert b"".join(store.read(kept)) == b"keep me too"
    assert list(store.list_blobs()) == [(kept, DAY)]


def test_a_missing_blob_is_not_found(store):
    with pytest.raises(BlobNotFound):
        store.read(new_blob_id())


def test_path_traversal_cannot_delete_outside(tmp_path):
    store = FileSystemBlobStore(tmp_path / "blobs")
    outside = tmp_path / ("0" * 32)
    outside.write_bytes(b"outside")
    store.delete("../" + "0" * 29)
    store.delete(str(outside))
    assert outside.exists()


def test_list_blobs_ignores_stray_files(store):
    blob_id, _ = store.write([b"x"], day=DAY)
    add_stray(store, "README")
    add_stray(store, f"{blob_id[:2]}/notes.txt")
    add_stray(store, f"tmp/{'f' * 32}", b"partial")
    add_stray(store, f"{'e' * 32}")  # a blob id, but not in its folder
    assert list(store.list_blobs()) == [(blob_id, DAY)]


def test_clear_temporary(fs_store):
    store = fs_store
    import os
    import time

    blob_id, _ = store.write([b"x"], day=DAY)
    old = time.time() - 24 * 3600
    for i in range(3):
        leftover = store.root / "tmp" / f"{i:032x}"
        leftover.write_bytes(b"partial")
        os.utime(leftover, (old, old))
    assert store.clear_temporary() == 3
    assert list((store.root / "tmp").iterdir()) == []
    assert b"".join(store.read(blob_id)) == b"x"


def test_clear_temporary_keeps_uploads_in_flight(tmp_path):
    import os
    import time

    from core.blobs import FileSystemBlobStore

    store = FileSystemBlobStore(tmp_path / "blobs")
    stale = tmp_path / "blobs" / "tmp" / ("a" * 32)
    fresh = tmp_path / "blobs" / "tmp" / ("b" * 32)
    stale.write_bytes(b"old ciphertext")
    fresh.write_bytes(b"being written")
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    assert store.clear_temporary(timedelta(hours=6)) == 1
    assert not stale.exists()
    assert fresh.exists()


# ---- block writes (O_DIRECT where the filesystem has it)

from core.blobs import WRITE_BLOCK  # noqa: E402

EDGE_SIZES = [0, 1, 4095, 4096, 4097, WRITE_BLOCK - 1, WRITE_BLOCK, WRITE_BLOCK + 1,
              3 * WRITE_BLOCK + 4099]


def pieces_of(data: bytes, step: int):
    return (data[i : i + step] for i in range(0, len(data), step))


@pytest.mark.parametrize("size", EDGE_SIZES)
def test_block_edges_round_trip(store, size):
    data = os.urandom(size)
    for step in (65_553, 1_000_003):
        blob_id, written = store.write(pieces_of(data, step), day=DAY)
        assert written == size
        assert stored_size(store, blob_id) == size
        assert b"".join(store.read(blob_id)) == data
