"""Two portal processes behind one proxy, sharing one Redis (`redis_url`): each is its own
`create_app` from the same configuration and data directory, and yet they spend one
submissions budget and know one reporter's follow-up session. Nothing of either is left in
the database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.intake.session_store import REDIS_PREFIX as SESSION_PREFIX
from core.keyring import write_keyring
from core.operations.throttle import REDIS_PREFIX as THROTTLE_PREFIX
from core.services import Services
from portal import create_app
from portal.state import EXTENSION_KEY, PortalState
from tests.portal.conftest import (
    IntakeReviewer,
    ResponseWatch,
    csrf_token,
    login_via,
    receipt_of,
    report_fields,
    submit_report_via,
    watch_responses,
)
from tests.redis_support import fresh_redis, redis_contents

FOLLOWUP_COOKIE = "__Host-candor-followup"
#: In the middle of a minute: the budget's window does not roll over during a test.
MOMENT = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)


@pytest.fixture
def shared_config(services: Services, intake_reviewer: IntakeReviewer) -> Iterator[Config]:
    """The instance's configuration with a Redis of its own; its secrets in the data
    directory, where each portal process reads them."""
    with fresh_redis() as url:
        config = replace(services.config, redis_url=url, submissions_per_minute=1)
        write_keyring(config, services.keyring)
        yield config


@pytest.fixture
def portals(shared_config: Config) -> Iterator[tuple[Flask, Flask]]:
    apps, watches = [], []
    for _ in range(2):
        app = create_app(shared_config)
        app.config["TESTING"] = True
        state = app.extensions[EXTENSION_KEY]
        assert isinstance(state, PortalState)
        state.services.clock.now = lambda: MOMENT
        apps.append(app)
        watches.append(watch_responses(app))
    yield apps[0], apps[1]
    for app in apps:
        redis = app.extensions[EXTENSION_KEY].services.redis
        assert redis is not None
        redis.close()
    _check(watches)


def _check(watches: list[ResponseWatch]) -> None:
    for watch in watches:
        watch.check()


def _redis(config: Config) -> Redis:
    assert config.redis_url is not None
    return Redis.from_url(config.redis_url)


def _database_holds_none(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        for table in ("throttle_buckets", "submitter_sessions"):
            assert s.execute(text(f"select count(*) from {table}")).scalar_one() == 0, table


def test_two_portals_spend_one_submissions_budget(
    portals: tuple[Flask, Flask], shared_config: Config,
    session_factory: sessionmaker[Session],
) -> None:
    first, second = portals
    assert first.extensions[EXTENSION_KEY].services is not second.extensions[
        EXTENSION_KEY].services
    assert submit_report_via(first.test_client()).status_code == 200
    busy = submit_report_via(second.test_client(), report_fields(summary="Second portal"))
    assert busy.status_code == 429
    assert busy.headers["Retry-After"] == "40"  # the window ends at 12:01:00
    assert "Second portal" in busy.text
    _database_holds_none(session_factory)
    redis = _redis(shared_config)
    try:
        keys = [key for key in redis_contents(redis) if key.startswith(
            THROTTLE_PREFIX.encode())]
        assert len(keys) == 1
    finally:
        redis.close()


def test_a_reporter_session_opened_on_one_portal_works_on_the_other(
    portals: tuple[Flask, Flask], shared_config: Config,
    session_factory: sessionmaker[Session],
) -> None:
    first, second = portals
    on_first, on_second = first.test_client(), second.test_client()
    response = submit_report_via(on_first)
    assert response.status_code == 200
    assert login_via(on_first, receipt_of(response.text)).status_code == 303
    cookie = on_first.get_cookie(FOLLOWUP_COOKIE)
    assert cookie is not None
    on_second.set_cookie(FOLLOWUP_COOKIE, cookie.value, secure=True, httponly=True)
    assert 'id="stage"' in on_second.get("/case").text
    assert 'id="stage"' in on_first.get("/case").text
    _database_holds_none(session_factory)
    redis = _redis(shared_config)
    try:
        keys = [key for key in redis_contents(redis) if key.startswith(
            SESSION_PREFIX.encode())]
        assert len(keys) == 1
    finally:
        redis.close()


def test_logging_out_on_one_portal_ends_the_session_on_the_other(
    portals: tuple[Flask, Flask],
) -> None:
    first, second = portals
    on_first, on_second = first.test_client(), second.test_client()
    response = submit_report_via(on_first)
    login_via(on_first, receipt_of(response.text))
    cookie = on_first.get_cookie(FOLLOWUP_COOKIE)
    assert cookie is not None
    on_second.set_cookie(FOLLOWUP_COOKIE, cookie.value, secure=True, httponly=True)
    page = on_second.get("/case")
    assert 'id="stage"' in page.text
    logout = on_second.post("/case/logout", data={"csrf_token": csrf_token(page.text)})
    assert logout.status_code == 303
    assert 'id="stage"' not in on_first.get("/case").text
