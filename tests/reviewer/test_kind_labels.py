"""The console's words for message kinds agree with the policy table (core.cases.kinds)."""

from __future__ import annotations

from core.cases.kinds import POLICIES, reply_kinds
from core.models import MessageKind
from reviewer.forms import ReplyForm
from reviewer.labels import KIND, KIND_CHOICE


def test_every_kind_has_a_thread_label() -> None:
    assert set(KIND) == set(MessageKind)


def test_the_reply_form_offers_exactly_the_staff_kinds(app) -> None:
    assert set(KIND_CHOICE) == set(reply_kinds())
    with app.test_request_context():
        offered = [choice.value for choice in ReplyForm(formdata=None).kind.choices]
    assert offered == [kind.value for kind in reply_kinds()]


def test_each_choice_names_the_readers_the_table_declares(app) -> None:
    with app.test_request_context():
        for kind in reply_kinds():
            label = str(KIND_CHOICE[kind])
            if POLICIES[kind].reporter_sees:
                assert label.endswith("(to the reporter)"), label
            else:
                assert label.endswith("(case team only)"), label


def test_the_thread_marks_team_only_kinds(app, session_factory, services, world) -> None:
    """The internal note the world's case holds is tagged; the report's reply is not."""
    from core.cases.casework import post_reviewer_message
    from core.db import transaction
    from tests.reviewer.conftest import login_client

    with transaction(session_factory) as s:
        for kind in (MessageKind.INTERNAL_NOTE, MessageKind.INFORMATION):
            post_reviewer_message(s, services, world.on_case.unlocked, world.case_id, kind,
                                  f"text of {kind.value}")
    html = login_client(app, session_factory, services, world.on_case).get(
        f"/cases/{world.case_id}").text
    assert html.count("team only</span>") == 1
    note_at = html.index("text of internal_note")
    tag_at = html.index("team only</span>")
    assert tag_at < note_at < html.index("text of information")
