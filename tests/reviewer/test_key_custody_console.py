"""The console's key-custody pages over HTTP: four-eyes approvals (accounts, routing,
custodians), identity requests decided by a custodian, exclusion by the lead with the
passphrase, who can read a case, and the key alarm on the dashboard."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from core.models import (
    CaseGrant,
    CaseMember,
    Category,
    KeyKind,
    MemberRole,
    PendingNotification,
    Reviewer,
    Role,
    StaffChange,
    category_intake,
)
from crypto.keys import generate_keypair
from tests.core.factories import (
    add_reviewer,
    audit_actions,
    seed_categories,
    submit,
)
from tests.reviewer.conftest import (
    current_code,
    freeze_mid_totp_step,
    login_client,
    new_account,
)
from tests.reviewer.test_auth import csrf, post_login


def _post(client, page: str, action: str, **fields: str):
    return client.post(action, data={"csrf_token": csrf(client, page), **fields})


def _intake(session_factory, code: str) -> list[str]:
    with session_factory() as s:
        category = s.execute(select(Category).where(Category.code == code)).scalar_one()
        return sorted(r.username for r in category.intake_reviewers)


def _change_id(session_factory) -> int:
    with session_factory() as s:
        return s.execute(select(StaffChange.id).order_by(StaffChange.id.desc())).scalars().first()


def test_routing_takes_effect_only_when_a_second_admin_approves(app, session_factory,
                                                                 services):
    ada = new_account(session_factory, services, "ada", Role.ADMIN)
    ben = new_account(session_factory, services, "ben", Role.ADMIN)
    ivy = add_reviewer(session_factory, services, "ivy")
    mel = add_reviewer(session_factory, services, "mel")
    with session_factory() as s, s.begin():
        s.execute(update(Reviewer).where(Reviewer.id.in_([ivy.id, mel.id]))
                  .values(email="x@example.org"))
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    first = login_client(app, session_factory, services, ada)
    with session_factory() as s:
        ids = {r.username: r.id for r in s.execute(select(Reviewer)).scalars()}
    asked = _post(first, "/admin/routing", "/admin/routing", category="it_fault",
                  **{"it_fault-reviewers": str(ids["mel"])})
    assert asked.status_code == 200 and 'id="routing-asked"' in asked.text
    # Nothing routed yet: a report now still reaches ivy only; both are told.
    assert _intake(session_factory, "it_fault") == ["ivy"]
    case = submit(session_factory, services)
    with session_factory() as s:
        holders = set(s.execute(select(CaseGrant.reviewer_id).where(
            CaseGrant.case_id == case.case_id, CaseGrant.reviewer_id.is_not(None))).scalars())
        notified = set(s.execute(select(PendingNotification.reviewer_id)).scalars())
    assert holders == {ivy.id} and {ivy.id, mel.id} <= notified
    second = login_client(app, session_factory, services, ben)
    _post(second, "/admin/approvals", f"/admin/approvals/{_change_id(session_factory)}/approve")
    assert _intake(session_factory, "it_fault") == ["mel"]
    # Each handler of the category sees the change in their inbox.
    inbox = login_client(app, session_factory, services, ivy).get("/cases").text
    assert 'id="routing-changes"' in inbox


def test_identity_request_approved_by_a_custodian_then_revealed(app, session_factory,
                                                               services):
    from core.cases.content import Identity

    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    ivy = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    case = submit(session_factory, services, identity=Identity(name="Wang Fang"))
    handler = login_client(app, session_factory, services, ivy)
    page = handler.get(f"/cases/{case.case_id}").text
    assert 'id="identity-request-link"' in page and 'id="reveal-link"' not in page
    assert "keeper" in page  # the readers of the identity, from its grants
    path = f"/cases/{case.case_id}/identity-request"
    assert _post(handler, path, path, reason="To arrange an interview").status_code == 303
    custodian = login_client(app, session_factory, services, keeper)
    queue = custodian.get("/identity-requests").text
    assert "To arrange an interview" in queue
    assert "case:identity:request:read" in audit_actions(session_factory)  # a decryption
    request_id = int(re.search(r'id="approve-(\d+)"', queue).group(1))
    decide = f"/identity-requests/{request_id}/approve"
    wrong = _post(custodian, decide, decide, passphrase="not the passphrase at all")
    assert wrong.status_code == 400
    assert _post(custodian, decide, decide, passphrase=keeper.passphrase).status_code == 303
    # Outside tester: deciding it a second time answered a bare "Something went wrong".
    for again in (decide, f"/identity-requests/{request_id}/refuse"):
        twice = _post(custodian, again, again, passphrase=keeper.passphrase)
        assert twice.status_code == 409 and 'id="decision-refused"' in twice.text
        assert "already been decided" in twice.text
    shown_again = custodian.get(decide).text
    assert 'id="decision-refused"' in shown_again and 'id="decide-form"' not in shown_again
    with session_factory() as s:
        assert s.execute(select(CaseGrant).where(
            CaseGrant.case_id == case.case_id, CaseGrant.reviewer_id == ivy.id,
            CaseGrant.key_kind == KeyKind.IDENTITY)).scalar_one()
    reveal = f"/cases/{case.case_id}/reveal"
    shown = _post(handler, reveal, reveal, reason="Interview", passphrase=ivy.passphrase)
    assert shown.status_code == 200 and "Wang Fang" in shown.text
    # A handler who is no custodian has no queue; the requester cannot decide.
    assert handler.get("/identity-requests").status_code == 404


def test_only_the_lead_excludes_and_with_the_passphrase(app, session_factory, services):
    from core.cases.team_changes import grant_case
    from core.db import transaction
    from core.models import MemberRole

    ivy = add_reviewer(session_factory, services, "ivy")
    max_ = add_reviewer(session_factory, services, "max")
    seed_categories(session_factory, {"it_fault": [ivy.id, max_.id]}, services=services)
    case = submit(session_factory, services)
    lead = add_reviewer(session_factory, services, "lena")
    with transaction(session_factory) as s:
        grant_case(s, services, ivy.unlocked, case.case_id, s.get(Reviewer, lead.id),
                   role=MemberRole.LEAD)
    path = f"/cases/{case.case_id}/members/{max_.id}/exclude"
    member = login_client(app, session_factory, services, ivy)
    assert member.get(path).status_code == 403
    assert f"/members/{max_.id}/exclude" not in member.get(f"/cases/{case.case_id}").text
    leader = login_client(app, session_factory, services, lead)
    assert _post(leader, path, path, passphrase="wrong passphrase here").status_code == 400
    assert _post(leader, path, path, passphrase=lead.passphrase).status_code == 303
    assert "case:epoch" in audit_actions(session_factory)


def test_a_planted_route_is_an_alarm_and_not_offered_again(app, session_factory, services):
    """A route a database writer inserted (tests/security/test_route_and_approval_tags.py):
    the dashboard names it, and the routing form leaves it unchecked, so that the next
    routing an admin proposes does not carry it past the second admin unnoticed."""
    ada = new_account(session_factory, services, "ada", Role.ADMIN)
    ivy = add_reviewer(session_factory, services, "ivy")
    mal = add_reviewer(session_factory, services, "mal")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    with session_factory() as s, s.begin():
        category = s.execute(select(Category).where(Category.code == "it_fault")).scalar_one()
        s.execute(category_intake.insert().values(category_id=category.id, reviewer_id=mal.id))
    client = login_client(app, session_factory, services, ada)
    dashboard = client.get("/admin").text
    assert 'id="tampered-routes"' in dashboard and "it_fault · mal" in dashboard
    routing = client.get("/admin/routing").text
    checked = set(re.findall(r'<input checked [^>]*name="it_fault-reviewers" [^>]*value="(\d+)"',
                             routing))
    assert checked == {str(ivy.id)}  # mal is offered, unchecked


def test_a_change_edited_outside_candor_is_marked_and_not_approvable(app, session_factory,
                                                                   services):
    """The approvals page shows what a routing change would replace, and marks a change that
    fails its tag (tests/security/test_pending_change_tags.py) with no Approve button;
    forcing the approval closes it without effect."""
    ada = new_account(session_factory, services, "ada", Role.ADMIN)
    ben = new_account(session_factory, services, "ben", Role.ADMIN)
    ivy = add_reviewer(session_factory, services, "ivy")
    mal = add_reviewer(session_factory, services, "mal")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    first = login_client(app, session_factory, services, ada)
    asked = _post(first, "/admin/routing", "/admin/routing", category="it_fault",
                  **{"it_fault-reviewers": str(mal.id)})
    assert asked.status_code == 200
    change_id = _change_id(session_factory)
    second = login_client(app, session_factory, services, ben)
    page = second.get("/admin/approvals").text
    assert f'id="approve-{change_id}"' in page and f'id="tampered-{change_id}"' not in page
    assert "Now: ivy" in page
    with session_factory() as s, s.begin():
        s.execute(update(StaffChange).where(StaffChange.id == change_id)  # a writer's edit
                  .values(intake_ids=f"{ivy.id},{mal.id}"))
    page = second.get("/admin/approvals").text
    assert f'id="tampered-{change_id}"' in page and f'id="approve-{change_id}"' not in page
    _post(second, "/admin/approvals", f"/admin/approvals/{change_id}/approve")
    assert _intake(session_factory, "it_fault") == ["ivy"]
    assert "outside Candor" in second.get("/admin/approvals").text  # the flash


def test_a_lead_changed_outside_candor_is_an_alarm_on_the_case_page(app, session_factory,
                                                                    services):
    """tests/security/test_lead_tags.py: the team is told why nobody may take a lead's step,
    and what puts it right."""
    ivy = add_reviewer(session_factory, services, "ivy")
    kai = add_reviewer(session_factory, services, "kai")
    seed_categories(session_factory, {"it_fault": [ivy.id, kai.id]}, services=services)
    case = submit(session_factory, services)
    page = login_client(app, session_factory, services, kai)
    assert 'id="lead-tampered"' not in page.get(f"/cases/{case.case_id}").text
    with session_factory() as s, s.begin():
        s.execute(update(CaseMember).where(CaseMember.reviewer_id == kai.id)
                  .values(role=MemberRole.LEAD))
    shown = page.get(f"/cases/{case.case_id}").text
    assert 'id="lead-tampered"' in shown and "candor lead" in shown


def test_a_swapped_public_key_raises_the_alarm_on_the_dashboard(app, session_factory,
                                                                services):
    ada = new_account(session_factory, services, "ada", Role.ADMIN)
    ivy = add_reviewer(session_factory, services, "ivy")
    with session_factory() as s, s.begin():
        s.execute(update(Reviewer).where(Reviewer.id == ivy.id)
                  .values(public_key=generate_keypair().public_key))
    page = login_client(app, session_factory, services, ada).get("/admin").text
    assert 'id="key-alarms"' in page and "ivy" in page


def test_a_restored_key_stays_on_the_dashboard_and_its_owner_is_told(app, session_factory,
                                                                    services):
    """Outside tester: at the owner's next login the key was put right without a word to
    them, and the dashboard's alarm vanished, so an admin who looked later saw nothing."""
    freeze_mid_totp_step(services)
    ada = new_account(session_factory, services, "ada", Role.ADMIN)
    ivy = new_account(session_factory, services, "ivy")
    with session_factory() as s, s.begin():
        s.execute(update(Reviewer).where(Reviewer.id == ivy.id)
                  .values(public_key=generate_keypair().public_key))
    owner = app.test_client()
    answer = post_login(owner, "ivy", ivy.passphrase,
                        current_code(services, session_factory, ivy.id))
    assert answer.status_code == 303
    landing = owner.get(answer.location, follow_redirects=True).text
    assert "had been changed in the database" in landing
    page = login_client(app, session_factory, services, ada).get("/admin").text
    assert 'id="key-alarms"' not in page  # the key is right again
    assert 'id="recent-key-alarms"' in page
    assert f"<li>{services.clock.today().isoformat()} · ivy · at its owner's login</li>" in page
    # A login with nothing wrong says nothing.
    again = app.test_client()
    answer = post_login(again, "ivy", ivy.passphrase,
                        current_code(services, session_factory, ivy.id, 1))
    assert "had been changed in the database" not in again.get(answer.location,
                                                               follow_redirects=True).text
