"""Global fixed-window budgets, shared through the database (SQLite, PostgreSQL) or Redis:
the same tests on each store, then what each store holds."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import ThrottleBucket
from core.operations.throttle import (
    REDIS_PREFIX,
    DatabaseThrottle,
    RedisThrottle,
    Throttle,
    take,
)
from tests.redis_support import fresh_redis, redis_contents

WINDOW = timedelta(minutes=1)
T0 = datetime(2026, 11, 28, 12, 0, 10, tzinfo=UTC)
KEY = bytes(range(32))


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def kept_in(request: pytest.FixtureRequest) -> str:
    """Where the budgets are kept."""
    return str(request.param)


@pytest.fixture
def backend(kept_in: str) -> str:
    """The database of the test (with Redis: SQLite, whose sessions the tests pass in vain)."""
    return "sqlite" if kept_in == "redis" else kept_in


@dataclass
class Budgets:
    """One store of budgets, and what it holds."""

    sessions: sessionmaker[Session]
    redis: Redis | None

    def throttle(self, key: bytes = KEY) -> Throttle:
        if self.redis is not None:
            return RedisThrottle(self.redis, key)
        return DatabaseThrottle(key)

    def take(self, name: str, *, limit: int, window: timedelta = WINDOW,
             now: datetime = T0, key: bytes = KEY) -> int | None:
        """As the callers do: a database budget in a transaction, Redis without one."""
        throttle = self.throttle(key)
        if not throttle.uses_database:
            return throttle.take(None, name, limit=limit, window=window, now=now)
        with transaction(self.sessions) as s:
            return throttle.take(s, name, limit=limit, window=window, now=now)

    def tags(self) -> list[bytes]:
        """The stored window tags (a row's column; the name of a Redis key)."""
        if self.redis is not None:
            return [bytes.fromhex(key.decode().removeprefix(REDIS_PREFIX))
                    for key in redis_contents(self.redis)]
        with self.sessions() as s:
            return [bytes(tag) for tag in
                    s.execute(text("select window_tag from throttle_buckets")).scalars()]

    def counts(self) -> list[int]:
        if self.redis is not None:
            return [int(value) for value, _ttl in redis_contents(self.redis).values()]
        with self.sessions() as s:
            return list(s.execute(text("select count from throttle_buckets")).scalars())

    def dump(self) -> str:
        """Everything stored, as text and hex, to search for what must not be there."""
        if self.redis is not None:
            items = [(key, value) for key, (value, _ttl) in redis_contents(self.redis).items()]
            return "|".join(f"{k!r}|{k.hex()}|{v!r}|{v.hex()}" for k, v in items)
        with self.sessions() as s:
            rows = s.execute(text("select window_tag, count from throttle_buckets")).all()
        return "|".join(f"{bytes(tag).hex()}|{count}" for tag, count in rows)

    def clear(self) -> None:
        if self.redis is not None:
            for key in redis_contents(self.redis):
                self.redis.delete(key)
            return
        with transaction(self.sessions) as s:
            s.execute(text("delete from throttle_buckets"))


@pytest.fixture
def budgets(kept_in: str, session_factory: sessionmaker[Session]) -> Iterator[Budgets]:
    if kept_in != "redis":
        yield Budgets(session_factory, None)
        return
    with fresh_redis() as url:
        client = Redis.from_url(url)
        yield Budgets(session_factory, client)
        client.close()


# --- the same on every store ----------------------------------------------------------------

def test_budget_is_enforced_and_resets(budgets: Budgets) -> None:
    results = [budgets.take("logins", limit=3) for _ in range(4)]
    assert results[:3] == [None, None, None]
    assert results[3] == 50  # 12:00:10 -> the window ends at 12:01:00
    assert budgets.take("logins", limit=3, now=T0 + WINDOW) is None
    assert budgets.take("other", limit=1) is None


def test_concurrent_takers_never_exceed_the_budget(budgets: Budgets) -> None:
    """Eight threads start together on a budget nobody has used yet (so they race to create
    it too): exactly `limit` of their takes are allowed."""
    threads, takes, limit = 8, 10, 25
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(takes):
                verdict = budgets.take("shared", limit=limit, window=timedelta(hours=1))
                with lock:
                    allowed.append(verdict is None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert failures == []
    assert len(allowed) == threads * takes
    assert sum(allowed) == limit


def test_the_limit_holds_again_in_every_later_window(budgets: Budgets) -> None:
    """Pins the line that stores the new window's tag: without it each take in a later window
    sees an old tag, starts from zero, and the limit never holds again after the first."""
    for window_number in range(3):
        now = T0 + window_number * WINDOW
        verdicts = [budgets.take("logins", limit=3, now=now) for _ in range(4)]
        assert verdicts[:3] == [None, None, None], window_number
        assert verdicts[3] is not None, window_number


def test_a_window_ends_on_its_boundary(budgets: Budgets) -> None:
    """The last instant of a window counts in it; the next one starts afresh."""
    end = datetime(2026, 11, 28, 12, 1, tzinfo=UTC)
    last = end - timedelta(microseconds=1)
    assert budgets.take("logins", limit=1, now=last) is None
    assert budgets.take("logins", limit=1, now=last) == 1
    assert budgets.take("logins", limit=1, now=end) is None
    assert budgets.take("logins", limit=1, now=end) == 60


def test_the_wait_is_rounded_up_to_whole_seconds(budgets: Budgets) -> None:
    """Half a second before the window ends the answer is 1 second, not 0 and not 2."""
    for moment, wait in ((T0.replace(second=59, microsecond=500_000), 1),
                         (T0.replace(second=58, microsecond=200_000), 2)):
        budgets.clear()
        budgets.take("logins", limit=1, now=moment)
        assert budgets.take("logins", limit=1, now=moment) == wait


def test_stored_budgets_hold_no_time(budgets: Budgets) -> None:
    """The submissions budget must not hold the minute of the latest report (nor, in Redis,
    the budget's name)."""
    moment = datetime(2026, 11, 28, 23, 47, 31, tzinfo=UTC)
    assert budgets.take("portal:submissions", limit=5, now=moment) is None
    dump = budgets.dump()
    assert dump, "positive control: something is stored"
    for needle in ("2026-11-28", "23:47", str(int(moment.timestamp()) // 60),
                   str(int(moment.timestamp())), "submissions", "portal"):
        assert needle not in dump, needle
    # The same window is recognised without reading a time: a second take counts on.
    budgets.take("portal:submissions", limit=5, now=moment)
    assert budgets.counts() == [2]


def test_the_window_tag_cannot_be_computed_without_the_key(budgets: Budgets) -> None:
    """Pins the key in the window hash: an unkeyed tag could be matched against every minute
    of the day, dating the latest submission from what is stored alone."""
    name = "portal:submissions"
    budgets.take(name, limit=5)
    [stored] = budgets.tags()
    minute = int(T0.timestamp()) // 60
    guesses = {hashlib.blake2b(f"{name}\n{number}".encode(), person=b"candor-window",
                               digest_size=16).digest()
               for number in range(minute - 1440, minute + 1440)}
    assert stored not in guesses
    # Another instance's key gives another tag for the same window.
    budgets.clear()
    budgets.take(name, limit=5, key=bytes(32))
    [other] = budgets.tags()
    assert other != stored and len(stored) == 16


def test_buckets_counting_the_same_window_store_unrelated_tags(budgets: Budgets) -> None:
    """Pins the bucket's name in the window hash: without it every bucket counting the same
    minute would store the same tag, and the store would tell that a login and a report came
    in the same minute."""
    for name in ("portal:submissions", "portal:logins"):
        budgets.take(name, limit=5)
    tags = budgets.tags()
    assert len(tags) == 2 and tags[0] != tags[1]


def test_the_window_tag_is_the_documented_keyed_hash(budgets: Budgets) -> None:
    """Pins the hash's personalisation: the throttle key also keys other hashes, and the
    "candor-window" person keeps a window tag from ever equalling one of them."""
    name = "portal:submissions"
    budgets.take(name, limit=5)
    number = int(T0.timestamp()) // 60
    expected = hashlib.blake2b(f"{name}\n{number}".encode(), key=KEY,
                               person=b"candor-window", digest_size=16).digest()
    assert budgets.tags() == [expected]


# --- the database ---------------------------------------------------------------------------

def test_the_database_throttle_counts_in_the_callers_transaction(
    budgets: Budgets, kept_in: str,
) -> None:
    """A take rolled back with its transaction did not happen (the console commits its
    failures with their audit events, in one transaction); without a session it refuses."""
    if kept_in == "redis":
        pytest.skip("Redis counts at once, outside any transaction")
    throttle = budgets.throttle()
    with pytest.raises(TypeError):
        throttle.take(None, "logins", limit=1, window=WINDOW, now=T0)
    with budgets.sessions() as s:
        s.begin()
        assert throttle.take(s, "logins", limit=1, window=WINDOW, now=T0) is None
        s.rollback()
    assert budgets.take("logins", limit=1) is None
    # The module's function is the same budget, for callers that hold the key themselves.
    with transaction(budgets.sessions) as s:
        assert take(s, "logins", limit=1, window=WINDOW, now=T0, key=KEY) == 50


def test_creating_a_bucket_raises_no_unique_violation(
    budgets: Budgets, kept_in: str, engine,
) -> None:
    """Takers racing to create a bucket must not collide on its primary key: PostgreSQL
    writes every unique violation, with the key's value (the bucket's name), to its log.
    Every error the database returns is counted, including ones the code catches."""
    if kept_in == "redis":
        pytest.skip("no rows in Redis")
    errors: list[str] = []

    @event.listens_for(engine, "handle_error")
    def _count(context) -> None:
        errors.append(type(context.original_exception).__name__)

    threads = 8
    start = threading.Barrier(threads)
    verdicts: list[int | None] = []

    def worker() -> None:
        start.wait()
        for round_ in range(3):
            verdicts.append(budgets.take(f"race-{round_}", limit=threads))

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert verdicts == [None] * threads * 3
    assert sorted(budgets.counts()) == [threads] * 3
    assert errors == []


def test_a_bucket_already_loaded_is_read_again_under_the_lock(
    budgets: Budgets, kept_in: str,
) -> None:
    """Pins populate_existing: a session that loaded the bucket before another process
    counted on must not count from its stale copy (a lost update past the limit)."""
    if kept_in != "postgresql":
        pytest.skip("SQLite allows one writer at a time, and Redis keeps no loaded copy")
    throttle = budgets.throttle()
    assert budgets.take("logins", limit=2) is None
    with budgets.sessions() as reader, reader.begin():
        stale = reader.get(ThrottleBucket, "logins")
        assert stale is not None and stale.count == 1
        assert budgets.take("logins", limit=2) is None
        assert throttle.take(reader, "logins", limit=2, window=WINDOW, now=T0) is not None


# --- Redis ----------------------------------------------------------------------------------

def test_redis_counters_expire_when_their_window_ends(budgets: Budgets, kept_in: str) -> None:
    """Each counter's TTL is what is left of its window (and a second's grace for clocks
    that differ between app servers): nothing outlives it for long."""
    if kept_in != "redis":
        pytest.skip("database buckets are reused, not expired")
    assert budgets.redis is not None
    budgets.take("portal:submissions", limit=5)  # 50 s before 12:01:00
    budgets.take("console:login:global", limit=5, window=timedelta(hours=1))  # 59:50 left
    ttls = sorted(ttl for _value, ttl in redis_contents(budgets.redis).values())
    assert 50_000 < ttls[0] <= 51_000
    assert 3_590_000 < ttls[1] <= 3_591_000
    # A counter left without a TTL (an interrupted write) gets one at the next take.
    key = RedisThrottle(budgets.redis, KEY).redis_key("portal:submissions", T0, WINDOW)
    budgets.redis.persist(key)
    budgets.take("portal:submissions", limit=5)
    assert 50_000 < budgets.redis.pttl(key) <= 51_000
    # Refused takes count on in Redis, harmlessly: the answer stays "wait".
    for _ in range(5):
        budgets.take("portal:submissions", limit=5)
    assert budgets.take("portal:submissions", limit=5) == 50


def test_redis_keys_name_neither_the_budget_nor_the_window(
    budgets: Budgets, kept_in: str,
) -> None:
    if kept_in != "redis":
        pytest.skip("Redis keys only")
    assert budgets.redis is not None
    budgets.take("portal:submissions", limit=5)
    [key] = redis_contents(budgets.redis)
    assert key.startswith(REDIS_PREFIX.encode())
    assert len(key) == len(REDIS_PREFIX) + 32  # the hex of a 16-byte tag, nothing else
    assert b"submissions" not in key and b"2026" not in key
