"""Guards a fixed review finding: SECURITY.md says admins "get no grants by role". The core
use cases themselves refuse to grant a case to an admin or route new cases to one, not only
the console's forms, so no other caller (CLI, a future view, a script) can seal case keys to
an admin. (When reviewed, core refused auditors only and these tests failed.)"""

from __future__ import annotations

import pytest

from core.cases.team_changes import grant_case
from core.categories.intake_routes import set_intake
from core.db import transaction
from core.errors import AccessDenied, InvalidInput
from core.models import Reviewer


def test_grant_case_refuses_an_admin(session_factory, services, world):
    with transaction(session_factory) as s, pytest.raises((InvalidInput, AccessDenied)):
        admin = s.get(Reviewer, world.admin.id)
        grant_case(s, services, world.on_case.unlocked, world.case_id, admin)


def test_set_intake_refuses_an_admin(session_factory, services, world):
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        admin = s.get(Reviewer, world.admin.id)
        set_intake(s, services.keyring, "it_fault", [admin])
