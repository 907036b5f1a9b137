"""Row locks that serialise changes to an account or a case must not block inserts that only
reference the row (a foreign key takes FOR KEY SHARE on PostgreSQL). A plain FOR UPDATE did:
under load a console login holding its account's row waited for the audit log's head while
the head's holder waited to insert a row naming that account, and PostgreSQL broke the
deadlock with a 500. FOR NO KEY UPDATE serialises the changes and lets such inserts go on."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.cases.inbox_counts import lock_case
from core.db import transaction
from core.models import Case, ReporterExclusion, Reviewer
from core.staff import authentication as staff_auth
from core.staff import login as staff_login
from tests.core.factories import seed_categories, submit
from tests.reviewer.conftest import current_code, freeze_mid_totp_step, new_account


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has no row locks: it runs one writer at a time")


def _insert_meanwhile(session_factory, insert) -> None:
    """Run `insert` in another transaction, failing instead of waiting on a lock."""
    with transaction(session_factory) as other:
        other.execute(text("SET LOCAL lock_timeout = '2s'"))
        insert(other)


def test_a_finishing_login_lets_rows_naming_the_account_be_inserted(
        session_factory, services, monkeypatch):
    freeze_mid_totp_step(services)
    kai = new_account(session_factory, services, "kai")
    verify_totp = staff_login.verify_totp
    inserted: list[bool] = []

    def verify_then_insert(services_, reviewer, code):
        # The login holds its lock on the account's row now.
        _insert_meanwhile(session_factory, lambda other: staff_auth.create_session(
            other, services, other.get(Reviewer, kai.id), kai.private_key))
        inserted.append(True)
        return verify_totp(services_, reviewer, code)

    code = current_code(services, session_factory, kai.id)
    monkeypatch.setattr(staff_login, "verify_totp", verify_then_insert)
    with session_factory() as s:
        with s.begin():
            attempt = staff_login.admit_login(s, services, "kai")
        check = staff_login.check_passphrase(services, attempt, kai.passphrase)
        with s.begin():
            result = staff_login.finish_login(s, services, attempt, check, code)
    assert inserted == [True] and result.ok


def test_a_locked_case_lets_rows_naming_it_be_inserted(session_factory, services):
    handler = new_account(session_factory, services, "hana")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    case_id = submit(session_factory, services).case_id
    with transaction(session_factory) as s:
        case = s.get(Case, case_id)
        assert case is not None
        lock_case(s, case)
        _insert_meanwhile(session_factory, lambda other: other.add(
            ReporterExclusion(case_id=case_id, tag=b"\x01" * 32)))


def test_ending_the_sessions_waits_for_a_login_in_progress(session_factory, services,
                                                           monkeypatch):
    # Otherwise the login's new session escapes an admin's "end all sessions" (PostgreSQL's
    # DELETE does not see a row inserted by a transaction still open).
    from sqlalchemy.exc import OperationalError

    from core.staff.accounts import end_sessions

    freeze_mid_totp_step(services)
    kai = new_account(session_factory, services, "kai")
    verify_totp = staff_login.verify_totp
    waited: list[bool] = []

    def verify_then_end_sessions(services_, reviewer, code):
        try:
            _insert_meanwhile(session_factory, lambda other: end_sessions(other, kai.id))
            waited.append(False)
        except OperationalError:  # lock_timeout: it waited for the login's lock
            waited.append(True)
        return verify_totp(services_, reviewer, code)

    code = current_code(services, session_factory, kai.id)
    monkeypatch.setattr(staff_login, "verify_totp", verify_then_end_sessions)
    with session_factory() as s:
        with s.begin():
            attempt = staff_login.admit_login(s, services, "kai")
        check = staff_login.check_passphrase(services, attempt, kai.passphrase)
        with s.begin():
            staff_login.finish_login(s, services, attempt, check, code)
    assert waited == [True]
