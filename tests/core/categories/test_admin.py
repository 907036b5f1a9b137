"""Operators manage categories: validation, ordering, activation, intake, audit events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.audit.log import AuditAction, verify_events
from core.categories.admin import (
    add_category,
    edit_category,
    move_category,
    route_intake,
    set_category_active,
)
from core.categories.lookup import active_categories, list_categories
from core.db import transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.models import AuditEvent, Case, Category, Role
from tests.core.categories.recorded import events
from tests.core.factories import add_reviewer, submit

DEFAULT_ORDER = ["it_fault", "security", "environment", "communication", "roles",
                 "misconduct", "suggestion", "other"]


def codes(session_factory, active_only=False):
    with session_factory() as s:
        found = active_categories(s) if active_only else list_categories(s)
        return [c.code for c in found]


def positions_are_dense(session_factory):
    with session_factory() as s:
        return [c.position for c in list_categories(s)] == list(range(len(list_categories(s))))


def audit_chain_holds(session_factory):
    with session_factory() as s:
        verify_events(s.scalars(select(AuditEvent).order_by(AuditEvent.position)))


def add(session_factory, services, code="fraud", **kwargs):
    values = ({"name_en": "Fraud and theft", "name_zh": "欺诈与盗窃"} if code == "fraud" else
              {"name_en": f"Fraud ({code})", "name_zh": f"欺诈（{code}）"}) | kwargs
    with transaction(session_factory) as s:
        return add_category(s, services, code=code, **values).id


# --- add ----------------------------------------------------------------------------------------


def test_add_appends_an_active_category_and_records_it(seeded, services):
    add(seeded, services, description_en="  Money taken.  ", description_zh="金钱被盗。")
    assert codes(seeded) == [*DEFAULT_ORDER, "fraud"]
    assert codes(seeded, active_only=True)[-1] == "fraud"
    with seeded() as s:
        fraud = s.scalars(select(Category).where(Category.code == "fraud")).one()
        assert (fraud.name_en, fraud.name_zh) == ("Fraud and theft", "欺诈与盗窃")
        assert (fraud.description_en, fraud.description_zh) == ("Money taken.", "金钱被盗。")
        assert fraud.active
    assert events(seeded) == [("category:add", {"category": "fraud", "position": 9}, "system")]
    assert positions_are_dense(seeded)
    audit_chain_holds(seeded)


def test_add_at_a_position_moves_the_later_ones_down(seeded, services):
    add(seeded, services, position=1)
    add(seeded, services, code="safety_2", position=3)
    assert codes(seeded)[:4] == ["fraud", "it_fault", "safety_2", "security"]
    assert codes(seeded)[-1] == "other"
    assert positions_are_dense(seeded)


def test_concurrent_additions_queue_and_see_each_other(seeded, services):
    """The second addition waits for the first and sees its row: distinct dense positions,
    and a duplicate code is a Conflict, not a database error."""
    import threading
    import time

    outcome: dict[str, object] = {}

    def second(code: str) -> None:
        try:
            outcome[code] = add(seeded, services, code, position=1)
        except Conflict as exc:
            outcome[code] = exc

    with transaction(seeded) as s:
        add_category(s, services, code="first", name_en="First", name_zh="第一", position=1)
        other = threading.Thread(target=second, args=("second",))
        same = threading.Thread(target=second, args=("first",))
        other.start()
        same.start()
        time.sleep(0.5)  # both wait for this transaction's lock
    other.join(30)
    same.join(30)
    assert isinstance(outcome["first"], Conflict)
    assert codes(seeded)[:2] == ["second", "first"]
    assert positions_are_dense(seeded)


def test_add_on_an_empty_instance(session_factory, services):
    add(session_factory, services, position=1)
    assert codes(session_factory, active_only=True) == ["fraud"]


@pytest.mark.parametrize("code", ["a", "x" * 32, "fraud_2", "9lives", "_"])
def test_valid_codes(seeded, services, code):
    add(seeded, services, code=code)
    assert code in codes(seeded)


@pytest.mark.parametrize("code", ["", "x" * 33, "Fraud", "fraud-2", "fr aud", "fraud.", "欺诈",
                                  "fraud\n", "ﬁ"])
def test_invalid_codes_are_refused(seeded, services, code):
    with pytest.raises(InvalidInput, match="lowercase a-z, 0-9 and underscore") as caught:
        add(seeded, services, code=code)
    assert caught.value.field == "code"
    assert events(seeded) == []


def test_duplicate_code_is_refused(seeded, services):
    with pytest.raises(Conflict, match="'security' already exists"):
        add(seeded, services, code="security")
    assert codes(seeded) == DEFAULT_ORDER


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name_en", "", "English name must not be empty"),
    ("name_zh", "   ", "Chinese name must not be empty"),
    ("name_en", "x" * 121, "English name is 121 characters long; the limit is 120"),
    ("name_zh", "报" * 121, "Chinese name is 121 characters long"),
    ("name_en", "Fraud\nand theft", "must not contain control characters .found U\\+000A"),
    ("name_zh", "欺诈\x00", "U\\+0000"),
    ("name_en", "\tFraud", "U\\+0009"),
    ("name_en", "Fraud\u202e", "U\\+202E"),
    ("description_en", "x" * 1001, "English description is 1001 characters long"),
    ("description_zh", "第一行\r\n第二行", "Chinese description must not contain control"),
    ("description_en", "a\x7fb", "U\\+007F"),
    ("description_zh", "a\u2028b", "U\\+2028"),
])
def test_invalid_texts_are_refused(seeded, services, field, value, message):
    with pytest.raises(InvalidInput, match=message) as caught:
        add(seeded, services, **{field: value})
    assert caught.value.field == field
    assert codes(seeded) == DEFAULT_ORDER
    assert events(seeded) == []


def test_limits_are_inclusive_and_descriptions_may_be_empty(seeded, services):
    add(seeded, services, name_en="x" * 120, name_zh="报" * 120, description_en="y" * 1000,
        description_zh="")
    with seeded() as s:
        fraud = s.scalars(select(Category).where(Category.code == "fraud")).one()
        assert len(fraud.name_zh) == 120 and len(fraud.description_en) == 1000


@pytest.mark.parametrize("missing", ["name_en", "name_zh"])
def test_both_names_are_required(seeded, services, missing):
    with pytest.raises(InvalidInput, match="English and a Chinese name"):
        add(seeded, services, **{missing: None})


@pytest.mark.parametrize("position", [0, -1, 10])
def test_add_position_out_of_range(seeded, services, position):
    with pytest.raises(InvalidInput, match="choose 1 to 9"):
        add(seeded, services, position=position)


# --- edit ---------------------------------------------------------------------------------------


def test_edit_changes_only_the_given_fields(seeded, services):
    with transaction(seeded) as s:
        edit = edit_category(s, services, "security", name_zh=" 信息安全 ", description_en="")
        assert edit.changed == ("name_zh", "description_en")
    with seeded() as s:
        security = s.scalars(select(Category).where(Category.code == "security")).one()
        assert security.name_zh == "信息安全"
        assert security.description_en == ""
        assert security.name_en == "Security vulnerabilities and data protection"
        assert security.description_zh.startswith("系统漏洞")
    assert events(seeded) == [("category:edit",
                               {"category": "security", "fields": "name_zh,description_en"},
                               "system")]


def test_edit_without_a_change_writes_no_event(seeded, services):
    with transaction(seeded) as s:
        edit = edit_category(s, services, "other", name_en="Something else")
    assert edit.changed == ()
    assert events(seeded) == []


def test_edit_validation(seeded, services):
    with transaction(seeded) as s, pytest.raises(InvalidInput, match="Nothing to change"):
        edit_category(s, services, "other")
    with transaction(seeded) as s, pytest.raises(InvalidInput, match="must not be empty"):
        edit_category(s, services, "other", name_en="")
    with transaction(seeded) as s, pytest.raises(InvalidInput, match="control characters"):
        edit_category(s, services, "other", description_zh="a\nb")
    with transaction(seeded) as s, pytest.raises(NotFound, match="no category 'nope'"):
        edit_category(s, services, "nope", name_en="Nope")
    with transaction(seeded) as s, pytest.raises(NotFound, match="no category 'Other'"):
        edit_category(s, services, "Other", name_en="Nope")
    assert events(seeded) == []


def test_a_failed_edit_changes_nothing(seeded, services):
    """Validation happens before any field is set: one bad field leaves the others alone."""
    with transaction(seeded) as s, pytest.raises(InvalidInput):
        edit_category(s, services, "other", name_en="New name", description_en="x" * 1001)
    with seeded() as s:
        assert s.scalars(select(Category.name_en).where(Category.code == "other")).one() \
            == "Something else"


def test_a_name_another_category_has_is_refused(seeded, services):
    """Reporters choose by name: two categories named alike (ignoring case and full-width
    forms) cannot be told apart on the form; a zero-width space would hide the difference."""
    with transaction(seeded) as s, pytest.raises(InvalidInput, match=(
            "The English name 'something ELSE' is already the name of category 'other'")) as e:
        add_category(s, services, code="misc", name_en="something ELSE", name_zh="杂项")
    assert e.value.field == "name_en"
    with transaction(seeded) as s, pytest.raises(InvalidInput, match="category 'other'"):
        edit_category(s, services, "suggestion", name_zh="其他")
    with transaction(seeded) as s, pytest.raises(InvalidInput, match="category 'roles'"):
        add_category(s, services, code="misc", name_en="Misc", name_zh="岗位职责不清")
    with transaction(seeded) as s, pytest.raises(InvalidInput, match="category 'other'"):
        add_category(s, services, code="misc", name_en="Ｓｏｍｅｔｈｉｎｇ ｅｌｓｅ",
                     name_zh="杂项")
    with transaction(seeded) as s, pytest.raises(InvalidInput, match="found U\\+200B"):
        add_category(s, services, code="misc", name_en="Something\u200belse", name_zh="杂项")
    with transaction(seeded) as s:  # its own name again is no conflict
        assert edit_category(s, services, "other", name_en="SOMETHING ELSE").changed == (
            "name_en",)
    assert codes(seeded) == DEFAULT_ORDER


# --- move ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "position", "expected"), [
    ("other", 1, ["other", *DEFAULT_ORDER[:-1]]),
    ("it_fault", 8, [*DEFAULT_ORDER[1:], "it_fault"]),
    ("roles", 2, ["it_fault", "roles", "security", "environment", "communication",
                  "misconduct", "suggestion", "other"]),
    ("security", 4, ["it_fault", "environment", "communication", "security", "roles",
                     "misconduct", "suggestion", "other"]),
])
def test_move_keeps_the_others_in_order(seeded, services, code, position, expected):
    with transaction(seeded) as s:
        move_category(s, services, code, position)
    assert codes(seeded) == expected
    assert positions_are_dense(seeded)
    old = DEFAULT_ORDER.index(code) + 1
    assert events(seeded) == [("category:move", {"category": code, "from": old, "to": position},
                               "system")]


def test_move_to_the_same_place_writes_no_event(seeded, services):
    with transaction(seeded) as s:
        move_category(s, services, "roles", 5)
    assert codes(seeded) == DEFAULT_ORDER
    assert events(seeded) == []


def test_move_validation(seeded, services):
    for position in (0, 9, -3):
        with transaction(seeded) as s, pytest.raises(InvalidInput, match="choose 1 to 8"):
            move_category(s, services, "roles", position)
    with transaction(seeded) as s, pytest.raises(NotFound):
        move_category(s, services, "nope", 1)
    assert codes(seeded) == DEFAULT_ORDER


def test_move_repairs_gaps_and_ties(seeded, services):
    """Positions written by older versions (or by hand) become dense again on the next move."""
    with transaction(seeded) as s:
        for category in s.scalars(select(Category)):
            category.position = {"security": 0, "it_fault": 0}.get(category.code, 10 * category.id)
    before = codes(seeded)
    with transaction(seeded) as s:
        move_category(s, services, before[-1], 1)
    assert codes(seeded) == [before[-1], *before[:-1]]
    assert positions_are_dense(seeded)


def test_a_deactivated_category_keeps_its_place(seeded, services):
    with transaction(seeded) as s:
        set_category_active(s, services, "environment", False)
        move_category(s, services, "other", 1)
        set_category_active(s, services, "environment", True)
    assert codes(seeded, active_only=True)[3] == "environment"


# --- deactivate and reactivate -----------------------------------------------------------------


def test_deactivate_hides_from_the_form_and_existing_cases_keep_it(seeded, services):
    add_reviewer(seeded, services, "intake")
    with transaction(seeded) as s:
        route_intake(s, services, "security", ["intake"])
    case = submit(seeded, services, category="security")
    with transaction(seeded) as s:
        set_category_active(s, services, "security", False)
    assert "security" not in codes(seeded, active_only=True)
    assert "security" in codes(seeded)
    with seeded() as s:
        stored = s.get(Case, case.case_id)
        assert stored.category.code == "security"
    assert events(seeded)[-1] == ("category:deactivate", {"category": "security"}, "system")

    with transaction(seeded) as s:
        set_category_active(s, services, "security", True)
    assert codes(seeded, active_only=True) == DEFAULT_ORDER
    assert events(seeded)[-1] == ("category:activate", {"category": "security"}, "system")
    audit_chain_holds(seeded)


def test_a_deactivated_category_cannot_be_chosen_for_new_reports(seeded, services):
    with transaction(seeded) as s:
        set_category_active(s, services, "security", False)
    with pytest.raises(InvalidInput, match="choose one of the categories"):
        submit(seeded, services, category="security")


def test_the_last_active_category_cannot_be_deactivated(seeded, services):
    with transaction(seeded) as s:
        for code in DEFAULT_ORDER[:-1]:
            set_category_active(s, services, code, False)
    with transaction(seeded) as s, pytest.raises(
            InvalidInput, match="'other' is the last active category"):
        set_category_active(s, services, "other", False)
    assert codes(seeded, active_only=True) == ["other"]
    # Another active category makes it possible again.
    with transaction(seeded) as s:
        set_category_active(s, services, "misconduct", True)
        set_category_active(s, services, "other", False)
    assert codes(seeded, active_only=True) == ["misconduct"]


def test_deactivate_and_activate_twice_are_refused(seeded, services):
    with transaction(seeded) as s, pytest.raises(Conflict, match="already active"):
        set_category_active(s, services, "other", True)
    with transaction(seeded) as s:
        set_category_active(s, services, "other", False)
    with transaction(seeded) as s, pytest.raises(Conflict, match="already deactivated"):
        set_category_active(s, services, "other", False)
    with transaction(seeded) as s, pytest.raises(NotFound):
        set_category_active(s, services, "nope", False)


def test_events_name_the_acting_reviewer(seeded, services):
    from core.audit.log import Actor

    admin = add_reviewer(seeded, services, "boss", role=Role.ADMIN)
    with transaction(seeded) as s:
        add_category(s, services, code="fraud", name_en="Fraud", name_zh="欺诈",
                     actor=Actor.reviewer(admin.id))
    with seeded() as s:
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == str(AuditAction.CATEGORY_ADDED))).one()
        assert (event.actor_kind, event.reviewer_id) == ("reviewer", admin.id)


def test_a_rolled_back_change_leaves_no_event(seeded, services):
    with pytest.raises(RuntimeError), transaction(seeded) as s:
        add_category(s, services, code="fraud", name_en="Fraud", name_zh="欺诈")
        raise RuntimeError("the caller failed after the use case")
    assert "fraud" not in codes(seeded)
    assert events(seeded) == []
