"""Reporters' follow-up sessions: sealed under a cookie-only secret, idle expiry, logout; the
same tests with the sessions in the database (SQLite, PostgreSQL) and in Redis."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.cases.grants import SubmitterKeys
from core.clock import Clock, DatePrecision
from core.config import Config
from core.db import transaction
from core.intake.reporter import SubmitterAccess
from core.intake.reporter_sessions import (
    end_submitter_session,
    purge_old_submitter_sessions,
    resume_submitter_session,
    start_submitter_session,
)
from core.intake.session_store import REDIS_PREFIX
from core.models import SubmitterSession
from core.services import Services
from core.session_tokens import parse_session_token
from tests.redis_support import fresh_redis, redis_contents

ACCESS = SubmitterAccess(case_id=7, reference="C-TESTREF1",
                         opened=SubmitterKeys(first_case_key=bytes(range(32)), private_key=None))


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def kept_in(request: pytest.FixtureRequest) -> str:
    """Where the sessions are kept."""
    return str(request.param)


@pytest.fixture
def backend(kept_in: str) -> str:
    """The database of the test (with Redis: SQLite, which must then hold no session)."""
    return "sqlite" if kept_in == "redis" else kept_in


@pytest.fixture
def config(config: Config, kept_in: str) -> Iterator[Config]:
    """The test's configuration, with a Redis database of its own for "redis"."""
    if kept_in != "redis":
        yield config
        return
    with fresh_redis() as url:
        yield replace(config, redis_url=url)


@pytest.fixture
def redis(services: Services) -> Iterator[Redis | None]:
    """The services' Redis client (None when the sessions are in the database)."""
    yield services.redis
    if services.redis is not None:
        services.redis.close()


def _at(services: Services, moment: datetime) -> Services:
    services.clock = Clock(now=lambda: moment)
    return services


def _stored(session_factory: sessionmaker[Session], redis: Redis | None) -> list[bytes]:
    """The sealed states of every stored session, wherever they are."""
    if redis is not None:
        with session_factory() as s:
            assert s.execute(select(SubmitterSession)).first() is None
        return [value for value, _ttl in redis_contents(redis).values()]
    with session_factory() as s:
        return [row.sealed_state for row in s.execute(select(SubmitterSession)).scalars()]


def test_round_trip_idle_expiry_and_logout(
    session_factory: sessionmaker[Session], services: Services, redis: Redis | None
) -> None:
    t0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    _at(services, t0)
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
    # 20 minutes later: alive, and the idle deadline slides forward.
    _at(services, t0 + timedelta(minutes=20))
    with transaction(session_factory) as s:
        assert resume_submitter_session(s, services, cookie) == ACCESS
    _at(services, t0 + timedelta(minutes=45))
    with transaction(session_factory) as s:
        assert resume_submitter_session(s, services, cookie) == ACCESS
    # 31 idle minutes: gone, and the session is deleted.
    _at(services, t0 + timedelta(minutes=77))
    assert len(_stored(session_factory, redis)) == 1
    with transaction(session_factory) as s:
        assert resume_submitter_session(s, services, cookie) is None
    assert _stored(session_factory, redis) == []

    _at(services, t0)
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
    with transaction(session_factory) as s:
        end_submitter_session(s, services, cookie)
    assert _stored(session_factory, redis) == []
    with transaction(session_factory) as s:
        assert resume_submitter_session(s, services, cookie) is None


def test_a_session_ended_meanwhile_is_not_brought_back(
    session_factory: sessionmaker[Session], services: Services, redis: Redis | None,
    kept_in: str,
) -> None:
    """A logout between reading a session and sliding its deadline holds (and is no error)."""
    if kept_in == "sqlite":
        pytest.skip("SQLite allows one writer at a time: no logout can come in between")
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
    token = parse_session_token(cookie)
    assert token is not None
    store = services.submitter_sessions
    with transaction(session_factory) as s:
        sealed = store.get(s, token.id_hash)
        assert sealed is not None
        with transaction(session_factory) as other:
            end_submitter_session(other, services, cookie)
        store.update(s, token.id_hash, sealed, lifetime=timedelta(minutes=30))
    assert _stored(session_factory, redis) == []


