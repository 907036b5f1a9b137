"""Encrypting attachments into the blob store and decrypting them back, chunk by chunk."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from core.background import consume_in_background
from core.blobs import BlobNotFound, BlobStore
from core.cases.content import FileMeta
from core.cases.contexts import BINDING, attachment_context
from core.cases.grants import CaseKeys
from core.cases.ordering import next_position
from core.cases.pending_files import claim, hold
from core.errors import InvalidInput
from core.models import Attachment, Case, KeyKind, Message
from core.models.base import random_row_id
from crypto.errors import DecryptionError
from crypto.keys import new_key
from crypto.records import decrypt_record, encrypt_record
from crypto.stream import CHUNK_SIZE, STREAM_VERSION, decrypt_stream, encrypt_stream

MAX_FILE_NAME = 255
#: What a shortened name keeps of its end: one or two extensions of up to 10 characters.
_EXTENSION = re.compile(r"(?:\.[^.\s]{1,10}){1,2}$")

#: Plaintext bytes per encrypted chunk: upload parsers hand file data on in whole chunks
#: of this size, so that it is encrypted without another copy.
FILE_CHUNK_SIZE = CHUNK_SIZE


class _Counter:
    """Counts plaintext bytes flowing through, and enforces a limit while streaming."""

    def __init__(self, chunks: Iterable[bytes], limit: int | None) -> None:
        self.chunks = chunks
        self.limit = limit
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.size += len(chunk)
            if self.limit is not None and self.size > self.limit:
                raise InvalidInput("The files are larger than this service accepts.",
                                   field="attachments")
            yield chunk


@dataclass(frozen=True)
class StoredFile:
    """An encrypted blob written to the store, not yet recorded in the database. Its file key
    and metadata are encrypted when the row is made (add_file_rows), bound to that row."""

    blob_id: str
    key_kind: KeyKind
    file_key: bytes = field(repr=False)
    meta: FileMeta = field(repr=False)
    stored_size: int
    plaintext_size: int
    stream_version: int = STREAM_VERSION


def add_file_rows(session: Session, case: Case, message: Message | None,
                  files: Sequence[StoredFile], day: date, keys: CaseKeys, *,
                  evidence_id: int | None = None) -> None:
    """Record stored files as the case's next files, in the order given (`message` None: the
    report's own files, or an evidence entry's with `evidence_id`), each encrypted under the
    current key of its kind and bound to its row (core.cases.contexts). Their blobs are kept
    if these rows commit (core.cases.pending_files)."""
    claim(session, (stored.blob_id for stored in files))
    first = next_position(session, Attachment, case.id)
    for offset, stored in enumerate(files):
        epoch, key = keys.current(stored.key_kind)
        row = Attachment(
            id=random_row_id(), case_id=case.id, position=first + offset,
            message_id=message.id if message is not None else None, evidence_id=evidence_id,
            key_kind=stored.key_kind, key_epoch=epoch, binding=BINDING, blob_id=stored.blob_id,
            stored_size=stored.stored_size, stream_version=stored.stream_version,
            created_on=day,
        )
        row.wrapped_file_key = encrypt_record(
            key, stored.file_key, attachment_context(case.reference, row, message, "key"))
        row.meta_ciphertext = encrypt_record(
            key, stored.meta.to_bytes(), attachment_context(case.reference, row, message, "meta"))
        session.add(row)


def clean_file_name(name: str) -> str:
    """Keep only what follows the last "/" and drop control characters (names are shown to
    reviewers and used in downloads). A backslash is part of a name on Linux and macOS
    ("notes\\"), so it is kept: the upload parser has already taken any Windows folders off,
    and downloads make every name safe for their header."""
    base = name.rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if len(base) > MAX_FILE_NAME:
        # Cut the stem, not the extension (one or two: .pdf, .tar.gz): the file must still
        # open with the right program.
        ending = _EXTENSION.search(base)
        kept = ending.group(0) if ending and ending.start() > 0 else ""
        base = base[:MAX_FILE_NAME - len(kept)].rstrip() + kept
    return base or "attachment"


def store_file(
    blobs: BlobStore,
    *,
    key_kind: KeyKind,
    name: str,
    content_type: str,
    chunks: Iterable[bytes],
    day: date,
    limit: int | None = None,
    session: Session | None = None,
) -> StoredFile:
    """Encrypt `chunks` under a new file key straight into a new blob.

    Memory stays at a few pieces (those waiting between the threads) whatever the file size;
    nothing is written in clear.
    If the stream fails or exceeds `limit`, the partial blob is removed and the error raised.
    With `session`, the blob is held there (core.cases.pending_files): deleted when the
    session's transaction ends, unless a committed row references it.
    """
    file_key = new_key()
    counter = _Counter(chunks, limit)

    def encrypt_and_write(plaintext: Iterator[bytes]) -> tuple[str, int]:
        return blobs.write(encrypt_stream(file_key, plaintext, version=STREAM_VERSION), day=day)

    # This thread keeps reading (and counting) the plaintext while a worker encrypts and
    # writes the pieces before it: the two overlap on separate cores (benches/upload.py).
    blob_id, stored_size = consume_in_background(counter, encrypt_and_write,
                                                 name="candor-encrypt")
    if session is not None:
        hold(session, blobs, blob_id)
    meta = FileMeta(name=clean_file_name(name), content_type=content_type[:100] or
                    "application/octet-stream", size=counter.size)
    return StoredFile(blob_id=blob_id, key_kind=key_kind, file_key=file_key, meta=meta,
                      stored_size=stored_size, plaintext_size=counter.size)


def attachment_key(attachment: Attachment, keys: CaseKeys) -> bytes | None:
    """The case key an attachment's records are under, if the reader holds it."""
    return keys.get(attachment.key_kind, attachment.key_epoch)


