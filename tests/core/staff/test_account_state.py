"""core.staff.account_state: each account's status, enrolment and custodian role, through
the real use cases that put an account in each state."""

from __future__ import annotations

import pyotp

from core.audit.log import Actor
from core.db import transaction
from core.models import Reviewer, Role
from core.staff.account_state import AccountStatus, Enrolment, account_state
from core.staff.accounts import add_reviewer, deactivate_reviewer, reset_passphrase, reset_totp
from core.staff.approvals import request_account
from core.staff.authentication import confirm_totp
from tests.core.factories import add_reviewer as enrolled_account
from tests.core.factories import strong_passphrase


def state_of(session_factory, username):
    with session_factory() as s:
        row = s.query(Reviewer).filter_by(username=username).one()
        return account_state(row)


def test_a_new_account_is_active_but_not_enrolled(session_factory, services):
    with transaction(session_factory) as s:
        created = add_reviewer(s, services, username="alice", role=Role.REVIEWER,
                               passphrase=strong_passphrase())
        secret = created.totp_secret
    state = state_of(session_factory, "alice")
    assert (state.status, state.enrolment, state.custodian) == (
        AccountStatus.ACTIVE, Enrolment.NO_TOTP, False)

    with transaction(session_factory) as s:
        row = s.query(Reviewer).filter_by(username="alice").one()
        assert confirm_totp(s, services, row, pyotp.TOTP(secret).at(services.clock.now()))
    assert state_of(session_factory, "alice").enrolment is Enrolment.NO_KEYS


def test_an_account_made_in_the_console_awaits_approval(session_factory, services):
    admin = enrolled_account(session_factory, services, "root", Role.ADMIN)
    with transaction(session_factory) as s:
        request_account(s, services, Actor.reviewer(admin.id), username="carol",
                        role=Role.REVIEWER, passphrase=strong_passphrase())
    state = state_of(session_factory, "carol")
    assert state.status is AccountStatus.AWAITING_APPROVAL
    assert str(state.status) == "awaiting approval"
    # Deactivation overrides the rest: nothing pending matters for a closed account.
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "carol")
    assert state_of(session_factory, "carol").status is AccountStatus.DEACTIVATED


def test_enrolled_custodian_then_resets(session_factory, services):
    enrolled_account(session_factory, services, "dora", custodian=True)
    state = state_of(session_factory, "dora")
    assert (state.status, state.enrolment, state.custodian) == (
        AccountStatus.ACTIVE, Enrolment.COMPLETE, True)

    with transaction(session_factory) as s:
        reset_totp(s, services, "dora")
    assert state_of(session_factory, "dora").enrolment is Enrolment.NO_TOTP

    enrolled_account(session_factory, services, "emil")
    with transaction(session_factory) as s:
        reset_passphrase(s, services, "emil")
    assert state_of(session_factory, "emil").enrolment is Enrolment.NO_KEYS


def test_only_case_handlers_are_shown_as_custodians(session_factory, services):
    enrolled_account(session_factory, services, "audrey", Role.AUDITOR)
    with transaction(session_factory) as s:
        s.query(Reviewer).filter_by(username="audrey").one().identity_custodian = True
    assert state_of(session_factory, "audrey").custodian is False
