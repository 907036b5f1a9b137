"""Fixtures shared by this folder's test modules."""

from __future__ import annotations

import pytest

from tests.core.factories import add_reviewer, seed_categories


@pytest.fixture
def intake(session_factory, services):
    """A reviewer who receives it_fault cases."""
    reviewer = add_reviewer(session_factory, services, "ivy.intake")
    seed_categories(session_factory, {"it_fault": [reviewer.id]}, services=services)
    return reviewer
