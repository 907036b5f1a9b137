"""Intake routes and identity approvals (migration 0019): a database writer inserts a route
to an account of their choice, or sets an identity request to approved. Before 0019 the
route got every new report of the category sealed to it, past the second admin who approves
routing, and the approval let a custodian on the team open the reporter's identity alone.
Now both carry a tag under the instance account key. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.cases.identity_access import reveal_identity, tag_untagged_requests
from core.cases.identity_requests import (
    decide_identity_request,
    identity_disclosures,
    request_identity,
)
from core.cases.readers import intake_readers
from core.categories.intake_routes import read_routes, routed_handlers, tag_untagged_routes
from core.db import transaction
from core.errors import AccessDenied
from core.models import Category, IdentityRequest
from core.services import Services
from core.staff.overview import admin_overview
from crypto.keys import KeyPair
from tests.core.factories import add_reviewer, submit
from tests.security.key_custody_support import (
    IDENTITY,
    Factory,
    Team,
    grants_of,
    requester_turned_custodian,
    write_sql,
)


def _plant_route(sf: Factory, reviewer_id: int, *, tag_of: int | None = None) -> None:
    """The writer's route of it_fault to `reviewer_id`: no tag, or a copy of the tag of
    `tag_of`'s route."""
    if tag_of is None:
        write_sql(sf, "INSERT INTO category_intake (category_id, reviewer_id) "
                      "SELECT id, :r FROM categories WHERE code = 'it_fault'", r=reviewer_id)
    else:
        write_sql(sf, "INSERT INTO category_intake (category_id, reviewer_id, route_tag) "
                      "SELECT category_id, :r, route_tag FROM category_intake "
                      "WHERE reviewer_id = :source AND category_id = "
                      "(SELECT id FROM categories WHERE code = 'it_fault')",
                  r=reviewer_id, source=tag_of)


@pytest.mark.parametrize("tag", ["none", "copied"])
def test_a_planted_route_receives_nothing(session_factory: Factory, services: Services,
                                          team: Team, tag: str) -> None:
    """Attack: the writer routes it_fault to mal (an approved, enrolled case handler: their
    own account, or one the reporter would not want), with no tag or ivy's. The next report
    is sealed to the real intake only; the dashboard names the route, reporters are not told
    mal reads it, and the console's routing form does not offer it for approval
    (tests/reviewer/test_key_custody_console.py)."""
    ivy = team["ivy"]
    mal = add_reviewer(session_factory, services, "mal")
    _plant_route(session_factory, mal.id, tag_of=ivy.id if tag == "copied" else None)
    case_id = submit(session_factory, services).case_id
    assert grants_of(session_factory, case_id, mal.id) == []
    assert grants_of(session_factory, case_id, ivy.id)  # control: the real intake
    with session_factory() as s:
        overview = admin_overview(s, services.keyring)
        assert [(t.category_code, t.username) for t in overview.tampered_routes] == [
            ("it_fault", "mal")]
        readers = intake_readers(s, services.keyring).by_category["it_fault"]
        assert {r.id for r in readers} == {ivy.id, team["kai"].id}
        category = s.execute(select(Category).where(Category.code == "it_fault")).scalar_one()
        assert mal.id not in {r.id for r in routed_handlers(category, read_routes(
            s, services.keyring))}


def test_routing_again_clears_the_alarm(session_factory: Factory, services: Services,
                                        team: Team) -> None:
    """The way out the dashboard names: an admin routes the category again (here the
    operator's command, which needs no second admin)."""
    from core.categories.admin import route_intake

    mal = add_reviewer(session_factory, services, "mal")
    _plant_route(session_factory, mal.id)
    with transaction(session_factory) as s:
        route_intake(s, services, "it_fault", ["ivy", "mal"])
    with session_factory() as s:
        assert admin_overview(s, services.keyring).tampered_routes == []
    assert grants_of(session_factory, submit(session_factory, services).case_id, mal.id)


