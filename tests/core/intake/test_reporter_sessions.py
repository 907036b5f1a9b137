"""Reporters' follow-up sessions: sealed under a cookie-only secret, idle expiry, logout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.cases.grants import SubmitterKeys
from core.clock import Clock, DatePrecision
from core.db import transaction
from core.intake.reporter import SubmitterAccess
from core.intake.reporter_sessions import (
    end_submitter_session,
    purge_old_submitter_sessions,
    resume_submitter_session,
    start_submitter_session,
)
from core.models import SubmitterSession
from core.services import Services
from core.session_tokens import parse_session_token

ACCESS = SubmitterAccess(case_id=7, reference="C-TESTREF1",
                         opened=SubmitterKeys(first_case_key=bytes(range(32)), private_key=None))


def _at(services: Services, moment: datetime) -> Services:
    services.clock = Clock(now=lambda: moment)
    return services


def test_round_trip_idle_expiry_and_logout(
    session_factory: sessionmaker[Session], services: Services
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
    # 31 idle minutes: gone, and the row is deleted.
    _at(services, t0 + timedelta(minutes=77))
    with transaction(session_factory) as s:
        assert resume_submitter_session(s, services, cookie) is None
        assert s.execute(select(SubmitterSession)).first() is None

    _at(services, t0)
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
    with transaction(session_factory) as s:
        end_submitter_session(s, cookie)
    with transaction(session_factory) as s:
        assert resume_submitter_session(s, services, cookie) is None


def test_database_row_reveals_neither_key_nor_time(
    session_factory: sessionmaker[Session], services: Services
) -> None:
    _at(services, datetime(2026, 11, 28, 13, 37, 42, tzinfo=UTC))
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
    with session_factory() as s:
        row = s.execute(select(SubmitterSession)).scalar_one()
    key = ACCESS.opened.first_case_key
    assert key not in row.sealed_state and key.hex().encode() not in row.sealed_state
    assert row.created_on.isoformat() == "2026-11-28"
    token = parse_session_token(cookie)
    assert token is not None and row.id_hash != token.session_id


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
    session_factory: sessionmaker[Session], services: Services
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
    _at(services, t0 + timedelta(days=1, seconds=1))
    with transaction(session_factory) as s:
        assert resume_submitter_session(s, services, cookie) is None


def test_purge_removes_rows_only_once_their_session_surely_ended(
    session_factory: sessionmaker[Session], services: Services
) -> None:
    """A row's date may be its week's Monday, standing for any day up to the Sunday: it goes
    once a day has passed since that Sunday."""
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    _at(services, t0)
    with transaction(session_factory) as s:
        start_submitter_session(s, services, ACCESS)
    _at(services, t0 + timedelta(days=8))
    with transaction(session_factory) as s:
        assert purge_old_submitter_sessions(s, services) == 0
    _at(services, t0 + timedelta(days=9))
    with transaction(session_factory) as s:
        assert purge_old_submitter_sessions(s, services) == 1


def test_week_precision_rows_carry_the_monday(
    session_factory: sessionmaker[Session], services: Services
) -> None:
    saturday = datetime(2026, 11, 28, 22, 10, tzinfo=UTC)
    services.clock = Clock(now=lambda: saturday, precision=DatePrecision.WEEK)
    with transaction(session_factory) as s:
        cookie = start_submitter_session(s, services, ACCESS)
        assert resume_submitter_session(s, services, cookie) == ACCESS
    with session_factory() as s:
        row = s.execute(select(SubmitterSession)).scalar_one()
    assert row.created_on.isoformat() == "2026-11-23"
