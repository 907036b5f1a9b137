"""Fixtures shared by the category tests."""

from __future__ import annotations

import pytest

from tests.core.factories import seed_categories


@pytest.fixture
def seeded(session_factory):
    """A database with the eight default categories."""
    seed_categories(session_factory)
    return session_factory
