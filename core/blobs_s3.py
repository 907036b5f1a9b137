"""The blob store in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, ...).

Objects are `<prefix><id[:2]>/<id>` (the same random ids as the filesystem store), each with
one piece of user metadata, `day` (ISO date of the day written, as `x-amz-meta-day`), which
`list_blobs` returns for orphan sweeping. Nothing else is recorded by Candor: no content type,
no file name, no time of day.

What Candor cannot coarsen: the object store records its own exact `LastModified` time for
every object (and an `Initiated` time for a multipart upload in progress), which dates an
upload to the second for anyone who can list the bucket. SECURITY.md says what follows.

Writes are atomic: small blobs (one part) go up with one PutObject; larger ones stream as a
multipart upload of equal parts of `part_size` bytes (the last one shorter), which becomes
visible only when completed. Any exception, an interrupt included, aborts the upload, so a
failed write leaves no object. A process killed outright leaves a pending multipart upload
(invisible, but billed and listed as such): `clear_temporary` aborts those, and a bucket
lifecycle rule `AbortIncompleteMultipartUpload` does the same on the store's side.

boto3 is imported only by `s3_blob_store`, so that a filesystem-only install never loads it.
"""

from __future__ import annotations

import configparser
import contextlib
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from core.background import consume_in_background
from core.blobs import READ_CHUNK, BlobNotFound, _is_blob_id, new_blob_id
from core.config import Config, ConfigError
from core.keyring import KeyringError

#: S3's smallest part (every part but the last); many S3-compatible stores require it too.
MIN_PART_SIZE = 5 * 1024 * 1024
#: Part size of multipart uploads: 8 MiB (eight 1 MiB ciphertext blocks), up to 78 GiB per
#: blob at S3's 10,000 parts. All parts but the last have exactly this size, as some
#: S3-compatible stores (Cloudflare R2) require.
PART_SIZE = 8 * 1024 * 1024
#: The optional credentials file, under the data directory's `secrets/` (mode 0600).
CREDENTIALS_FILE = "s3-credentials"
#: Concurrent metadata requests (HeadObject) while listing: under botocore's pool of 10.
_LIST_WORKERS = 8
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
#: A conditional write lost to an object stored meanwhile.
_CONFLICT = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})


