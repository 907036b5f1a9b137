"""Fresh Redis databases for tests of the budgets and reporters' sessions kept in Redis
(`redis_url`), beside tests/databases.py.

Each test claims one of Redis's numbered databases 1-15 that is empty, by a claim key set
with NX inside it, so that test processes running at once (mutation testing) never share one;
it is emptied when the test ends. A database holding anyone else's keys is never used or
emptied. Everything the tests write expires (the claim within the hour), so even a killed run
leaves nothing for long.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis

REDIS_TEST_URL = os.environ.get("CANDOR_TEST_REDIS_URL", "redis://127.0.0.1:6379")
_CLAIM = "candor-test:claim"
_DATABASES = range(1, 16)
#: How long to wait for a free database when every one is claimed.
_WAIT_SECONDS = 120


def redis_url_for(number: int) -> str:
    """REDIS_TEST_URL with database `number`."""
    parts = urlsplit(REDIS_TEST_URL)
    return urlunsplit(parts._replace(path=f"/{number}"))


def redis_available() -> str | None:
    """None if Redis answers, else the reason it does not."""
    client = Redis.from_url(redis_url_for(0), socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    finally:
        client.close()


def require_redis() -> None:
    """Skip when Redis is missing, except in CI, where its absence is a failure."""
    reason = redis_available()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"Redis is required in CI but unreachable: {reason}")
    pytest.skip(f"Redis unreachable: {reason}")


def _claim(client: Redis, token: str) -> bool:
    if not client.set(_CLAIM, token, nx=True, ex=3600):
        return False
    if client.dbsize() == 1:
        return True
    client.delete(_CLAIM)  # someone's keys: not ours to use
    return False


@contextmanager
def fresh_redis() -> Iterator[str]:
    """The URL of an empty Redis database that this test alone uses; emptied afterwards."""
    require_redis()
    token = secrets.token_hex(8)
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        for number in _DATABASES:
            url = redis_url_for(number)
            client = Redis.from_url(url)
            try:
                if not _claim(client, token):
                    continue
                try:
                    yield url
                finally:
                    if client.get(_CLAIM) == token.encode():
                        client.flushdb()
                return
            finally:
                client.close()
        if time.monotonic() > deadline:
            pytest.fail(f"no free Redis database among {list(_DATABASES)} for "
                        f"{_WAIT_SECONDS} s (each needs to be empty to be used)")
        time.sleep(0.2)


def redis_contents(client: Redis) -> dict[bytes, tuple[bytes, int]]:
    """Every key of the test's database but the claim: its value and TTL in milliseconds."""
    found = {}
    for key in client.scan_iter():
        if key == _CLAIM.encode():
            continue
        found[key] = (client.get(key), client.pttl(key))
    return found
