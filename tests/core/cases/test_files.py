"""Attachments: streamed into the blob store encrypted, decrypted back in their format."""

from __future__ import annotations

import os
from datetime import date

import pytest

from core.blobs import FileSystemBlobStore
from core.cases.content import FileMeta
from core.cases.contexts import attachment_context, file_key_context
from core.cases.files import (
    MAX_FILE_NAME,
    StoredFile,
    clean_file_name,
    file_plaintext,
    store_file,
)
from core.errors import InvalidInput
from core.models import Attachment, KeyKind
from crypto.errors import StreamError
from crypto.keys import new_key
from crypto.records import encrypt_record
from crypto.stream import STREAM_VERSION, encrypt_stream, encrypted_size

DAY = date(2026, 11, 28)
REFERENCE = "K7QX2M"


def pieces(data: bytes, step: int = 100_003):
    return (data[i : i + step] for i in range(0, len(data), step))


@pytest.fixture
def blobs(tmp_path):
    return FileSystemBlobStore(tmp_path / "blobs")


def _report_file_row(stored: StoredFile, case_key: bytes, *, binding: int = 2) -> Attachment:
    """The row add_file_rows makes for a file of the report itself (binding 2), or the row
    of a file written before migration 0009 (binding 1)."""
    row = Attachment(id=1, case_id=1, position=1, message_id=None, key_kind=stored.key_kind,
                     key_epoch=1, binding=binding, blob_id=stored.blob_id,
                     stored_size=stored.stored_size, stream_version=stored.stream_version,
                     created_on=DAY)
    row.wrapped_file_key = encrypt_record(case_key, stored.file_key,
                                          attachment_context(REFERENCE, row, None, "key"))
    return row


def test_store_file_writes_the_current_format(blobs):
    case_key = new_key()
    data = os.urandom(3 * 1024 * 1024 + 11)
    stored = store_file(blobs, key_kind=KeyKind.CASE, name="x.bin",
                        content_type="application/octet-stream", chunks=pieces(data), day=DAY)
    assert stored.stream_version == STREAM_VERSION
    assert stored.plaintext_size == len(data)
    assert stored.stored_size == encrypted_size(len(data), version=STREAM_VERSION)
    row = _report_file_row(stored, case_key)
    assert row.stream_version == STREAM_VERSION
    assert b"".join(file_plaintext(blobs, row, REFERENCE, case_key)) == data


def test_format_1_blobs_still_decrypt(blobs):
    """A blob written before format 2 (64 KiB chunks), its key wrapped with the binding of
    the time (case and blob only), reads back through the same path."""
    case_key, file_key = new_key(), new_key()
    data = os.urandom(200_000)  # several 64 KiB chunks
    blob_id, size = blobs.write(encrypt_stream(file_key, pieces(data), version=1), day=DAY)
    old = _report_file_row(
        StoredFile(blob_id=blob_id, key_kind=KeyKind.CASE, file_key=file_key,
                   meta=FileMeta(name="old.bin", content_type="", size=len(data)),
                   stored_size=size, plaintext_size=len(data), stream_version=1),
        case_key, binding=1)
    old.wrapped_file_key = encrypt_record(case_key, file_key,
                                          file_key_context(REFERENCE, blob_id))
    assert b"".join(file_plaintext(blobs, old, REFERENCE, case_key)) == data
    # Read with the wrong format, it fails authentication instead of yielding garbage.
    old.stream_version = 2
    with pytest.raises(StreamError):
        b"".join(file_plaintext(blobs, old, REFERENCE, case_key))


def test_limit_is_enforced_while_streaming_and_leaves_no_blob(blobs):
    pulled = 0

    def endless():
        nonlocal pulled
        while True:
            pulled += 1
            yield bytes(1024 * 1024)

    with pytest.raises(InvalidInput):
        store_file(blobs, key_kind=KeyKind.CASE, name="big.bin", content_type="",
                   chunks=endless(), day=DAY, limit=5 * 1024 * 1024)
    assert pulled == 6  # stopped at the first piece over the limit
    assert not [p for p in blobs.root.rglob("*") if p.is_file()]


def test_a_failing_upload_leaves_no_blob(blobs):
    def cut_short():
        yield os.urandom(3 * 1024 * 1024)
        raise OSError("client went away")

    with pytest.raises(OSError, match="went away"):
        store_file(blobs, key_kind=KeyKind.CASE, name="x", content_type="",
                   chunks=cut_short(), day=DAY)
    assert not [p for p in blobs.root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(("name", "kept"), [
    ("notes\\", "notes\\"),  # legal on Linux and macOS: it was stored as "attachment"
    ("a\\b.txt", "a\\b.txt"),
    ("dir/plan.pdf", "plan.pdf"),
    ("bad\r\nname.txt", "badname.txt"),
    ("/", "attachment"),
])
def test_file_names_keep_backslashes(name, kept):
    """The name as the reporter chose it (web.upload_parts has taken Windows folders off);
    only what cannot be a name goes."""
    assert clean_file_name(name) == kept


@pytest.mark.parametrize(("name", "kept"), [
    ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ("a" * 300 + ".tar.gz", "a" * 248 + ".tar.gz"),
    ("a" * 300, "a" * 255),
    ("x." + "b" * 300, ("x." + "b" * 300)[:255]),  # no extension worth keeping
    ("a" * 300 + ".", "a" * 255),
    ("a" * 255 + ".pdf", "a" * 251 + ".pdf"),
    ("a" * 251 + ".pdf", "a" * 251 + ".pdf"),  # not too long: as it was
])
def test_a_name_too_long_is_cut_in_its_stem(name, kept):
    """At most MAX_FILE_NAME characters, keeping the extension(s) the file opens by."""
    assert clean_file_name(name) == kept
    assert len(kept) <= MAX_FILE_NAME