def test_the_upgrade_tags_routes_as_they_stand(session_factory: Factory, services: Services,
                                               team: Team) -> None:
    """`candor db upgrade` applying 0019 tags what it finds (routes written before had no
    tag); after that, a cleared tag stays cleared."""
    write_sql(session_factory, "UPDATE category_intake SET route_tag = NULL")
    assert grants_of(session_factory, submit(session_factory, services).case_id,
                     team["ivy"].id) == []
    with transaction(session_factory) as s:
        assert tag_untagged_routes(s, services.keyring) == 2
    assert grants_of(session_factory, submit(session_factory, services).case_id,
                     team["ivy"].id)


def test_an_approval_set_by_sql_opens_nothing(session_factory: Factory, services: Services,
                                              recovery_key: KeyPair, team: Team) -> None:
    """Attack: ivy, a custodian on the team who can write the database, marks her own request
    approved (by cora, as if). The identity stays closed and the reporter is told of no
    disclosure; cora's real approval opens it (control)."""
    case_id, request_id, cora = requester_turned_custodian(session_factory, services, team,
                                                          recovery_key)
    write_sql(session_factory, "UPDATE identity_requests SET status = 'approved', "
              "decided_by = :cora WHERE id = :id", cora=cora.id, id=request_id)
    ivy = team["ivy"]
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        reveal_identity(s, services, ivy.unlocked, case_id, "approved, see")
    with session_factory() as s:
        assert identity_disclosures(s, services.keyring, case_id) == []
    write_sql(session_factory, "UPDATE identity_requests SET status = 'pending', "
              "decided_by = NULL WHERE id = :id", id=request_id)
    with transaction(session_factory) as s:
        decide_identity_request(s, services, cora.unlocked, request_id, approve=True)
    with transaction(session_factory) as s:
        assert reveal_identity(s, services, ivy.unlocked, case_id, "interview") == IDENTITY


def test_an_approval_tag_copied_from_another_request_opens_nothing(
        session_factory: Factory, services: Services, recovery_key: KeyPair,
        team: Team) -> None:
    """The writer copies the tag of kai's approved request onto ivy's own, with the same
    approver: the tag names the request and its requester, so it does not carry over."""
    case_id, request_id, cora = requester_turned_custodian(session_factory, services, team,
                                                          recovery_key)
    with transaction(session_factory) as s:
        kais = request_identity(s, services, team["kai"].unlocked, case_id, "interview").id
    with transaction(session_factory) as s:
        decide_identity_request(s, services, cora.unlocked, kais, approve=True)
    write_sql(session_factory, "UPDATE identity_requests SET status = 'approved', "
              "decided_by = :cora, approval_tag = (SELECT approval_tag FROM identity_requests "
              "WHERE id = :kais) WHERE id = :id", cora=cora.id, kais=kais, id=request_id)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        reveal_identity(s, services, team["ivy"].unlocked, case_id, "approved, see")
    with session_factory() as s:  # kai's disclosure only
        assert identity_disclosures(s, services.keyring, case_id) == [services.clock.today()]


def test_the_upgrade_tags_approvals_as_they_stand(session_factory: Factory,
                                                  services: Services, recovery_key: KeyPair,
                                                  team: Team) -> None:
    case_id, request_id, cora = requester_turned_custodian(session_factory, services, team,
                                                          recovery_key)
    with transaction(session_factory) as s:
        decide_identity_request(s, services, cora.unlocked, request_id, approve=True)
    write_sql(session_factory, "UPDATE identity_requests SET approval_tag = NULL, "
              "request_tag = NULL")
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        reveal_identity(s, services, team["ivy"].unlocked, case_id, "before the upgrade")
    with transaction(session_factory) as s:
        assert tag_untagged_requests(s, services.keyring) == 1
        assert s.get(IdentityRequest, request_id).approval_tag is not None
    with transaction(session_factory) as s:
        assert reveal_identity(s, services, team["ivy"].unlocked, case_id, "now") == IDENTITY
