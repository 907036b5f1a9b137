"""core.staff.shown_names: the names reporters choose by are visible, one line, and never
look like another active account's (outside tester: Cyrillic, full-width and dotless
look-alikes, and invisible characters, were accepted beside "Alice Wong")."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from core.audit.log import Actor
from core.db import transaction
from core.errors import InvalidInput
from core.models import Reviewer, Role, StaffChange
from core.staff.account_contact import edit_account
from core.staff.approvals import decide_change, request_display_name
from core.staff.shown_names import clean_display_name, skeletons
from tests.core.factories import add_reviewer

LOOK_ALIKES = [
    "\u0410lice Wong",  # Cyrillic capital A
    "Ali\u0441e Wong",  # Cyrillic small es
    "\uff21lice Wong",  # full-width A
    "Al\u0131ce Wong",  # dotless i
    "AIice Wong",       # capital I for l
    "A1ice Wong",       # digit one for l
    "alice-wong",
    "Alice\u0301 Wong",  # a combining accent
    "Alice\tWong",       # a tab is a space
    "Alice\u00a0Wong",   # so is a no-break space
    "Alice\u3000Wong",   # and an ideographic space
]
INVISIBLE = ["Alice Wong\u3164", "Alice Wong\u2800", "Alice Wong\ufe0f", "Alice\u034f Wong",
             "Alice\x00Wong", "Alice\u202eWong", "Alice\u200bWong", "Alice\ue000Wong"]


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_a_look_alike_has_the_same_skeleton(name: str) -> None:
    assert skeletons(clean_display_name(name) or "") & skeletons("Alice Wong")


@pytest.mark.parametrize("name", ["Alice Wang", "Alicia Wong", "王丽", "Ali Wong", "Ivy"])
def test_a_different_name_has_another_skeleton(name: str) -> None:
    assert not skeletons(name) & skeletons("Alice Wong")


def test_case_is_ignored_and_a_capital_i_reads_as_both() -> None:
    assert skeletons("IVY WANG") & skeletons("ivy wang")
    assert skeletons("Ivy") & skeletons("lvy")


@pytest.mark.parametrize("name", INVISIBLE)
def test_invisible_and_control_characters_are_refused_not_dropped(name: str) -> None:
    with pytest.raises(InvalidInput, match="only visible characters"):
        clean_display_name(name)


def test_spaces_of_every_kind_become_one_plain_space() -> None:
    assert clean_display_name("  Alice\u00a0\t Wong\u3000") == "Alice Wong"
    assert clean_display_name("王\u3000丽") == "王 丽"
    assert clean_display_name(" \u3000 ") is None


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_a_look_alike_of_an_active_account_is_refused(session_factory, services,
                                                      name: str) -> None:
    add_reviewer(session_factory, services, "alice")
    add_reviewer(session_factory, services, "carl")
    with transaction(session_factory) as s:
        edit_account(s, services, "alice", display_name="Alice Wong")
    with pytest.raises(InvalidInput, match="Another account"), \
            transaction(session_factory) as s:
        edit_account(s, services, "carl", display_name=name)


def test_two_renames_approved_at_once_do_not_both_apply(session_factory, services,
                                                        backend: str) -> None:
    """Outside tester: on PostgreSQL, renames of two handlers to names alike, approved at the
    same moment, both passed their checks. The check now waits for the other's commit."""
    ada = add_reviewer(session_factory, services, "ada", Role.ADMIN)
    ben = add_reviewer(session_factory, services, "ben", Role.ADMIN)
    add_reviewer(session_factory, services, "alice")
    add_reviewer(session_factory, services, "bob")
    with transaction(session_factory) as s:
        first = request_display_name(s, services, Actor.reviewer(ada.id), "alice", "Robin")
        second = request_display_name(s, services, Actor.reviewer(ada.id), "bob", "robin")
        assert first is not None and second is not None
        changes = [first.id, second.id]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(change_id: int) -> None:
        start.wait()
        with transaction(session_factory) as s:
            change = decide_change(s, services, Actor.reviewer(ben.id), change_id,
                                   approve=True)
            outcomes.append(str(change.status))

    threads = [threading.Thread(target=approve, args=(c,)) for c in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # The one that can no longer apply is closed, not left pending (lapsed).
    assert sorted(outcomes) == ["approved", "refused"]
    with session_factory() as s:
        names = [n for n in s.execute(select(Reviewer.display_name).where(
            Reviewer.username.in_(["alice", "bob"]))).scalars() if n]
        assert len(names) == 1
        assert len(s.execute(select(StaffChange.id)).all()) == 2