class S3BlobStore:
    """Blobs as objects `<prefix><id[:2]>/<id>` in one bucket, the day written as metadata.

    `client` is a boto3 S3 client (thread-safe; one per process is enough).
    """

    def __init__(self, client: Any, bucket: str, prefix: str = "", *,
                 part_size: int = PART_SIZE) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size

    def key(self, blob_id: str) -> str:
        """The object key of a blob id (BlobNotFound if it is not a valid id)."""
        if not _is_blob_id(blob_id):
            raise BlobNotFound("invalid blob id")
        return f"{self.prefix}{blob_id[:2]}/{blob_id}"

    def write(self, chunks: Iterable[bytes], *, day: date) -> tuple[str, int]:
        """Store the chunks atomically under a new id; a failed write leaves no object."""
        blob_id = new_blob_id()
        return blob_id, self._store(self.key(blob_id), chunks, day, only_new=False)

    def put(self, blob_id: str, chunks: Iterable[bytes], *, day: date) -> int:
        """Store the chunks under a given id (restoring a backup), atomically like `write`;
        return the size. An existing blob is never replaced: FileExistsError if the id is
        stored, before anything is sent, and the final request is conditional
        (`If-None-Match: *`) against a put of the same id meanwhile. ValueError for an id
        that `new_blob_id` could not have made."""
        if not _is_blob_id(blob_id):
            raise ValueError("invalid blob id")
        key = self.key(blob_id)
        if self._exists(key):
            raise FileExistsError(f"blob {blob_id} exists")
        return self._store(key, chunks, day, only_new=True)

    def read(self, blob_id: str) -> Iterator[bytes]:
        """Yield the blob in chunks of at most one secretstream block."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(blob_id))
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                raise BlobNotFound(blob_id) from None
            raise
        return _iter_body(response["Body"])

    def delete(self, blob_id: str) -> None:
        """Remove a blob if present (S3 deletes of a missing key succeed)."""
        try:
            key = self.key(blob_id)
        except BlobNotFound:
            return
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def list_blobs(self) -> Iterator[tuple[str, date]]:
        """Every blob with the day it was written (its `day` metadata).

        One listing request per 1,000 objects and one HeadObject per blob (listings carry no
        metadata). Keys that are not `<prefix><id[:2]>/<id>` are ignored. An object without a
        valid `day` (copied in by another tool) gets the UTC date of its LastModified.
        """
        paginator = self.client.get_paginator("list_objects_v2")
        with ThreadPoolExecutor(max_workers=_LIST_WORKERS,
                                thread_name_prefix="candor-s3-list") as pool:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                found = [(blob_id, item["Key"]) for item in page.get("Contents", ())
                         if (blob_id := self._blob_id_of(item["Key"])) is not None]
                days = pool.map(self._day_of, [key for _, key in found])
                for (blob_id, _key), day in zip(found, days, strict=True):
                    if day is not None:  # None: deleted since the listing
                        yield blob_id, day

    def clear_temporary(self, older_than: timedelta = timedelta(hours=6)) -> int:
        """Abort multipart uploads under the prefix begun more than `older_than` ago (left by
        a process that was killed mid-write); return how many. Uploads in flight are kept."""
        cutoff = datetime.now(UTC) - older_than
        paginator = self.client.get_paginator("list_multipart_uploads")
        aborted = 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in page.get("Uploads", ()):
                if upload["Initiated"] < cutoff:
                    with contextlib.suppress(ClientError):  # finished or aborted meanwhile
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                        aborted += 1
        return aborted

    # --- internals ------------------------------------------------------------------------

    def _blob_id_of(self, key: str) -> str | None:
        rest = key[len(self.prefix):] if key.startswith(self.prefix) else ""
        folder, _, blob_id = rest.partition("/")
        if _is_blob_id(blob_id) and folder == blob_id[:2]:
            return blob_id
        return None

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                return False
            raise
        return True

    def _day_of(self, key: str) -> date | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                return None
            raise
        metadata: dict[str, str] = head.get("Metadata", {})
        with contextlib.suppress(ValueError):
            return date.fromisoformat(metadata.get("day", ""))
        modified: datetime = head["LastModified"]
        return modified.astimezone(UTC).date()

    def _store(self, key: str, chunks: Iterable[bytes], day: date, *, only_new: bool) -> int:
        """Write `key`, which was free (a new random id, or checked by `put`)."""
        upload = _Upload(self.client, self.bucket, key, {"day": _day_text(day)}, only_new)
        try:
            # The calling thread produces the parts (encrypting them, for an upload) while a
            # second thread sends the one before: CPU and network overlap.
            return consume_in_background(_parts(chunks, self.part_size), upload.send,
                                         depth=1, name="candor-s3-write")
        except ClientError as exc:
            upload.clean_up()
            if only_new and _error_code(exc) in _CONFLICT:
                # Stored meanwhile by someone else: theirs stays.
                raise FileExistsError(f"blob {key.rpartition('/')[2]} exists") from None
            upload.forget()
            raise
        except BaseException:
            upload.clean_up()
            upload.forget()
            raise


@dataclass
class _Upload:
    """One object being written: PutObject for a single part, multipart otherwise."""

    client: Any
    bucket: str
    key: str
    metadata: dict[str, str]
    #: Store only if no object has the key (If-None-Match: *), for `put`.
    only_new: bool = False
    upload_id: str | None = None
    completed: bool = False

    def send(self, parts: Iterator[bytes]) -> int:
        """Upload every part (knowing the last one only when the stream ends); the size."""
        size = 0
        pending = next(parts, b"")
        sent: list[dict[str, Any]] = []
        for part in parts:
            if self.upload_id is None:
                response = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key, Metadata=self.metadata)
                self.upload_id = str(response["UploadId"])
            sent.append(self._send_part(len(sent) + 1, pending))
            size += len(pending)
            pending = part
        size += len(pending)
        condition = {"IfNoneMatch": "*"} if self.only_new else {}
        if self.upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=pending,
                                   Metadata=self.metadata, **condition)
        else:
            sent.append(self._send_part(len(sent) + 1, pending))
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                MultipartUpload={"Parts": sent}, **condition)
        self.completed = True
        return size

    def _send_part(self, number: int, data: bytes) -> dict[str, Any]:
        response = self.client.upload_part(Bucket=self.bucket, Key=self.key,
                                           UploadId=self.upload_id, PartNumber=number,
                                           Body=data)
        return {"ETag": response["ETag"], "PartNumber": number}

    def clean_up(self) -> None:
        """After a failure: abort the multipart upload, if one was begun and not completed.
        (The worker has stopped: consume_in_background waits for it.) Nothing raised here
        may hide the original exception."""
        if self.upload_id is not None and not self.completed:
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key,
                                                   UploadId=self.upload_id)

    def forget(self) -> None:
        """After a failure: delete the object in case the store carried out the last request
        and only its answer was lost. The key was free (a random id, or checked by `put`),
        so whatever is there now is this write's."""
        with contextlib.suppress(Exception):
            self.client.delete_object(Bucket=self.bucket, Key=self.key)


