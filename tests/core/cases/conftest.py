"""Fixtures shared by this folder's test modules."""

from __future__ import annotations

import pytest

from core.cases.casework import (
    post_reviewer_message,
)
from core.cases.content import Identity
from core.db import transaction
from core.models import (
    MessageKind,
    Role,
)
from tests.core.cases.test_access import (
    REPORT,
)
from tests.core.factories import add_reviewer, seed_categories, submit


@pytest.fixture
def team(session_factory, services):
    """An intake reviewer, an outsider, an auditor and one confidential case with a note."""
    ivy = add_reviewer(session_factory, services, "ivy")
    outsider = add_reviewer(session_factory, services, "oscar")
    auditor = add_reviewer(session_factory, services, "audrey", role=Role.AUDITOR)
    seed_categories(session_factory, {"security": [ivy.id]}, services=services)
    case = submit(
        session_factory,
        services,
        category="security",
        report=REPORT,
        identity=Identity(name="Zhang San", contact="zs@example.org"),
        files=[("payroll.csv", b"name,salary\n")],
    )
    with transaction(session_factory) as s:
        post_reviewer_message(
            s,
            services,
            ivy.unlocked,
            case.case_id,
            MessageKind.INTERNAL_NOTE,
            "Check with HR first",
        )
        post_reviewer_message(
            s,
            services,
            ivy.unlocked,
            case.case_id,
            MessageKind.INFORMATION,
            "We received your report",
        )
    return {"ivy": ivy, "outsider": outsider, "auditor": auditor, "case": case}
