"""Fixtures of the security tests."""

from __future__ import annotations

import pytest

from core.services import Services
from tests.core.factories import (
    add_reviewer,
    seed_categories,
    submit,
)
from tests.security.key_custody_support import Factory, Team


@pytest.fixture
def team(session_factory: Factory, services: Services) -> Team:
    """A case routed to the intake handlers ivy and kai (no lead yet)."""
    ivy = add_reviewer(session_factory, services, "ivy")
    kai = add_reviewer(session_factory, services, "kai")
    seed_categories(session_factory, {"it_fault": [ivy.id, kai.id]}, services=services)
    return {"ivy": ivy, "kai": kai, "case": submit(session_factory, services)}


