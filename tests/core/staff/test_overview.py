"""core.staff.overview: the admin dashboard's counts, with nothing decrypted."""

from __future__ import annotations

from core.db import transaction
from core.models import Role
from core.staff.accounts import deactivate_reviewer
from core.staff.overview import admin_overview
from tests.core.factories import add_reviewer, seed_categories, submit


def test_counts_active_accounts_by_role_cases_and_unrouted_categories(session_factory,
                                                                      services):
    ivy = add_reviewer(session_factory, services, "ivy")
    add_reviewer(session_factory, services, "bob")
    add_reviewer(session_factory, services, "adam", role=Role.ADMIN)
    add_reviewer(session_factory, services, "audrey", role=Role.AUDITOR)
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    submit(session_factory, services)
    submit(session_factory, services)
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "bob")
    with session_factory() as s:
        overview = admin_overview(s, services.keyring)
    assert overview.active_accounts == {Role.REVIEWER: 1, Role.ADMIN: 1, Role.AUDITOR: 1}
    assert overview.total_cases == 2
    unrouted = {c.code for c in overview.unrouted}
    assert "it_fault" not in unrouted and "security" in unrouted


def test_accounts_that_cannot_work_yet_are_counted_apart(session_factory, services):
    # Outside tester: accounts awaiting approval or enrolment were counted as active case
    # handlers, so a dashboard could show handlers where nobody could receive a report.
    from core.models import Reviewer
    from tests.reviewer.conftest import new_account

    add_reviewer(session_factory, services, "ivy")
    new_account(session_factory, services, "newbie", ready=False)
    waiting_approval = add_reviewer(session_factory, services, "pending")
    with transaction(session_factory) as s:
        s.get(Reviewer, waiting_approval.id).approved = False
    with session_factory() as s:
        overview = admin_overview(s, services.keyring)
    assert overview.active_accounts == {Role.REVIEWER: 1}
    assert overview.waiting_accounts == 2


def test_open_cases_that_reach_nobody_are_counted(session_factory, services):
    ivy = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    reached = submit(session_factory, services)
    lost = submit(session_factory, services, category="security")  # no intake handler
    with session_factory() as s:
        overview = admin_overview(s, services.keyring)
    assert overview.unreached.total == 1
    assert overview.unreached.references == [lost.reference] != [reached.reference]
