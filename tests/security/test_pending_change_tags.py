"""Requests that wait for a second person, edited by a database writer between asking and
approving (second reader of migration 0019). An admin's change waiting for a second admin
(core.staff.change_tags) and an identity request waiting for a custodian
(core.cases.identity_access.tag_request) carry a tag from the moment they are made: the
approver's click no longer applies what the writer put there. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from core.audit.log import Actor, AuditAction
from core.cases.identity_access import reveal_identity
from core.cases.identity_requests import (
    _reason_context,
    decide_identity_request,
    read_request,
    request_identity,
)
from core.db import transaction
from core.errors import AccessDenied, Conflict
from core.models import (
    AuditEvent,
    IdentityRequest,
    IdentityRequestSeal,
    RequestStatus,
    Role,
    StaffChange,
)
from core.services import Services
from core.staff.accounts import get_reviewer
from core.staff.approvals import (
    decide_change,
    request_custodian,
    request_intake,
    tampered_changes,
)
from core.staff.overview import admin_overview
from crypto.keys import open_sealed
from crypto.records import encrypt_record
from tests.core.factories import add_reviewer, seed_categories, submit
from tests.security.key_custody_support import IDENTITY, Factory, Team, grants_of, write_sql


def _admins(sf: Factory, services: Services) -> tuple[int, int]:
    ada = add_reviewer(sf, services, "ada", Role.ADMIN)
    ben = add_reviewer(sf, services, "ben", Role.ADMIN)
    return ada.id, ben.id


def _decisions(sf: Factory) -> list[dict]:
    with sf() as s:
        return [json.loads(d) for d in s.execute(select(AuditEvent.detail).where(
            AuditEvent.action == AuditAction.STAFF_CHANGE_DECIDED)).scalars()]


@pytest.mark.parametrize("how", ["edited", "forged"])
def test_a_routing_change_written_by_sql_is_not_applied(
        session_factory: Factory, services: Services, team: Team, how: str) -> None:
    """Attack: the writer adds mal to ada's pending routing change (or files one in her
    name); ben approves what the page shows. Before: set_intake tagged mal's route and mal
    read every new report, with no alarm. Now the change fails its tag: the page marks it,
    and approving it closes it without effect."""
    ada, ben = _admins(session_factory, services)
    mal = add_reviewer(session_factory, services, "mal")
    ivy, kai = team["ivy"], team["kai"]
    ids = f"{ivy.id},{kai.id},{mal.id}"
    if how == "edited":
        with transaction(session_factory) as s:  # ada's real request: ivy alone
            change_id = request_intake(s, services, Actor.reviewer(ada), "it_fault",
                                       ["ivy"]).id
        write_sql(session_factory, "UPDATE staff_changes SET intake_ids = :ids WHERE id = :id",
                  ids=ids, id=change_id)
    else:
        write_sql(session_factory,
                  "INSERT INTO staff_changes (kind, status, category_id, intake_ids, "
                  "previous_ids, requested_by, requested_at) SELECT 'intake', 'pending', id, "
                  ":ids, :prev, :ada, CURRENT_TIMESTAMP FROM categories WHERE code = "
                  "'it_fault'", ids=ids, prev=f"{ivy.id},{kai.id}", ada=ada)
        with session_factory() as s:
            change_id = s.execute(text("SELECT max(id) FROM staff_changes")).scalar_one()
    with session_factory() as s:
        assert tampered_changes(s, services) == {change_id}
    with transaction(session_factory) as s:
        change = decide_change(s, services, Actor.reviewer(ben), change_id, approve=True)
        assert change.status is RequestStatus.REFUSED
    assert _decisions(session_factory)[-1]["tampered"] is True
    case_id = submit(session_factory, services).case_id
    assert grants_of(session_factory, case_id, mal.id) == []
    assert grants_of(session_factory, case_id, ivy.id)  # routing as it was
    with session_factory() as s:
        assert tampered_changes(s, services) == set()  # closed


def test_a_custodian_change_filed_by_sql_is_not_applied(
        session_factory: Factory, services: Services, team: Team) -> None:
    """The writer files "make ivy a custodian" in ada's name (or turns her change about kai
    into one about ivy); ben's approval gives ivy nothing."""
    ada, ben = _admins(session_factory, services)
    with transaction(session_factory) as s:
        change_id = request_custodian(s, services, Actor.reviewer(ada), "kai", True).id
    write_sql(session_factory, "UPDATE staff_changes SET reviewer_id = :ivy WHERE id = :id",
              ivy=team["ivy"].id, id=change_id)
    with transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ben), change_id, approve=True)
    with session_factory() as s:
        assert not get_reviewer(s, "ivy").identity_custodian
        assert not get_reviewer(s, "kai").identity_custodian


