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
    seed_categories(session_factory, {"it_fault": [ivy.id]})
    submit(session_factory, services)
    submit(session_factory, services)
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "bob")
    with session_factory() as s:
        overview = admin_overview(s)
    assert overview.active_accounts == {Role.REVIEWER: 1, Role.ADMIN: 1, Role.AUDITOR: 1}
    assert overview.total_cases == 2
    unrouted = {c.code for c in overview.unrouted}
    assert "it_fault" not in unrouted and "security" in unrouted