def test_stored_sessions_reveal_neither_key_nor_time(
    session_factory: sessionmaker[Session], services: Services, redis: Redis | None
) -> None:
    moment = datetime(2026, 11, 28, 13, 37, 42, tzinfo=UTC)
    _at(services, moment)
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
    token = parse_session_token(cookie)
    assert token is not None
    [sealed] = _stored(session_factory, redis)
    key = ACCESS.opened.first_case_key
    assert key not in sealed and key.hex().encode() not in sealed
    if redis is None:
        with session_factory() as s:
            row = s.execute(select(SubmitterSession)).scalar_one()
        assert row.created_on.isoformat() == "2026-11-28"
        assert row.id_hash == token.id_hash != token.session_id
        return
    # Redis: the key is the id's hash, the value the sealed state; no date at all, the
    # session ends by itself when it idles out.
    [(redis_key, (value, ttl))] = redis_contents(redis).items()
    assert redis_key == (REDIS_PREFIX + token.id_hash.hex()).encode()
    assert token.session_id.hex().encode() not in redis_key
    assert value == sealed
    for needle in (b"2026", b"13:37", str(int(moment.timestamp()))[:6].encode()):
        assert needle not in redis_key and needle not in value
    assert 29 * 60_000 < ttl <= 30 * 60_000
    # Each use slides the TTL with the idle deadline.
    _at(services, moment + timedelta(minutes=10))
    redis.pexpire(redis_key, 60_000)
    with transaction(session_factory) as s:
        assert resume_submitter_session(s, services, cookie) == ACCESS
    assert 29 * 60_000 < redis.pttl(redis_key) <= 30 * 60_000


def test_forged_or_malformed_cookies_open_nothing(
    session_factory: sessionmaker[Session], services: Services
) -> None:
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
    session_id, secret = cookie.split(".")
    forged = f"{session_id}.{'A' * len(secret)}"
    with transaction(session_factory) as s:
        for value in (None, "", "garbage", "a.b.c", forged, cookie[:-2]):
            assert resume_submitter_session(s, services, value) is None
        assert resume_submitter_session(s, services, cookie) == ACCESS


def test_a_session_ends_a_day_after_login_however_active(
    session_factory: sessionmaker[Session], services: Services, redis: Redis | None
) -> None:
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    _at(services, t0)
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
    # Active every 20 minutes, the session still ends 24 hours after the login.
    moment = t0
    while moment + timedelta(minutes=20) < t0 + timedelta(days=1):
        moment += timedelta(minutes=20)
        _at(services, moment)
        with transaction(session_factory) as s:
            assert resume_submitter_session(s, services, cookie) == ACCESS
    if redis is not None:
        # The last use was 20 minutes or less before the absolute end: the key expires then,
        # not a full idle period later.
        [(_value, ttl)] = redis_contents(redis).values()
        left = t0 + timedelta(days=1) - moment
        assert left < timedelta(minutes=30)
        assert left.total_seconds() * 1000 - 1000 < ttl <= left.total_seconds() * 1000
    _at(services, t0 + timedelta(days=1, seconds=1))
    with transaction(session_factory) as s:
        assert resume_submitter_session(s, services, cookie) is None


def test_purge_removes_rows_only_once_their_session_surely_ended(
    session_factory: sessionmaker[Session], services: Services, redis: Redis | None
) -> None:
    """A row's date may be its week's Monday, standing for any day up to the Sunday: it goes
    once a day has passed since that Sunday. Redis keys expire by themselves instead."""
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    _at(services, t0)
    with transaction(session_factory) as s:
        start_submitter_session(s, services, ACCESS)
    _at(services, t0 + timedelta(days=8))
    with transaction(session_factory) as s:
        assert purge_old_submitter_sessions(s, services) == 0
    _at(services, t0 + timedelta(days=9))
    with transaction(session_factory) as s:
        assert purge_old_submitter_sessions(s, services) == (0 if redis else 1)
    if redis is not None:
        [(_value, ttl)] = redis_contents(redis).values()
        assert 0 < ttl <= 30 * 60_000


def test_week_precision_rows_carry_the_monday(
    session_factory: sessionmaker[Session], services: Services, redis: Redis | None
) -> None:
    saturday = datetime(2026, 11, 28, 22, 10, tzinfo=UTC)
    services.clock = Clock(now=lambda: saturday, precision=DatePrecision.WEEK)
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
        assert resume_submitter_session(s, services, cookie) == ACCESS
    assert len(_stored(session_factory, redis)) == 1
    if redis is None:
        with session_factory() as s:
            row = s.execute(select(SubmitterSession)).scalar_one()
        assert row.created_on.isoformat() == "2026-11-23"
