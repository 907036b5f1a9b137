"""The case cycle through the console's routes: two handlers take one case through every
stage while the reporter follows up; referral and rejection end a case their own way; a step
the stage does not allow is refused with a message and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from core.cases.content import ReportContent
from core.cases.inbox_counts import computed_counts, stored_counts
from core.cases.team_changes import grant_case
from core.db import transaction
from core.intake.reporter import login_submitter, read_case_for_submitter
from core.models import (
    AuditEvent,
    Case,
    CaseMember,
    CasePriority,
    CaseStatus,
    CorrectiveAction,
    Decision,
    MemberRole,
    Reviewer,
    ScopeDecision,
)
from tests.core.factories import seed_categories, submit
from tests.reviewer.conftest import login_client, new_account
from tests.reviewer.handling_pages import post_step

CANARY = "CYCLE-CANARY-7f3a"


def _status(session_factory, case_id: int) -> CaseStatus:
    with session_factory() as s:
        return s.get(Case, case_id).status


def _reporter_sees(session_factory, services, receipt: str) -> list[str]:
    with transaction(session_factory) as s:
        access = login_submitter(s, services, receipt)
        return [m.body for m in read_case_for_submitter(s, services, access).messages]


def _team(session_factory, services):
    alice = new_account(session_factory, services, "alice")
    bob = new_account(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    result = submit(session_factory, services,
                    report=ReportContent(summary="Badge reader", description=CANARY,
                                         language="zh-Hans-CN"))
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, result.case_id, s.get(Reviewer, bob.id))
    return alice, bob, result


def test_one_case_through_every_stage(app, session_factory, services) -> None:
    alice, bob, result = _team(session_factory, services)
    case_id = result.case_id
    a = login_client(app, session_factory, services, alice)
    b = login_client(app, session_factory, services, bob)

    page = a.get(f"/cases/{case_id}").data.decode()
    assert 'id="acknowledge-form"' in page and "感谢您的反映" in page  # the reporter's language
    assert post_step(a, case_id, "acknowledge", {"ack-body": "已收到，谢谢。"}).status_code == 303
    assert _status(session_factory, case_id) is CaseStatus.ACKNOWLEDGED
    # Acknowledging twice is refused with a message, and nothing changes.
    again = post_step(a, case_id, "acknowledge", {"ack-body": "Again"})
    assert again.status_code == 409 and "not possible" in again.data.decode()

    # Accept with bob as lead, urgent.
    assert post_step(a, case_id, "scope", {"decision": "accepted", "lead": str(bob.id),
                                       "priority": "urgent", "message": ""}).status_code == 303
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case.status is CaseStatus.UNDER_INVESTIGATION
        assert case.scope_decision is ScopeDecision.ACCEPTED
        assert case.priority is CasePriority.URGENT
        assert s.get(CaseMember, (case_id, bob.id)).role is MemberRole.LEAD
    # Alice is not the lead: she cannot record the decision.
    refused = post_step(a, case_id, "decision", {"finding": "substantiated", "reasons": "x"},
                    page="/casework")
    assert refused.status_code == 403
    # Evidence, then bob decides.
    assert post_step(b, case_id, "evidence", {"kind": "interview", "interviewee": "IT desk",
                                          "text": "Confirmed the reader fails."},
                 page="/casework").status_code == 303
    assert post_step(b, case_id, "decision", {
        "finding": "partly_substantiated", "root_cause": "technical_defect",
        "reasons": "Logs show failures.", "sanctions": [], "recognitions": ["thanks"]},
        page="/casework").status_code == 303
    assert _status(session_factory, case_id) is CaseStatus.DECIDED
    due = (services.clock.today() + timedelta(days=30)).isoformat()
    assert post_step(b, case_id, "actions", {"title": "Replace reader", "notes": "",
                                         "owner": str(alice.id), "due_on": due},
                 page="/casework").status_code == 303
    # The outcome needs its grounds.
    missing = post_step(b, case_id, "feedback", {"outcome": "Fixed.", "grounds": ""})
    assert missing.status_code == 400
    assert 'id="outcome-already-sent"' not in missing.text
    assert _status(session_factory, case_id) is CaseStatus.DECIDED
    assert post_step(b, case_id, "feedback", {"outcome": "We will replace the reader.",
                                          "grounds": "The logs confirmed it."}).status_code == 303
    assert _status(session_factory, case_id) is CaseStatus.FEEDBACK_GIVEN
    # Outside tester: a further outcome could be sent with no sign that one had been.
    assert 'id="outcome-already-sent"' in b.get(f"/cases/{case_id}").text
    seen = _reporter_sees(session_factory, services, result.receipt_code)
    assert any("The logs confirmed it." in m and "处理依据" in m for m in seen)

    assert post_step(b, case_id, "follow-up", {}).status_code == 303
    assert _status(session_factory, case_id) is CaseStatus.FOLLOW_UP
    # Closing with the action open needs a reason.
    assert post_step(b, case_id, "close", {"reason": ""}).status_code == 400
    with session_factory() as s:
        action_id = s.execute(select(CorrectiveAction.id)).scalar_one()
    # Handed to bob, then back; an owner from outside the team is refused with a message.
    refused = post_step(a, case_id, f"actions/{action_id}",
                    {"status": "in_progress", "note": "To nobody.", "owner": "999999"},
                    page="/casework")
    assert refused.status_code == 400 and b"Choose an owner from the case team." in refused.data
    # Outside tester: a status not on the list was answered "Write the follow-up note".
    bad_status = post_step(a, case_id, f"actions/{action_id}",
                       {"status": "finished-ish", "note": "Done."}, page="/casework")
    assert bad_status.status_code == 400
    assert b"Choose the action&#39;s status from the list." in bad_status.data
    assert b"Write the follow-up note." not in bad_status.data
    page = a.get(f"/cases/{case_id}/casework").get_data(as_text=True)
    assert f'<option value="{alice.id}" selected>' in page  # the current owner
    assert post_step(a, case_id, f"actions/{action_id}", {"status": "in_progress",
                                                      "note": "Bob takes over.",
                                                      "owner": str(bob.id)},
                 page="/casework").status_code == 303
    with session_factory() as s:
        assert s.get(CorrectiveAction, action_id).owner_id == bob.id
    assert "handed to bob" in a.get(f"/cases/{case_id}/casework").get_data(as_text=True)
    assert post_step(a, case_id, f"actions/{action_id}", {"status": "done", "note": "Replaced.",
                                                      "owner": str(alice.id)},
                 page="/casework").status_code == 303
    assert post_step(b, case_id, "close", {"reason": ""}).status_code == 303
    assert _status(session_factory, case_id) is CaseStatus.CLOSED
    assert post_step(b, case_id, "reopen", {"reason": "Reporter says it fails again."}
                 ).status_code == 303
    assert _status(session_factory, case_id) is CaseStatus.UNDER_INVESTIGATION

    with session_factory() as s:
        actions = [e.action for e in s.execute(
            select(AuditEvent).where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.position)).scalars()]
        assert stored_counts(s) == computed_counts(s)
        assert s.execute(select(Decision.version)).scalars().all() == [1]
        for required in ("case:scope", "case:lead", "case:priority", "case:evidence:add",
                         "case:decision", "case:action:add", "case:action:update",
                         "case:reopen"):
            assert required in actions, required
        statuses = [e for e in actions if e == "case:status"]
        assert len(statuses) >= 7
        raw = " ".join(repr(row) for row in s.execute(select(AuditEvent.detail)).scalars())
        assert CANARY not in raw


def test_referral_and_rejection_end_the_case_their_own_way(app, session_factory,
                                                           services) -> None:
    alice, _bob, first = _team(session_factory, services)
    second = submit(session_factory, services)
    a = login_client(app, session_factory, services, alice)
    # Referring needs a message to the reporter.
    assert post_step(a, first.case_id, "scope", {"decision": "referred", "message": "",
                                             "priority": "normal"}).status_code == 400
    assert _status(session_factory, first.case_id) is CaseStatus.RECEIVED
    assert post_step(a, first.case_id, "scope", {
        "decision": "referred", "priority": "normal",
        "message": "Please contact HR directly: this is a pay question."}).status_code == 303
    assert _status(session_factory, first.case_id) is CaseStatus.REFERRED
    assert any("contact HR" in m for m in _reporter_sees(session_factory, services,
                                                         first.receipt_code))
    assert post_step(a, second.case_id, "scope", {
        "decision": "not_admissible", "priority": "normal",
        "message": "This is outside what this channel handles."}).status_code == 303
    assert _status(session_factory, second.case_id) is CaseStatus.NOT_ADMISSIBLE
    for case_id in (first.case_id, second.case_id):
        assert post_step(a, case_id, "close", {"reason": ""}).status_code == 303
        assert _status(session_factory, case_id) is CaseStatus.CLOSED
    with transaction(session_factory) as s:
        assert s.get(Case, first.case_id).scope_decision is ScopeDecision.REFERRED
        assert s.get(Case, second.case_id).scope_decision is ScopeDecision.NOT_ADMISSIBLE


def test_a_non_member_cannot_take_a_step(app, session_factory, services) -> None:
    _alice, _bob, result = _team(session_factory, services)
    outsider = new_account(session_factory, services, "olga")
    o = login_client(app, session_factory, services, outsider)
    html = o.get("/").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    data = {"csrf_token": token.group(1) if token else "", "ack-body": "Hi"}
    assert o.post(f"/cases/{result.case_id}/acknowledge", data=data).status_code in (400, 404)
    assert _status(session_factory, result.case_id) is CaseStatus.RECEIVED


def test_the_history_shows_the_handling_and_on_request_every_reading(app, session_factory,
                                                                     services) -> None:
    alice, bob, result = _team(session_factory, services)
    a = login_client(app, session_factory, services, alice)
    assert post_step(a, result.case_id, "acknowledge", {"ack-body": "Received."}).status_code == 303
    b = login_client(app, session_factory, services, bob)
    b.get(f"/cases/{result.case_id}")  # a reading
    history = a.get(f"/cases/{result.case_id}/history").text
    assert "Report received" in history and "Stage changed" in history
    assert "alice" in history and "Case read" not in history
    assert CANARY not in history
    readings = a.get(f"/cases/{result.case_id}/history?readings=1").text
    assert "Case read" in readings and "bob" in readings
    # The reporter's submission carries its day only, never a time.
    row = re.search(r'<tr class="history-case-submit">\s*<td>([^<]+)</td>', history)
    assert row and ":" not in row.group(1)


def test_a_question_after_the_decision_is_refused_with_a_reason(app, session_factory,
                                                                services) -> None:
    alice, _bob, result = _team(session_factory, services)
    from tests.core.factories import walk_to
    with transaction(session_factory) as s:
        walk_to(s, services, alice.unlocked.actor, s.get(Case, result.case_id),
                CaseStatus.DECIDED)
    a = login_client(app, session_factory, services, alice)
    refused = post_step(a, result.case_id, "reply", {"kind": "clarification_request",
                                                 "body": "One more thing?"})
    assert refused.status_code == 409 and "reopen the case" in refused.text
    assert _status(session_factory, result.case_id) is CaseStatus.DECIDED


def test_a_closed_case_offers_no_scope_decision_and_refuses_one(app, session_factory,
                                                                services) -> None:
    """A closed case goes back under investigation only by reopening (the lead, with a
    reason): its page has no scope form, and a scope decision posted anyway is refused with
    the stage, nothing sent to the reporter."""
    alice, bob, result = _team(session_factory, services)
    from tests.core.factories import walk_to
    with transaction(session_factory) as s:
        walk_to(s, services, alice.unlocked.actor, s.get(Case, result.case_id),
                CaseStatus.REFERRED)
        walk_to(s, services, alice.unlocked.actor, s.get(Case, result.case_id),
                CaseStatus.CLOSED)
    a = login_client(app, session_factory, services, alice)
    page = a.get(f"/cases/{result.case_id}").text
    assert 'id="scope-form"' not in page and 'id="reopen-form"' in page
    before = _reporter_sees(session_factory, services, result.receipt_code)
    refused = post_step(a, result.case_id, "scope", {"decision": "accepted", "lead": str(bob.id),
                                                 "priority": "normal",
                                                 "message": "Accepted after all"})
    assert refused.status_code == 409
    assert "not possible in the case&#39;s current stage" in refused.text
    assert _status(session_factory, result.case_id) is CaseStatus.CLOSED
    assert _reporter_sees(session_factory, services, result.receipt_code) == before
    open_case = submit(session_factory, services)
    assert 'id="scope-form"' in a.get(f"/cases/{open_case.case_id}").text


def test_a_received_case_offers_no_reopening_and_refuses_one(app, session_factory,
                                                            services) -> None:
    """Outside tester: a reopen posted by hand on a received case acknowledged it, with no
    acknowledgement sent; it is refused with the stage now, the case as it was."""
    alice, _bob, result = _team(session_factory, services)
    a = login_client(app, session_factory, services, alice)
    assert 'id="reopen-form"' not in a.get(f"/cases/{result.case_id}").text
    refused = post_step(a, result.case_id, "reopen", {"reason": "Reopen it"})
    assert refused.status_code == 409
    assert _status(session_factory, result.case_id) is CaseStatus.RECEIVED
    with session_factory() as s:
        assert s.get(Case, result.case_id).acknowledged_on is None


def test_a_refused_form_says_what_is_wrong(app, session_factory, services) -> None:
    """An empty or too long acknowledgement names what to fix; reopening without a reason
    asks for the reason for reopening (not the closing message). Nothing changes."""
    alice, _bob, result = _team(session_factory, services)
    a = login_client(app, session_factory, services, alice)
    empty = post_step(a, result.case_id, "acknowledge", {"ack-body": ""})
    assert empty.status_code == 400 and "Write the message." in empty.text
    long = post_step(a, result.case_id, "acknowledge", {"ack-body": "x" * 30_000})
    assert long.status_code == 400 and "Keep this under 20000 characters." in long.text
    assert _status(session_factory, result.case_id) is CaseStatus.RECEIVED
    from tests.core.factories import walk_to
    with transaction(session_factory) as s:
        walk_to(s, services, alice.unlocked.actor, s.get(Case, result.case_id),
                CaseStatus.REFERRED)
    refused = post_step(a, result.case_id, "reopen", {"reason": " "})
    assert refused.status_code == 400
    assert "Give the reason for reopening" in refused.text
    assert "closes only with one" not in refused.text
    assert _status(session_factory, result.case_id) is CaseStatus.REFERRED


def test_a_case_in_a_retired_category_is_not_moved_by_one_click(app, session_factory,
                                                                services) -> None:
    """Its category is no longer offered: the form selects an empty choice, not the first
    active category, and saving it unchanged is refused and moves nothing."""
    from core.categories.admin import set_category_active
    alice, _bob, result = _team(session_factory, services)
    with transaction(session_factory) as s:
        set_category_active(s, services, "it_fault", False)
    a = login_client(app, session_factory, services, alice)
    page = a.get(f"/cases/{result.case_id}").text
    form = page[page.index('id="category-form"'):]
    form = form[:form.index("</form>")]
    assert re.search(r'<option selected value="">|<option value="" selected>', form), form
    assert 'value="it_fault"' not in form
    refused = post_step(a, result.case_id, "category", {"cat-category": ""})
    assert refused.status_code == 400
    with session_factory() as s:
        assert s.get(Case, result.case_id).category.code == "it_fault"


def test_templates_come_in_the_reporters_language_and_named_reports_suggest_high(
        app, session_factory, services) -> None:
    """A named (confidential) report in English: the forms are prepared in English, the
    outcome thanks the reporter, and the scope decision suggests a high priority."""
    from core.cases.content import Identity
    alice = new_account(session_factory, services, "alice")
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    named = submit(session_factory, services,
                   report=ReportContent(summary="Named", language="en"),
                   identity=Identity(name="Li Wei"))
    a = login_client(app, session_factory, services, alice)
    page = a.get(f"/cases/{named.case_id}").text
    assert "Thank you for your report. We have received it" in page
    assert "感谢您的反映" not in page  # one language: the reporter's
    assert re.search(r'<option selected value="high">|<option value="high" selected>', page)
    with transaction(session_factory) as s:
        from tests.core.factories import walk_to
        walk_to(s, services, alice.unlocked.actor, s.get(Case, named.case_id),
                CaseStatus.DECIDED)
    outcome = a.get(f"/cases/{named.case_id}").text
    assert "Thank you again for raising this." in outcome
