"""The inbox of a busy handler: one-line summaries decrypted for the page (and audited),
filters for priority, cases led, reporters not satisfied and corrective actions due, and a
search by reference."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.cases.actions import add_action
from core.cases.content import ReportContent
from core.cases.inbox_counts import sync_member_keys
from core.cases.team_changes import grant_case
from core.cases.workflow import decide_scope
from core.db import transaction
from core.models import AuditEvent, Case, CasePriority, CaseStatus, Reviewer, ScopeDecision
from tests.core.factories import seed_categories, submit, walk_to
from tests.reviewer.conftest import login_client, new_account


def _cases(session_factory, services):
    alice = new_account(session_factory, services, "alice")
    bob = new_account(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    urgent = submit(session_factory, services, report=ReportContent(summary="Server room door"))
    plain = submit(session_factory, services, report=ReportContent(summary="Coffee machine"))
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, urgent.case_id, s.get(Reviewer, bob.id))
        decide_scope(s, services, alice.unlocked, urgent.case_id, ScopeDecision.ACCEPTED,
                     lead_id=alice.id, priority=CasePriority.URGENT)
    return alice, bob, urgent, plain


def test_rows_carry_summaries_decrypted_for_the_page_and_audited(app, session_factory,
                                                                  services) -> None:
    alice, bob, urgent, plain = _cases(session_factory, services)
    client = login_client(app, session_factory, services, alice)
    page = client.get("/cases").text
    assert "Server room door" in page and "Coffee machine" in page
    with session_factory() as s:
        events = s.execute(select(AuditEvent).where(
            AuditEvent.action == "case:summary:decrypt")).scalars().all()
    assert len(events) == 1 and events[0].reviewer_id == alice.id
    assert str(urgent.case_id) in events[0].detail and str(plain.case_id) in events[0].detail
    # bob holds only the urgent case's keys: he sees its summary, never the other's.
    bobs = login_client(app, session_factory, services, bob).get("/cases").text
    assert "Server room door" in bobs and "Coffee machine" not in bobs
    # Nothing decrypted is stored: the summary is not in any case column.
    with session_factory() as s:
        for row in s.execute(select(Case)).scalars():
            assert b"Server room door" not in repr(row.__dict__).encode()


def test_filters_for_priority_lead_satisfaction_and_actions(app, session_factory,
                                                            services) -> None:
    alice, _bob, urgent, plain = _cases(session_factory, services)
    client = login_client(app, session_factory, services, alice)
    assert urgent.reference in client.get("/cases?priority=urgent").text
    assert plain.reference not in client.get("/cases?priority=urgent").text
    assert urgent.reference in client.get("/cases?lead=1").text
    assert plain.reference not in client.get("/cases?lead=1").text
    assert "inbox-empty" in client.get("/cases?unsatisfied=1").text
    with transaction(session_factory) as s:
        case = s.get(Case, urgent.case_id)
        walk_to(s, services, alice.unlocked.actor, case, CaseStatus.DECIDED)
        add_action(s, services, alice.unlocked, urgent.case_id, title="Fix the lock", notes="",
                   owner_id=alice.id, due_on=services.clock.today() + timedelta(days=3))
        plain_case = s.get(Case, plain.case_id)
        plain_case.review_requested = True  # as the reporter's "not satisfied" sets it
        sync_member_keys(s, plain_case)
    actions = client.get("/cases?actions=1").text
    assert urgent.reference in actions and plain.reference not in actions
    unsatisfied = client.get("/cases?unsatisfied=1").text
    assert plain.reference in unsatisfied and urgent.reference not in unsatisfied
    assert "not-satisfied" in unsatisfied
    by_priority = client.get("/cases?sort=priority").text
    assert by_priority.index(urgent.reference) < by_priority.index(plain.reference)


def test_search_by_reference_opens_only_the_handlers_own_cases(app, session_factory,
                                                              services) -> None:
    alice, bob, _urgent, plain = _cases(session_factory, services)
    client = login_client(app, session_factory, services, alice)
    found = client.get(f"/cases?ref={plain.reference.lower()}")
    assert found.status_code == 303 and found.location.endswith(f"/cases/{plain.case_id}")
    # Outside tester: a reference copied without its "C-" found nothing.
    bare = client.get(f"/cases?ref=+{plain.reference.removeprefix('C-')}+")
    assert bare.status_code == 303 and bare.location.endswith(f"/cases/{plain.case_id}")
    other = login_client(app, session_factory, services, bob)
    missing = other.get(f"/cases?ref={plain.reference}")
    assert missing.status_code == 200 and 'id="reference-not-found"' in missing.text
    assert f"/cases/{plain.case_id}" not in missing.text
