"""core.staff.authentication at the core level: logins with passphrase and TOTP, lockout,
replayed codes, sessions sealed under the cookie's secret, logout and re-authentication.
(The console's pages over it are tested in tests/reviewer/test_auth.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import transaction
from core.models import Reviewer, ReviewerSession
from core.session_tokens import SessionToken
from core.staff import authentication as staff_auth
from core.staff import login as staff_login
from tests.core.factories import audit_actions
from tests.reviewer.conftest import (
    current_code,
    freeze_mid_totp_step,
    new_account,
    wrong_code,
)

FAILED = "session:login:fail"
SUCCEEDED = "session:login"


@pytest.fixture
def account(session_factory, services):
    freeze_mid_totp_step(services)
    return new_account(session_factory, services, "kai")


def _login(session_factory, services, username, passphrase, code):
    with transaction(session_factory) as s:
        return staff_login.authenticate(s, services, username, passphrase, code)


def _reviewer(session_factory, reviewer_id: int) -> Reviewer:
    with session_factory() as s:
        reviewer = s.get(Reviewer, reviewer_id)
        assert reviewer is not None
        return reviewer


def test_a_correct_login_opens_a_session_holding_the_key(session_factory, services, account):
    code = current_code(services, session_factory, account.id)
    result = _login(session_factory, services, "kai", account.passphrase, code)
    assert result.token is not None and result.reviewer_id == account.id
    assert result.next_step is staff_auth.NextStep.READY
    with transaction(session_factory) as s:
        loaded = staff_auth.load_session(s, services, result.token)
        assert loaded is not None and loaded.private_key == account.private_key
    assert audit_actions(session_factory)[-1] == SUCCEEDED


@pytest.mark.parametrize("mistake", ["unknown user", "wrong passphrase", "wrong code",
                                     "no code", "bad username"])
def test_every_failure_looks_the_same(session_factory, services, account, mistake):
    code = current_code(services, session_factory, account.id)
    username, passphrase = "kai", account.passphrase
    if mistake == "unknown user":
        username = "nobody"
    elif mistake == "wrong passphrase":
        passphrase = "not the passphrase at all"
    elif mistake == "wrong code":
        code = wrong_code(services, session_factory, account.id)
    elif mistake == "no code":
        code = None
    else:
        username = "nul\x00name"
    result = _login(session_factory, services, username, passphrase, code)
    assert result.token is None and result.reviewer_id is None and result.retry_after is None
    assert audit_actions(session_factory)[-1] == FAILED
    with session_factory() as s:
        assert s.query(ReviewerSession).count() == 0


def test_a_totp_code_works_once(session_factory, services, account):
    code = current_code(services, session_factory, account.id)
    assert _login(session_factory, services, "kai", account.passphrase, code).token
    replay = _login(session_factory, services, "kai", account.passphrase, code)
    assert replay.token is None


def test_the_account_locks_after_repeated_failures(session_factory, services, account):
    for _ in range(staff_auth.LOCK_AFTER):
        _login(session_factory, services, "kai", "wrong wrong wrong", None)
    assert _reviewer(session_factory, account.id).locked_until is not None
    code = current_code(services, session_factory, account.id)
    assert _login(session_factory, services, "kai", account.passphrase, code).token is None
    # After the lock (and the per-name budget's window) the right credentials work again.
    later = services.clock.now() + staff_auth.LOCK_FOR + staff_auth.ACCOUNT_WINDOW
    services.clock.now = lambda: later
    code = current_code(services, session_factory, account.id)
    assert _login(session_factory, services, "kai", account.passphrase, code).token
    assert _reviewer(session_factory, account.id).failed_logins == 0


def test_a_session_opens_only_with_its_cookie_secret(session_factory, services, account):
    with transaction(session_factory) as s:
        token = staff_auth.create_session(s, services, s.get(Reviewer, account.id),
                                          account.private_key)
    forged = SessionToken(session_id=token.session_id, secret=bytes(len(token.secret)))
    with transaction(session_factory) as s:
        assert staff_auth.load_session(s, services, forged) is None
        assert staff_auth.load_session(s, services, token) is not None
        assert staff_auth.load_session(s, services, None) is None


def test_an_idle_session_ends_and_its_row_goes(session_factory, services, account):
    with transaction(session_factory) as s:
        token = staff_auth.create_session(s, services, s.get(Reviewer, account.id),
                                          account.private_key)
    idle = timedelta(minutes=services.config.reviewer_session_idle_minutes, seconds=1)
    later = services.clock.now() + idle
    services.clock.now = lambda: later
    with transaction(session_factory) as s:
        assert staff_auth.load_session(s, services, token) is None
    with session_factory() as s:
        assert s.get(ReviewerSession, token.id_hash) is None


def test_logout_ends_the_session_and_is_logged(session_factory, services, account):
    with transaction(session_factory) as s:
        token = staff_auth.create_session(s, services, s.get(Reviewer, account.id),
                                          account.private_key)
    with transaction(session_factory) as s:
        loaded = staff_auth.load_session(s, services, token)
        assert loaded is not None
        staff_auth.logout(s, services, loaded)
    with transaction(session_factory) as s:
        assert staff_auth.load_session(s, services, token) is None
    assert audit_actions(session_factory)[-1] == "session:logout"


def test_reauthentication_window(session_factory, services, account):
    with transaction(session_factory) as s:
        token = staff_auth.create_session(s, services, s.get(Reviewer, account.id),
                                          account.private_key)
    with transaction(session_factory) as s:
        loaded = staff_auth.load_session(s, services, token)
        assert staff_auth.reauth_fresh(services, loaded)  # the login counts
    start = services.clock.now()
    services.clock.now = lambda: start + staff_auth.REAUTH_WINDOW + timedelta(seconds=1)
    with transaction(session_factory) as s:
        loaded = staff_auth.load_session(s, services, token)
        assert not staff_auth.reauth_fresh(services, loaded)
        assert staff_auth.reauthenticate(s, services, loaded, "wrong wrong wrong") == (False,
                                                                                        None)
        assert staff_auth.reauthenticate(s, services, loaded, account.passphrase) == (True,
                                                                                       None)
        assert staff_auth.reauth_fresh(services, loaded)


def test_a_passphrase_changed_between_the_login_steps_does_not_log_in(
    account, session_factory, services
):
    # The Argon2id runs between two transactions (core.staff.login): if the passphrase (or the
    # wrapped key) changed in between, the old passphrase must not open a session.
    with transaction(session_factory) as s:
        attempt = staff_login.admit_login(s, services, "kai")
    check = staff_login.check_passphrase(services, attempt, account.passphrase)
    assert check.ok
    with transaction(session_factory) as s:
        s.get(Reviewer, account.id).passphrase_hash = "$argon2id$changed"
    with transaction(session_factory) as s:
        result = staff_login.finish_login(s, services, attempt, check,
                                          current_code(services, session_factory, account.id))
    assert not result.ok
    assert audit_actions(session_factory)[-1] == FAILED


def test_the_passphrase_check_sees_a_change_made_in_between_in_the_same_session(
    account, session_factory, services
):
    # As in the console: one session for both steps, committed in between, its objects kept.
    with session_factory() as s:
        with s.begin():
            attempt = staff_login.admit_login(s, services, "kai")
        check = staff_login.check_passphrase(services, attempt, account.passphrase)
        with transaction(session_factory) as other:
            other.get(Reviewer, account.id).passphrase_hash = "$argon2id$changed"
        with s.begin():
            result = staff_login.finish_login(
                s, services, attempt, check, current_code(services, session_factory, account.id))
    assert check.ok and not result.ok


def test_a_reauthentication_sees_a_change_made_in_between(account, session_factory, services):
    with session_factory() as s:
        with s.begin():
            token = staff_auth.create_session(s, services, s.get(Reviewer, account.id),
                                              account.private_key)
            loaded = staff_auth.load_session(s, services, token)
        checked = staff_auth.check_reauth_passphrase(services, loaded, account.passphrase)
        with transaction(session_factory) as other:
            other.get(Reviewer, account.id).passphrase_hash = "$argon2id$changed"
        with s.begin():
            accepted = staff_auth.finish_reauth(s, services, loaded, checked)
    assert checked.ok and not accepted


def test_after_a_totp_reset_an_account_with_keys_needs_a_code_from_the_new_secret(
        session_factory, services, account):
    """Outside tester: after `reviewer reset-totp`, the passphrase alone used to open the
    enrolment page, which showed the new secret, and from there the account's cases."""
    from core.staff.accounts import reset_totp

    with transaction(session_factory) as s:
        reset_totp(s, services, "kai")
    assert _reviewer(session_factory, account.id).wrapped_private_key is not None
    for code in (None, "", wrong_code(services, session_factory, account.id)):
        result = _login(session_factory, services, "kai", account.passphrase, code)
        assert result.token is None
    assert not _reviewer(session_factory, account.id).totp_confirmed
    assert audit_actions(session_factory)[-3:] == [FAILED] * 3

    code = current_code(services, session_factory, account.id)  # from the new secret
    result = _login(session_factory, services, "kai", account.passphrase, code)
    assert result.token is not None and result.next_step is staff_auth.NextStep.READY
    assert _reviewer(session_factory, account.id).totp_confirmed
    assert audit_actions(session_factory)[-2:] == ["reviewer:totp:enrol", SUCCEEDED]
    # The code counts as used, as any login's.
    assert _login(session_factory, services, "kai", account.passphrase, code).token is None


def test_a_new_account_without_keys_still_enrols_with_its_one_time_passphrase(
        session_factory, services):
    freeze_mid_totp_step(services)
    handle = new_account(session_factory, services, "nia", ready=False)
    assert _reviewer(session_factory, handle.id).wrapped_private_key is None
    result = _login(session_factory, services, "nia", handle.passphrase, None)
    assert result.token is not None and result.next_step is staff_auth.NextStep.ENROL_TOTP
