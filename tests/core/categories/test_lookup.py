"""core.categories.lookup: the default categories, look-ups by code, and intake routing."""

from __future__ import annotations

import pytest

from core.categories.intake_routes import set_intake, unrouted_categories
from core.categories.lookup import (
    DEFAULT_CATEGORIES,
    active_categories,
    get_category,
    list_categories,
    seed_default_categories,
)
from core.db import transaction
from core.errors import InvalidInput, NotFound
from core.models import Reviewer, Role
from tests.core.factories import add_reviewer


def test_seeding_adds_the_defaults_once(session_factory) -> None:
    with transaction(session_factory) as s:
        assert seed_default_categories(s) == len(DEFAULT_CATEGORIES)
    with transaction(session_factory) as s:
        assert seed_default_categories(s) == 0
    with session_factory() as s:
        assert [c.code for c in list_categories(s)] == [d[0] for d in DEFAULT_CATEGORIES]
        assert all(c.name_zh and c.description_zh for c in active_categories(s))


@pytest.mark.parametrize("code", ["nope", "IT_FAULT", "it-fault", "x" * 100, "nul\x00"])
def test_unknown_or_malformed_codes_are_not_found(session_factory, code: str) -> None:
    with transaction(session_factory) as s:
        seed_default_categories(s)
    with session_factory() as s, pytest.raises(NotFound):
        get_category(s, code)


def test_only_active_case_handlers_receive_reports(session_factory, services) -> None:
    ivy = add_reviewer(session_factory, services, "ivy")
    adam = add_reviewer(session_factory, services, "adam", role=Role.ADMIN)
    with transaction(session_factory) as s:
        seed_default_categories(s)
        set_intake(s, services.keyring, "it_fault", [s.get(Reviewer, ivy.id)])
        with pytest.raises(InvalidInput):
            set_intake(s, services.keyring, "security", [s.get(Reviewer, adam.id)])
    with session_factory() as s:
        unrouted = {c.code for c in unrouted_categories(s, services.keyring)}
    assert "it_fault" not in unrouted
    assert unrouted == {d[0] for d in DEFAULT_CATEGORIES} - {"it_fault"}
