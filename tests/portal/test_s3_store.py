"""A report with attachments through the portal, stored in the S3 blob store (a real moto
server over HTTP, configured as an operator would: settings and a credentials file), read
back byte for byte, and swept with the orphans (on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.blobs_s3 import CREDENTIALS_FILE, S3BlobStore
from core.db import transaction
from core.operations.cleanup import sweep_orphan_blobs
from core.services import Services, build_blob_store
from tests.portal.conftest import login_via, receipt_of, report_fields, submit_report_via
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

MiB = 1024 * 1024
PREFIX = "attachments/"
FILE_LINK_RE = re.compile(r'<a href="/case/files/(\d+)" download>([^<]*)</a>')


@pytest.fixture
def services(services: Services, s3_endpoint: str, s3_bucket: str) -> Services:
    """The usual services, but the blobs go to S3, as configured by an operator."""
    config = dataclasses.replace(services.config, blob_store="s3", s3_bucket=s3_bucket,
                                 s3_prefix=PREFIX, s3_endpoint_url=s3_endpoint,
                                 s3_region="us-east-1")
    config.secrets_dir.mkdir(mode=0o700, exist_ok=True)
    credentials = config.secrets_dir / CREDENTIALS_FILE
    credentials.write_text(f"[default]\naws_access_key_id = {ACCESS_KEY}\n"
                           f"aws_secret_access_key = {SECRET_KEY}\n")
    credentials.chmod(0o600)
    blobs = build_blob_store(config)
    assert isinstance(blobs, S3BlobStore)
    return dataclasses.replace(services, config=config, blobs=blobs)


def test_a_report_with_attachments_round_trips_through_s3(
    client: FlaskClient,
    services: Services,
    session_factory: sessionmaker[Session],
    s3_client,
    s3_bucket: str,
) -> None:
    note = b"The invoices of March were signed twice. " * 50
    # Over one 8 MiB part once encrypted: a multipart upload of two parts.
    big = os.urandom(9 * MiB)
    files = [("invoices-march.txt", note), ("ledger.bin", big), ("empty.txt", b"")]
    response = submit_report_via(client, report_fields(summary="Double signatures"),
                                 files=files)
    assert response.status_code == 200, response.text
    receipt = receipt_of(response.text)

    # Three objects under the prefix, named by random ids, dated by the day only.
    keys = object_keys(s3_client, s3_bucket)
    assert len(keys) == 3
    assert all(re.fullmatch(rf"{PREFIX}([0-9a-f]{{2}})/\1[0-9a-f]{{30}}", k) for k in keys)
    assert pending_uploads(s3_client, s3_bucket) == []
    day = services.clock.submitter_day()
    sizes = []
    for key in keys:
        head = s3_client.head_object(Bucket=s3_bucket, Key=key)
        assert head["Metadata"] == {"day": day.isoformat()}
        sizes.append(head["ContentLength"])
        stored = s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
        assert b"invoices" not in stored and b"signed twice" not in stored
        assert big[:64] not in stored
    assert max(sizes) > 8 * MiB
    assert {d for _, d in services.blobs.list_blobs()} == {day}
    # Nothing went to the filesystem store.
    blob_dir = services.config.blob_dir
    assert not blob_dir.exists() or not [p for p in blob_dir.rglob("*") if p.is_file()]

    # The reporter reads the files back through the portal.
    assert login_via(client, receipt).status_code == 303
    case = client.get("/case")
    links = {name: int(n) for n, name in FILE_LINK_RE.findall(case.text)}
    assert set(links) == {name for name, _ in files}
    for name, content in files:
        download = client.get(f"/case/files/{links[name]}")
        assert download.status_code == 200
        assert download.get_data() == content, name

    # Orphan sweeping lists the bucket: the case's blobs stay, an orphan goes.
    orphan, _ = services.blobs.write([b"orphan ciphertext"], day=day - timedelta(days=30))
    with transaction(session_factory) as session:
        assert sweep_orphan_blobs(session, services.blobs, day + timedelta(days=30)) == 1
    remaining = object_keys(s3_client, s3_bucket)
    assert remaining == keys
    assert f"{PREFIX}{orphan[:2]}/{orphan}" not in remaining
