"""core.cases.recategorise: a member moves a case to another category (after the console's
suggestion, or by hand); audited, inbox counts and member keys kept in step."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.cases.inbox_counts import computed_counts, stale_member_keys, stored_counts
from core.cases.recategorise import set_category
from core.categories.admin import set_category_active
from core.db import transaction
from core.errors import AccessDenied, InvalidInput
from core.models import AuditEvent, Case


def _category(session_factory, case_id: int) -> str | None:
    with session_factory() as s:
        case = s.get(Case, case_id)
        return case.category.code if case is not None and case.category else None


def test_a_member_moves_the_case_and_it_is_audited(session_factory, services, team) -> None:
    case_id = team["case"].case_id
    with transaction(session_factory) as s:
        set_category(s, services, team["ivy"].unlocked, case_id, "it_fault")
    assert _category(session_factory, case_id) == "it_fault"
    with session_factory() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "case:category")
                          ).scalar_one()
        assert event.case_id == case_id and event.reviewer_id == team["ivy"].id
        assert json.loads(event.detail) == {"from": "security", "to": "it_fault"}
        assert stored_counts(s) == computed_counts(s) and stale_member_keys(s) == 0


def test_an_unknown_category_is_refused(session_factory, services, team) -> None:
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        set_category(s, services, team["ivy"].unlocked, team["case"].case_id, "no_such")
    assert _category(session_factory, team["case"].case_id) == "security"


def test_confirming_the_category_changes_nothing_but_is_recorded(session_factory, services,
                                                                 team) -> None:
    with transaction(session_factory) as s:
        set_category(s, services, team["ivy"].unlocked, team["case"].case_id, "security")
    assert _category(session_factory, team["case"].case_id) == "security"
    with session_factory() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "case:category")
                         ).first() is None
        assert s.execute(select(AuditEvent).where(
            AuditEvent.action == "case:category:confirm")).scalar_one().case_id == \
            team["case"].case_id


def test_a_retired_category_is_refused(session_factory, services, team) -> None:
    with transaction(session_factory) as s:
        set_category_active(s, services, "other", False)
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        set_category(s, services, team["ivy"].unlocked, team["case"].case_id, "other")


def test_only_a_member_may_move_it(session_factory, services, team) -> None:
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        set_category(s, services, team["outsider"].unlocked, team["case"].case_id, "it_fault")
    assert _category(session_factory, team["case"].case_id) == "security"
