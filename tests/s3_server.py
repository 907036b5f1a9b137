"""A real S3 server for tests: moto's, on 127.0.0.1 at a free port, spoken to over HTTP.

Test modules import the fixtures they need (`s3_endpoint`, `s3_client`, `s3_bucket`); each
test gets a bucket of its own, emptied and removed afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

REGION = "us-east-1"
#: moto accepts any keys; these never leave this machine.
ACCESS_KEY = "candor-test-access"
SECRET_KEY = "candor-test-secret"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server running in a thread of this process."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def make_client(endpoint: str) -> Any:
    """A boto3 S3 client for the test server (bucket in the path, as for MinIO)."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=Config(s3={"addressing_style": "path"}))


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    return make_client(s3_endpoint)


@pytest.fixture
def s3_bucket(s3_client: Any) -> Iterator[str]:
    """A new, empty bucket; removed with everything in it after the test."""
    name = f"candor-test-{secrets.token_hex(6)}"
    s3_client.create_bucket(Bucket=name)
    yield name
    for upload in pending_uploads(s3_client, name):
        s3_client.abort_multipart_upload(Bucket=name, Key=upload["Key"],
                                         UploadId=upload["UploadId"])
    for key in object_keys(s3_client, name):
        s3_client.delete_object(Bucket=name, Key=key)
    s3_client.delete_bucket(Bucket=name)


def object_keys(client: Any, bucket: str) -> list[str]:
    """Every object key in the bucket, whatever its prefix."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


def pending_uploads(client: Any, bucket: str) -> list[dict[str, Any]]:
    """Multipart uploads begun and neither completed nor aborted."""
    return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))
