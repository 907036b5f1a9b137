"""Fixed-window rate limits shared by every app process: in the database, or in Redis when
the instance scales out (`redis_url`; core.services picks one).

No limit is keyed by a network address: the portal must not know who is asking. Budgets are
global (all receipt logins per minute) or per account. (The per-case message limit counts the
case's messages instead: core.intake.reporter.)

Neither store holds a readable time or bucket name. A database bucket stores its window as a
keyed hash of the window's number: the row of the submissions budget would otherwise hold
the minute of the latest report. A Redis counter is named by that same keyed hash (so the key
tells neither the budget nor the window) and expires when its window ends.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Protocol, cast

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import ThrottleBucket
from core.models.upsert import conflict_insert

#: Prefix of the throttle's Redis keys; the rest is the hex of the window tag.
REDIS_PREFIX = "candor:throttle:"
#: How long a Redis counter outlives its window, for app servers whose clocks differ a
#: little: one still in the window must find the counter, not start a new one from zero.
REDIS_GRACE = timedelta(seconds=1)


class Throttle(Protocol):
    """Fixed-window budgets, `take` counting one event against one."""

    #: Whether `take` counts in the database session it is given. When False the session is
    #: not used and may be None (callers then need no transaction for a budget).
    uses_database: bool

    def take(self, session: Session | None, name: str, *, limit: int, window: timedelta,
             now: datetime) -> int | None:
        """Count one event against bucket `name`: None when allowed, otherwise the whole
        seconds until the window ends (for a "try again in N seconds" page).

        A database throttle counts in `session`'s transaction and keeps the bucket row locked
        until it ends: commit promptly. A Redis throttle counts at once, whatever the caller's
        transaction then does.
        """
        ...


def _window_tag(key: bytes, name: str, number: int) -> bytes:
    """Which window a bucket counts, unreadable without the key (a secrets file)."""
    return hashlib.blake2b(f"{name}\n{number}".encode(), key=key, person=b"candor-window",
                           digest_size=16).digest()


def _window(now: datetime, window: timedelta) -> tuple[int, float]:
    """The number of the window `now` falls in, and the seconds until it ends."""
    seconds = window.total_seconds()
    number = math.floor(now.timestamp() / seconds)
    return number, (number + 1) * seconds - now.timestamp()


def _wait(remaining: float) -> int:
    return max(1, math.ceil(remaining))


def _create_bucket(session: Session, name: str, tag: bytes) -> None:
    """Insert the bucket unless another process just did. ON CONFLICT DO NOTHING rather than
    catching a unique violation: PostgreSQL writes every violation, with the key's value, to
    its server log."""
    insert = conflict_insert(session, ThrottleBucket.__table__)  # type: ignore[arg-type]
    session.execute(insert.values(name=name, window_tag=tag, count=0)
                    .on_conflict_do_nothing(index_elements=[ThrottleBucket.name]))


def _locked_bucket(session: Session, name: str, tag: bytes) -> ThrottleBucket:
    query = (select(ThrottleBucket).where(ThrottleBucket.name == name).with_for_update()
             .execution_options(populate_existing=True))
    bucket = session.execute(query).scalar_one_or_none()
    if bucket is not None:
        return bucket
    _create_bucket(session, name, tag)
    return session.execute(query).scalar_one()


def take(session: Session, name: str, *, limit: int, window: timedelta,
         now: datetime, key: bytes) -> int | None:
    """The database's `Throttle.take`, with the key that keeps the window's time out of the
    row. Prefer `services.throttle`, which is Redis's when the instance uses it."""
    number, remaining = _window(now, window)
    tag = _window_tag(key, name, number)
    bucket = _locked_bucket(session, name, tag)
    if bucket.window_tag != tag:
        bucket.window_tag = tag
        bucket.count = 0
    if bucket.count >= limit:
        return _wait(remaining)
    bucket.count += 1
    session.flush()
    return None


class DatabaseThrottle:
    """Budgets in the table throttle_buckets, one row per bucket, counted in the caller's
    transaction (a locked row: concurrent takers wait for each other)."""

    uses_database = True

    def __init__(self, key: bytes) -> None:
        self._key = key

    def take(self, session: Session | None, name: str, *, limit: int, window: timedelta,
             now: datetime) -> int | None:
        if session is None:
            raise TypeError("the database throttle counts in a transaction: pass its session")
        return take(session, name, limit=limit, window=window, now=now, key=self._key)


#: One atomic step: count, and make sure the counter expires (even one left without a TTL by
#: an interrupted earlier call). Redis does not expire keys while a script runs.
_TAKE_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
"""


class RedisThrottle:
    """Budgets in Redis: one counter per bucket and window, named by the window tag and
    expiring when the window ends (and REDIS_GRACE). Counting is atomic (a script), so
    concurrent takers on any number of app servers never exceed the limit."""

    uses_database = False

    def __init__(self, client: Redis, key: bytes, *, prefix: str = REDIS_PREFIX) -> None:
        self._client = client
        self._key = key
        self._prefix = prefix
        self._script = client.register_script(_TAKE_SCRIPT)

    def redis_key(self, name: str, now: datetime, window: timedelta) -> str:
        """The key that counts `name` in the window of `now`."""
        number, _ = _window(now, window)
        return self._prefix + _window_tag(self._key, name, number).hex()

    def take(self, session: Session | None, name: str, *, limit: int, window: timedelta,
             now: datetime) -> int | None:
        _, remaining = _window(now, window)
        ttl_ms = math.ceil((remaining + REDIS_GRACE.total_seconds()) * 1000)
        count = int(cast(int, self._script(keys=[self.redis_key(name, now, window)],
                                           args=[ttl_ms])))
        if count > limit:
            return _wait(remaining)
        return None
