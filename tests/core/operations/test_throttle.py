"""Global fixed-window budgets shared through the database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import ThrottleBucket
from core.operations.throttle import take

WINDOW = timedelta(minutes=1)
T0 = datetime(2026, 11, 28, 12, 0, 10, tzinfo=UTC)
KEY = bytes(range(32))


def test_budget_is_enforced_and_resets(session_factory: sessionmaker[Session]) -> None:
    results = []
    for _ in range(4):
        with transaction(session_factory) as s:
            results.append(take(s, "logins", limit=3, window=WINDOW, now=T0, key=KEY))
    assert results[:3] == [None, None, None]
    assert results[3] == 50  # 12:00:10 -> the window ends at 12:01:00
    with transaction(session_factory) as s:
        assert take(s, "logins", limit=3, window=WINDOW, now=T0 + WINDOW, key=KEY) is None
    with transaction(session_factory) as s:
        assert take(s, "other", limit=1, window=WINDOW, now=T0, key=KEY) is None


def test_concurrent_takers_never_exceed_the_budget(
    session_factory: sessionmaker[Session],
) -> None:
    allowed = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            with transaction(session_factory) as s:
                verdict = take(s, "shared", limit=25, window=timedelta(hours=1), now=T0,
                               key=KEY)
            with lock:
                allowed.append(verdict is None)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 40
    assert sum(allowed) == 25


def test_bucket_rows_hold_no_time(session_factory: sessionmaker[Session]) -> None:
    """The submissions budget's row must not hold the minute of the latest report."""
    moment = datetime(2026, 11, 28, 23, 47, 31, tzinfo=UTC)
    with transaction(session_factory) as s:
        assert take(s, "portal:submissions", limit=5, window=WINDOW, now=moment, key=KEY) is None
    with session_factory() as s:
        row = s.execute(text("select * from throttle_buckets")).one()
    dump = "|".join(v.hex() if isinstance(v, (bytes, memoryview)) else str(v)
                    for v in (bytes(x) if isinstance(x, memoryview) else x for x in row))
    for needle in ("2026-11-28", "23:47", str(int(moment.timestamp()) // 60),
                   str(int(moment.timestamp()))):
        assert needle not in dump, needle
    # The same window is recognised without reading a time: a second take counts on.
    with transaction(session_factory) as s:
        take(s, "portal:submissions", limit=5, window=WINDOW, now=moment, key=KEY)
    with session_factory() as s:
        assert s.execute(text("select count from throttle_buckets")).scalar_one() == 2


def test_the_limit_holds_again_in_every_later_window(
    session_factory: sessionmaker[Session],
) -> None:
    """Pins the line that stores the new window's tag: without it each take in a later window
    sees an old tag, starts from zero, and the limit never holds again after the first."""
    for window_number in range(3):
        now = T0 + window_number * WINDOW
        verdicts = []
        for _ in range(4):
            with transaction(session_factory) as s:
                verdicts.append(take(s, "logins", limit=3, window=WINDOW, now=now, key=KEY))
        assert verdicts[:3] == [None, None, None], window_number
        assert verdicts[3] is not None, window_number


def test_the_window_tag_cannot_be_computed_without_the_key(
    session_factory: sessionmaker[Session],
) -> None:
    """Pins the key in the window hash: an unkeyed tag could be matched against every minute
    of the day, dating the latest submission from the row alone."""
    import hashlib

    name = "portal:submissions"
    with transaction(session_factory) as s:
        take(s, name, limit=5, window=WINDOW, now=T0, key=KEY)
    with session_factory() as s:
        stored = bytes(s.execute(text("select window_tag from throttle_buckets")).scalar_one())
    minute = int(T0.timestamp()) // 60
    guesses = {hashlib.blake2b(f"{name}\n{number}".encode(), person=b"candor-window",
                               digest_size=16).digest()
               for number in range(minute - 1440, minute + 1440)}
    assert stored not in guesses
    # Another instance's key gives another tag for the same window.
    with transaction(session_factory) as s:
        s.execute(text("delete from throttle_buckets"))
        take(s, name, limit=5, window=WINDOW, now=T0, key=bytes(32))
    with session_factory() as s:
        other = bytes(s.execute(text("select window_tag from throttle_buckets")).scalar_one())
    assert other != stored and len(stored) == 16


def _stored_tags(session_factory: sessionmaker[Session]) -> dict[str, bytes]:
    with session_factory() as s:
        rows = s.execute(text("select name, window_tag from throttle_buckets")).all()
    return {name: bytes(tag) for name, tag in rows}


def test_buckets_counting_the_same_window_store_unrelated_tags(
    session_factory: sessionmaker[Session],
) -> None:
    """Pins the bucket's name in the window hash: without it every bucket counting the same
    minute would store the same tag, and the rows would tell that a login and a report came
    in the same minute."""
    for name in ("portal:submissions", "portal:logins"):
        with transaction(session_factory) as s:
            take(s, name, limit=5, window=WINDOW, now=T0, key=KEY)
    tags = _stored_tags(session_factory)
    assert tags["portal:submissions"] != tags["portal:logins"]


def test_the_window_tag_is_the_documented_keyed_hash(
    session_factory: sessionmaker[Session],
) -> None:
    """Pins the hash's personalisation: the throttle key also keys other hashes, and the
    "candor-window" person keeps a window tag from ever equalling one of them."""
    import hashlib

    name = "portal:submissions"
    with transaction(session_factory) as s:
        take(s, name, limit=5, window=WINDOW, now=T0, key=KEY)
    number = int(T0.timestamp()) // 60
    expected = hashlib.blake2b(f"{name}\n{number}".encode(), key=KEY,
                               person=b"candor-window", digest_size=16).digest()
    assert _stored_tags(session_factory)[name] == expected


def test_the_wait_is_rounded_up_to_whole_seconds(session_factory: sessionmaker[Session]) -> None:
    """Half a second before the window ends the answer is 1 second, not 0 and not 2."""
    for moment, wait in ((T0.replace(second=59, microsecond=500_000), 1),
                         (T0.replace(second=58, microsecond=200_000), 2)):
        with transaction(session_factory) as s:
            s.execute(text("delete from throttle_buckets"))
            take(s, "logins", limit=1, window=WINDOW, now=moment, key=KEY)
        with transaction(session_factory) as s:
            assert take(s, "logins", limit=1, window=WINDOW, now=moment, key=KEY) == wait


def test_a_bucket_already_loaded_is_read_again_under_the_lock(
    session_factory: sessionmaker[Session], backend: str,
) -> None:
    """Pins populate_existing: a session that loaded the bucket before another process
    counted on must not count from its stale copy (a lost update past the limit)."""
    if backend != "postgresql":
        pytest.skip("SQLite allows one writer at a time: the loaded row cannot go stale")
    with transaction(session_factory) as s:
        assert take(s, "logins", limit=2, window=WINDOW, now=T0, key=KEY) is None
    with session_factory() as reader, reader.begin():
        stale = reader.get(ThrottleBucket, "logins")
        assert stale is not None and stale.count == 1
        with transaction(session_factory) as other:
            assert take(other, "logins", limit=2, window=WINDOW, now=T0, key=KEY) is None
        assert take(reader, "logins", limit=2, window=WINDOW, now=T0, key=KEY) is not None
