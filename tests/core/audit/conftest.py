"""Fixtures of the audit-log tests."""

from __future__ import annotations

import pytest

from tests.core.factories import add_reviewer, seed_categories


@pytest.fixture
def world(session_factory, services):
    ivy = add_reviewer(session_factory, services, "ivy")
    peer = add_reviewer(session_factory, services, "peer")
    seed_categories(session_factory, {"misconduct": [ivy.id]}, services=services)
    return {"ivy": ivy, "peer": peer}