def file_meta(attachment: Attachment, reference: str, key: bytes) -> FileMeta:
    """Decrypt an attachment's name, type and size (DecryptionError: moved or altered)."""
    return FileMeta.from_bytes(decrypt_record(
        key, attachment.meta_ciphertext,
        attachment_context(reference, attachment, attachment.message, "meta")))


def file_plaintext(
    blobs: BlobStore, attachment: Attachment, reference: str, key: bytes
) -> Iterator[bytes]:
    """Stream an attachment's decrypted bytes (raises crypto.StreamError on tampering)."""
    return blob_plaintext(blobs, attachment.blob_id, attachment.stream_version,
                          open_file_key(attachment, reference, key))


class FileUnreadable(Exception):
    """A file's blob is missing, or fails its integrity check at its start."""


def checked_plaintext(
    blobs: BlobStore, attachment: Attachment, reference: str, key: bytes
) -> Iterator[bytes]:
    """file_plaintext with its first chunk already read and checked, so that a missing blob,
    or one altered in its first chunk (all of a small file), fails here, before a download's
    response starts (FileUnreadable), not as a broken response. A change further on still
    breaks the stream (crypto.StreamError): no unchecked byte is ever sent."""
    try:
        stream = file_plaintext(blobs, attachment, reference, key)
        first = next(stream, b"")
    except (BlobNotFound, DecryptionError) as exc:
        raise FileUnreadable(f"file {attachment.id} is missing or failed its check") from exc
    return itertools.chain((first,), stream)


def open_file_key(attachment: Attachment, reference: str, key: bytes) -> bytes:
    """An attachment's own file key (DecryptionError: moved or altered)."""
    return decrypt_record(
        key, attachment.wrapped_file_key,
        attachment_context(reference, attachment, attachment.message, "key"))


def blob_plaintext(blobs: BlobStore, blob_id: str, stream_version: int,
                   file_key: bytes) -> Iterator[bytes]:
    """Decrypt a blob chunk by chunk with its file key; needs no database, so it can run
    while a response streams after the request's transaction ended (crypto.StreamError
    on tampering)."""
    return decrypt_stream(file_key, blobs.read(blob_id), version=stream_version)
