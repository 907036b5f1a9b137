"""Operators route a category's new reports to intake case handlers: by username, refusing
unknown and ineligible accounts, with one audit event."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.categories.admin import route_intake
from core.db import transaction
from core.errors import InvalidInput, NotFound
from core.models import Category, Role
from tests.core.categories.recorded import events
from tests.core.factories import add_reviewer


def test_route_intake_by_username(seeded, services):
    add_reviewer(seeded, services, "alice")
    add_reviewer(seeded, services, "bob")
    with transaction(seeded) as s:
        routed = route_intake(s, services, "roles", ["alice", " Bob ", "alice"])
        assert [r.username for r in routed.intake_reviewers] == ["alice", "bob"]
    assert events(seeded) == [("category:change", {"category": "roles", "intake": 2}, "system")]
    with transaction(seeded) as s:
        assert route_intake(s, services, "roles", []).intake_reviewers == []
    assert events(seeded)[-1][1] == {"category": "roles", "intake": 0}


def test_route_intake_refuses_unknown_and_ineligible_accounts(seeded, services):
    add_reviewer(seeded, services, "alice")
    add_reviewer(seeded, services, "boss", role=Role.ADMIN)
    with transaction(seeded) as s, pytest.raises(NotFound, match="no reviewer named 'nobody'"):
        route_intake(s, services, "roles", ["alice", "nobody"])
    with transaction(seeded) as s, pytest.raises(InvalidInput, match="boss cannot receive"):
        route_intake(s, services, "roles", ["boss"])
    with transaction(seeded) as s, pytest.raises(NotFound, match="no category"):
        route_intake(s, services, "nope", ["alice"])
    with seeded() as s:
        roles = s.scalars(select(Category).where(Category.code == "roles")).one()
        assert roles.intake_reviewers == []
    assert events(seeded) == []