def _parts(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Regroup chunks into parts of exactly `size` bytes, then the rest (if any)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def _iter_body(body: Any) -> Iterator[bytes]:
    try:
        while chunk := body.read(READ_CHUNK):
            yield bytes(chunk)
    finally:
        body.close()


def _day_text(day: date) -> str:
    """The ISO date of `day`, never a time (a datetime is a date too)."""
    return date(day.year, day.month, day.day).isoformat()


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def read_credentials(path: Path) -> dict[str, str] | None:
    """Keys from an AWS-style credentials file (`[default]` with `aws_access_key_id`,
    `aws_secret_access_key`, optionally `aws_session_token`); None if there is no file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(f"{path} is readable by others; run `chmod 600 {path}`")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text("utf-8"), source=str(path))
    except (configparser.Error, UnicodeDecodeError):
        # The parser's message may quote a line of the file (a key): say only where.
        raise KeyringError(f"{path} is not an INI file like AWS's credentials file") from None
    if not parser.has_section("default"):
        raise KeyringError(f"{path} has no [default] section")
    section = parser["default"]
    keys = {name: section.get(name, "").strip()
            for name in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")}
    missing = [name for name in ("aws_access_key_id", "aws_secret_access_key")
               if not keys[name]]
    if missing:
        raise KeyringError(f"{path}: [default] needs {' and '.join(missing)}")
    return {name: value for name, value in keys.items() if value}


def s3_blob_store(config: Config) -> S3BlobStore:
    """The S3 store that `config` describes (blob_store = "s3").

    Credentials: the file `<data dir>/secrets/s3-credentials` if it exists, and then only
    it; otherwise boto3's standard chain (AWS_* environment variables, the shared AWS config
    files, an instance or container role).
    """
    if not config.s3_bucket:
        raise ConfigError('blob_store = "s3" needs s3_bucket')
    try:
        import boto3
        from botocore.config import Config as BotoConfig
    except ImportError as exc:  # pragma: no cover - boto3 is a dependency
        raise ConfigError('blob_store = "s3" needs boto3: pip install boto3') from exc
    credentials = read_credentials(config.secrets_dir / CREDENTIALS_FILE) or {}
    session = boto3.session.Session(**credentials)
    options: dict[str, Any] = {"retries": {"mode": "standard"}}
    if config.s3_endpoint_url:
        # MinIO, Ceph and test servers answer on their own host name: bucket in the path.
        options["s3"] = {"addressing_style": "path"}
    client = session.client("s3", endpoint_url=config.s3_endpoint_url,
                            region_name=config.s3_region, config=BotoConfig(**options))
    return S3BlobStore(client, config.s3_bucket, config.s3_prefix)