def test_an_honest_change_still_applies(session_factory: Factory, services: Services,
                                        team: Team) -> None:
    """Control, on both databases: the tag survives the round trip through the database
    (times included), and a refused change is closed the usual way."""
    ada, ben = _admins(session_factory, services)
    with transaction(session_factory) as s:
        first = request_custodian(s, services, Actor.reviewer(ada), "kai", True).id
        second = request_intake(s, services, Actor.reviewer(ada), "it_fault", ["ivy"]).id
    with session_factory() as s:
        assert tampered_changes(s, services) == set()
    with transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ben), first, approve=True)
        decide_change(s, services, Actor.reviewer(ben), second, approve=False)
    with session_factory() as s:
        assert get_reviewer(s, "kai").identity_custodian
        assert s.get(StaffChange, second).status is RequestStatus.REFUSED
    assert "tampered" not in _decisions(session_factory)[-1]


def test_the_console_routes_again_a_category_with_a_broken_route(
        session_factory: Factory, services: Services, team: Team) -> None:
    """The dashboard's remedy for a route that fails its tag is to route the category again.
    Before, the console refused ivy and kai as "already the category's intake" (it compared
    with every row, the untagged one too)."""
    ada, ben = _admins(session_factory, services)
    kai = team["kai"]
    write_sql(session_factory, "UPDATE category_intake SET route_tag = NULL "
              "WHERE reviewer_id = :kai", kai=kai.id)
    with session_factory() as s:
        assert [t.username for t in admin_overview(s, services.keyring).tampered_routes] == [
            "kai"]
    with transaction(session_factory) as s:
        change = request_intake(s, services, Actor.reviewer(ada), "it_fault", ["ivy", "kai"])
        assert change.previous_ids == str(team["ivy"].id)  # what really routes
    with transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ben), change.id, approve=True)
    assert grants_of(session_factory, submit(session_factory, services).case_id, kai.id)
    with session_factory() as s:
        assert admin_overview(s, services.keyring).tampered_routes == []
    with transaction(session_factory) as s, pytest.raises(Conflict):  # a no-op again
        request_intake(s, services, Actor.reviewer(ada), "it_fault", ["ivy", "kai"])


def test_a_garbled_routing_change_does_not_break_the_page(
        session_factory: Factory, services: Services, team: Team) -> None:
    ada, ben = _admins(session_factory, services)
    with transaction(session_factory) as s:
        change_id = request_intake(s, services, Actor.reviewer(ada), "it_fault", ["ivy"]).id
    write_sql(session_factory, "UPDATE staff_changes SET intake_ids = 'x,1e9,-' WHERE id = :id",
              id=change_id)
    with transaction(session_factory) as s:
        assert decide_change(s, services, Actor.reviewer(ben), change_id,
                             approve=True).status is RequestStatus.REFUSED


def test_a_request_re_addressed_after_reading_is_not_approved(
        session_factory: Factory, services: Services) -> None:
    """Attack (second reader): ivy, a custodian on the team who can write the database,
    waits for cora to read kai's request, then makes it hers (re-encrypting the reason with
    her own seal of its key). cora approves "kai"; before, ivy then opened the identity."""
    ivy = add_reviewer(session_factory, services, "ivy", custodian=True)
    kai = add_reviewer(session_factory, services, "kai")
    cora = add_reviewer(session_factory, services, "cora", custodian=True)
    seed_categories(session_factory, {"it_fault": [ivy.id, kai.id]}, services=services)
    case_id = submit(session_factory, services, identity=IDENTITY).case_id
    with transaction(session_factory) as s:
        request_id = request_identity(s, services, kai.unlocked, case_id, "interview").id
    with transaction(session_factory) as s:
        assert read_request(s, services, cora.unlocked, request_id).requester == "kai"
    with transaction(session_factory) as s:  # ivy, as a database writer
        request = s.get(IdentityRequest, request_id)
        seal = s.execute(select(IdentityRequestSeal).where(
            IdentityRequestSeal.request_id == request_id,
            IdentityRequestSeal.reviewer_id == ivy.id)).scalar_one()
        reason_key = open_sealed(ivy.private_key, seal.sealed_key)
        request.requester_id = ivy.id
        request.reason_ciphertext = encrypt_record(reason_key, b"interview",
                                                   _reason_context(request))
    with transaction(session_factory) as s, pytest.raises(Conflict, match="altered"):
        decide_identity_request(s, services, cora.unlocked, request_id, approve=True)
    with transaction(session_factory) as s:  # refusing it is allowed
        decide_identity_request(s, services, cora.unlocked, request_id, approve=False)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        reveal_identity(s, services, ivy.unlocked, case_id, "cora approved")
