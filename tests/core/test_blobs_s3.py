"""The S3 blob store's own tests, against a real moto server over HTTP: multipart uploads and
their edges, what a failure leaves behind, what keys and metadata say, pending uploads, and
how configuration selects the store and its credentials. (The tests it shares with the
filesystem store are in test_blobs.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from core.blobs import READ_CHUNK, BlobNotFound, FileSystemBlobStore, new_blob_id
from core.blobs_s3 import CREDENTIALS_FILE, MIN_PART_SIZE, PART_SIZE, S3BlobStore
from core.config import ConfigError, load_config
from core.keyring import KeyringError
from core.services import build_blob_store
from tests.s3_server import (
    ACCESS_KEY,
    SECRET_KEY,
    object_keys,
    pending_uploads,
    s3_bucket,
    s3_client,
    s3_endpoint,
)

__all__ = ["s3_bucket", "s3_client", "s3_endpoint"]  # fixtures

DAY = date(2024, 3, 9)
PART = MIN_PART_SIZE
PREFIX = "candor/"


@pytest.fixture
def store(s3_client, s3_bucket):
    return S3BlobStore(s3_client, s3_bucket, PREFIX, part_size=PART)


class Recorder:
    """Wraps a boto3 client: records every call (name and arguments), and can make one
    operation fail on its n-th call, before or after the server has carried it out."""

    def __init__(self, client):
        self._client = client
        self.calls: list[tuple[str, dict]] = []
        self._failures: dict[str, tuple[int, bool, BaseException]] = {}

    def fail(self, operation, *, on_call=1, after=False, error=None):
        self._failures[operation] = (on_call, after,
                                     error or ConnectionError("the store went away"))

    def names(self):
        return [name for name, _ in self.calls]

    def __getattr__(self, name):
        target = getattr(self._client, name)
        if not callable(target) or name.startswith(("get_paginator", "meta")):
            return target

        def call(**kwargs):
            self.calls.append((name, kwargs))
            on_call, after, error = self._failures.get(name, (0, False, None))
            failing = error is not None and self.names().count(name) == on_call
            if failing and not after:
                raise error
            result = target(**kwargs)
            if failing:
                raise error
            return result

        return call


@pytest.fixture
def recorded(s3_client, s3_bucket):
    client = Recorder(s3_client)
    return client, S3BlobStore(client, s3_bucket, PREFIX, part_size=PART)


def pieces_of(data, step):
    return (data[i : i + step] for i in range(0, len(data), step))


# ---- multipart uploads

PART_EDGES = [0, 1, PART - 1, PART, PART + 1, 2 * PART - 1, 2 * PART, 2 * PART + 1,
              3 * PART + 4099]


@pytest.mark.parametrize("size", PART_EDGES)
def test_part_edges_round_trip(recorded, size):
    client, store = recorded
    data = os.urandom(size)
    step = READ_CHUNK if size % 2 else 65_553  # ciphertext blocks, and odd pieces
    blob_id, written = store.write(pieces_of(data, step), day=DAY)
    assert written == size
    chunks = list(store.read(blob_id))
    assert b"".join(chunks) == data
    assert all(len(c) <= READ_CHUNK for c in chunks)
    parts = [len(kwargs["Body"]) for name, kwargs in client.calls if name == "upload_part"]
    head = client.head_object(Bucket=store.bucket, Key=store.key(blob_id))
    assert head["ContentLength"] == size
    if size <= PART:
        # One PutObject: no multipart upload for a blob that fits one part.
        assert parts == [] and "put_object" in client.names()
        assert "-" not in head["ETag"]
    else:
        # Every part but the last is exactly part_size (some stores require equal parts);
        # the last one is the rest, never empty.
        assert parts == [PART] * (len(parts) - 1) + [size - PART * (len(parts) - 1)]
        assert 0 < parts[-1] <= PART
        assert head["ETag"].strip('"').endswith(f"-{len(parts)}")
    assert pending_uploads(client, store.bucket) == []


def test_default_part_size_is_allowed_by_s3(s3_client, s3_bucket):
    assert PART_SIZE >= MIN_PART_SIZE
    with pytest.raises(ValueError, match="part_size"):
        S3BlobStore(s3_client, s3_bucket, part_size=MIN_PART_SIZE - 1)


def test_interrupted_generator_leaves_no_object_and_no_pending_upload(recorded):
    client, store = recorded

    def interrupted():
        for _ in range(6):
            # Two whole parts: the first goes up while the stream continues.
            yield os.urandom(READ_CHUNK) * 2
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.write(interrupted(), day=DAY)
    assert "create_multipart_upload" in client.names()
    assert "abort_multipart_upload" in client.names()
    assert object_keys(client, store.bucket) == []
    assert pending_uploads(client, store.bucket) == []
    assert list(store.list_blobs()) == []


@pytest.mark.parametrize(("operation", "after"), [
    ("create_multipart_upload", False),
    ("upload_part", False),
    ("complete_multipart_upload", False),
    # The store did it, but the answer was lost: the object exists and must go.
    ("complete_multipart_upload", True),
    ("put_object", True),
])
def test_a_failing_store_leaves_nothing(recorded, operation, after):
    client, store = recorded
    client.fail(operation, on_call=1 if operation != "upload_part" else 2, after=after)
    size = PART // 2 if operation == "put_object" else 3 * PART + 10
    with pytest.raises(ConnectionError, match="went away"):
        store.write([os.urandom(size)], day=DAY)
    assert object_keys(client, store.bucket) == []
    assert pending_uploads(client, store.bucket) == []


def test_a_failing_put_leaves_nothing(recorded):
    client, store = recorded
    client.fail("complete_multipart_upload", after=True)
    blob_id = new_blob_id()
    with pytest.raises(ConnectionError):
        store.put(blob_id, [os.urandom(2 * PART + 1)], day=DAY)
    assert object_keys(client, store.bucket) == []
    assert pending_uploads(client, store.bucket) == []


@pytest.mark.parametrize("size", [10, 2 * PART + 1])
def test_put_loses_a_race_without_replacing(recorded, s3_client, size):
    """Another put of the same id lands between the check and the last request: the
    conditional request fails, and the other blob stays."""
    client, store = recorded
    blob_id = new_blob_id()

    def chunks():
        yield os.urandom(size)
        s3_client.put_object(Bucket=store.bucket, Key=store.key(blob_id), Body=b"theirs")

    with pytest.raises(FileExistsError):
        store.put(blob_id, chunks(), day=DAY)
    assert b"".join(store.read(blob_id)) == b"theirs"
    assert pending_uploads(client, store.bucket) == []
    conditional = [kwargs for name, kwargs in client.calls
                   if name in ("put_object", "complete_multipart_upload")]
    assert [kwargs["IfNoneMatch"] for kwargs in conditional] == ["*"]


def test_a_missing_bucket_is_an_error_not_a_missing_blob(s3_client):
    store = S3BlobStore(s3_client, "candor-no-such-bucket")
    with pytest.raises(ClientError):
        store.read(new_blob_id())


# ---- what the store reveals

def test_keys_and_metadata_hold_only_the_id_and_the_day(recorded):
    client, store = recorded
    ids = [store.write([os.urandom(size)], day=DAY)[0] for size in (0, 10, 2 * PART + 5)]
    restored = new_blob_id()
    store.put(restored, [b"restored"], day=DAY)
    ids.append(restored)
    assert object_keys(client, store.bucket) == sorted(f"{PREFIX}{i[:2]}/{i}" for i in ids)
    for blob_id in ids:
        key = store.key(blob_id)
        head = client.head_object(Bucket=store.bucket, Key=key)
        assert head["Metadata"] == {"day": "2024-03-09"}
        for field in ("ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires",
                      "WebsiteRedirectLocation", "CacheControl"):
            assert field not in head
        assert head.get("ContentType", "binary/octet-stream") in ("binary/octet-stream",
                                                                  "application/octet-stream")
        assert client.get_object_tagging(Bucket=store.bucket, Key=key)["TagSet"] == []
    # What Candor sent: nothing beyond the bucket, the key, the bytes and the day.
    allowed = {"Bucket", "Key", "Body", "Metadata", "UploadId", "PartNumber", "MultipartUpload",
               "IfNoneMatch"}
    for name, kwargs in client.calls:
        if name in ("put_object", "create_multipart_upload", "upload_part",
                    "complete_multipart_upload"):
            assert set(kwargs) <= allowed, (name, kwargs.keys())
            assert kwargs.get("Metadata", {"day": "2024-03-09"}) == {"day": "2024-03-09"}
            assert re.fullmatch(rf"{PREFIX}[0-9a-f]{{2}}/[0-9a-f]{{32}}", kwargs["Key"])


def test_list_blobs_ignores_keys_that_are_not_blobs(store, s3_client):
    blob_id, _ = store.write([b"x"], day=DAY)
    other = "c" * 32
    for key in (f"{PREFIX}ab/{other}",  # a blob id, in another blob's folder
                f"{other[:2]}/{other}",  # a blob's key, outside the prefix
                f"{PREFIX}{other[:2]}/{other}.part",
                f"{PREFIX}{other[:2]}/{other}/x"):
        s3_client.put_object(Bucket=store.bucket, Key=key, Body=b"stray")
    assert list(store.list_blobs()) == [(blob_id, DAY)]


def test_an_object_without_a_day_is_listed_by_its_utc_date(store, s3_client):
    blob_id = new_blob_id()
    s3_client.put_object(Bucket=store.bucket, Key=store.key(blob_id), Body=b"copied in")
    modified = s3_client.head_object(Bucket=store.bucket, Key=store.key(blob_id))[
        "LastModified"]
    assert list(store.list_blobs()) == [(blob_id, modified.date())]


def test_list_blobs_pages_through_many_objects(store):
    ids = {store.write([b"x"], day=DAY - timedelta(days=n % 3))[0]: DAY - timedelta(days=n % 3)
           for n in range(1005)}  # over one listing page of 1,000
    assert dict(store.list_blobs()) == ids


def test_an_empty_prefix_puts_blobs_at_the_top(s3_client, s3_bucket):
    store = S3BlobStore(s3_client, s3_bucket)
    blob_id, _ = store.write([b"x"], day=DAY)
    assert object_keys(s3_client, s3_bucket) == [f"{blob_id[:2]}/{blob_id}"]
    assert list(store.list_blobs()) == [(blob_id, DAY)]
    with pytest.raises(BlobNotFound):
        store.read("../" + blob_id[3:])


# ---- pending uploads of killed processes

def test_clear_temporary_aborts_stale_uploads_only(store, s3_client):
    key = store.key(new_blob_id())
    s3_client.create_multipart_upload(Bucket=store.bucket, Key=key)
    other = s3_client.create_multipart_upload(Bucket=store.bucket, Key="elsewhere/x")
    # moto dates every pending upload 2010-11-10: one begun within the last century is
    # kept (it may still be uploading), one older than a second is aborted.
    assert store.clear_temporary(timedelta(days=36_500)) == 0
    assert len(pending_uploads(s3_client, store.bucket)) == 2
    assert store.clear_temporary(timedelta(seconds=1)) == 1
    assert [u["Key"] for u in pending_uploads(s3_client, store.bucket)] == ["elsewhere/x"]
    s3_client.abort_multipart_upload(Bucket=store.bucket, Key="elsewhere/x",
                                     UploadId=other["UploadId"])


# ---- configuration

def write_credentials(data_dir: Path, text: str, mode: int = 0o600) -> Path:
    secrets = data_dir / "secrets"
    secrets.mkdir(mode=0o700, exist_ok=True)
    path = secrets / CREDENTIALS_FILE
    path.write_text(text)
    path.chmod(mode)
    return path


CREDENTIALS = f"[default]\naws_access_key_id = {ACCESS_KEY}\n" \
              f"aws_secret_access_key = {SECRET_KEY}\n"


def s3_config(tmp_path, bucket, endpoint, **more):
    return load_config({}, data_dir=tmp_path, blob_store="s3", s3_bucket=bucket,
                       s3_endpoint_url=endpoint, s3_region="us-east-1", **more)


def test_the_filesystem_store_is_the_default(tmp_path):
    config = load_config({}, data_dir=tmp_path)
    assert config.blob_store == "filesystem"
    assert isinstance(build_blob_store(config), FileSystemBlobStore)


def test_configured_store_with_a_credentials_file(tmp_path, s3_endpoint, s3_client,
                                                  s3_bucket):
    write_credentials(tmp_path, CREDENTIALS)
    store = build_blob_store(s3_config(tmp_path, s3_bucket, s3_endpoint, s3_prefix="c/"))
    assert isinstance(store, S3BlobStore)
    assert store.client._request_signer._credentials.access_key == ACCESS_KEY
    blob_id, _ = store.write([b"through the configured client"], day=DAY)
    assert object_keys(s3_client, s3_bucket) == [f"c/{blob_id[:2]}/{blob_id}"]
    assert b"".join(store.read(blob_id)) == b"through the configured client"


def test_without_a_credentials_file_boto3s_chain_is_used(tmp_path, s3_endpoint, s3_bucket,
                                                         monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-environment")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-the-environment")
    store = build_blob_store(s3_config(tmp_path, s3_bucket, s3_endpoint))
    assert store.client._request_signer._credentials.access_key == "from-the-environment"
    blob_id, _ = store.write([b"x"], day=DAY)
    assert list(store.list_blobs()) == [(blob_id, DAY)]


@pytest.mark.parametrize(("text", "mode", "message"), [
    (CREDENTIALS, 0o640, "readable by others"),
    (CREDENTIALS, 0o604, "readable by others"),
    ("aws_access_key_id = AKIASECRETLOOKING\n", 0o600, "not an INI file"),
    ("[work]\naws_access_key_id = a\naws_secret_access_key = b\n", 0o600, "no \\[default\\]"),
    ("[default]\naws_access_key_id = AKIASECRETLOOKING\n", 0o600, "aws_secret_access_key"),
])
def test_a_bad_credentials_file_is_refused(tmp_path, text, mode, message):
    write_credentials(tmp_path, text, mode)
    with pytest.raises(KeyringError, match=message) as caught:
        build_blob_store(s3_config(tmp_path, "bucket", "http://127.0.0.1:9"))
    assert "AKIASECRETLOOKING" not in str(caught.value)


def test_settings_come_from_the_environment_and_the_config_file(tmp_path):
    (tmp_path / "candor.toml").write_text('blob_store = "s3"\ns3_bucket = "from-file"\n'
                                          's3_prefix = "candor/"\n')
    config = load_config({"CANDOR_DATA_DIR": str(tmp_path),
                          "CANDOR_S3_ENDPOINT_URL": "https://minio.internal:9000",
                          "CANDOR_S3_REGION": "eu-west-1"})
    assert (config.blob_store, config.s3_bucket, config.s3_prefix) == ("s3", "from-file",
                                                                      "candor/")
    assert config.s3_endpoint_url == "https://minio.internal:9000"
    assert config.s3_region == "eu-west-1"
    blank = load_config({"CANDOR_S3_REGION": "", "CANDOR_S3_ENDPOINT_URL": ""},
                        data_dir=tmp_path)
    assert blank.s3_region is None and blank.s3_endpoint_url is None


@pytest.mark.parametrize(("settings", "message"), [
    ({"blob_store": "s3"}, "needs s3_bucket"),
    ({"blob_store": "s3", "s3_bucket": "  "}, "needs s3_bucket"),
    ({"blob_store": "gcs"}, "blob_store: expected"),
    ({"s3_endpoint_url": "minio:9000"}, "must start with http"),
])
def test_invalid_settings_are_refused(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        load_config({}, data_dir=tmp_path, **settings)


def test_the_default_store_does_not_import_boto3(tmp_path):
    code = ("import sys; from core.config import load_config; "
            "from core.services import build_blob_store; "
            f"build_blob_store(load_config({{}}, data_dir={str(tmp_path)!r})); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[2])
    assert out.stdout.strip() == "[]"
