"""Team memberships (core.cases.membership_tags): a database writer adds an account to a case
team, or clears an excluded member's flag, and copies grant rows for it. The copies open
nothing; before migration 0018 the next exclusion sealed the new epoch's keys to every member
on record, the planted one included (outside tester). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.audit.log import Actor, AuditAction
from core.cases.team_changes import exclude_member, grant_case
from core.db import transaction
from core.models import Case, MemberRole
from core.models.base import random_row_id
from core.services import Services
from tests.core.factories import add_reviewer, audit_actions
from tests.security.key_custody_support import Factory, Team, account, grants_of, write_sql


def _copy_membership_and_grants(sf: Factory, case_id: int, source: int, target: int) -> None:
    """The writer's rows: `target` on the team as `source` is, with `source`'s grants."""
    write_sql(sf, "INSERT INTO case_members (case_id, reviewer_id, role, excluded, status, "
                  "category_id, received_on, acknowledge_due, feedback_due, priority, "
                  "review_requested, actions_due) SELECT case_id, :target, role, excluded, "
                  "status, category_id, received_on, acknowledge_due, feedback_due, priority, "
                  "review_requested, actions_due FROM case_members WHERE case_id = :case "
                  "AND reviewer_id = :source", case=case_id, source=source, target=target)
    _copy_grants(sf, case_id, source, target)


def _copy_grants(sf: Factory, case_id: int, source: int, target: int) -> None:
    for epoch, kind, sealed in grants_of(sf, case_id, source):
        _insert_grant(sf, case_id, target, epoch, str(kind), sealed)


def _insert_grant(sf: Factory, case_id: int, reviewer_id: int, epoch: int, kind: str,
                  sealed: bytes) -> None:
    write_sql(sf, "INSERT INTO case_grants (id, case_id, key_kind, epoch, recipient, "
                  "reviewer_id, sealed_key) VALUES (:id, :c, :k, :e, 'reviewer', :r, :s)",
              id=random_row_id(), c=case_id, k=kind, e=epoch, r=reviewer_id, s=sealed)


def _lead_and_colleague(sf: Factory, services: Services, team: Team) -> tuple:
    """lea, added by ivy as the case's lead, and ned, a colleague on the team."""
    ivy, case_id = team["ivy"], team["case"].case_id
    lea = add_reviewer(sf, services, "lea")
    ned = add_reviewer(sf, services, "ned")
    with transaction(sf) as s:
        grant_case(s, services, ivy.unlocked, case_id, account(s, lea.id), role=MemberRole.LEAD)
        grant_case(s, services, ivy.unlocked, case_id, account(s, ned.id))
    return lea, ned


def _new_epoch_grants(sf: Factory, case_id: int, reviewer_id: int) -> list:
    return [g for g in grants_of(sf, case_id, reviewer_id) if g[0] == 2]


def test_a_planted_member_gets_nothing_of_a_new_epoch(session_factory: Factory,
                                                      services: Services, team: Team) -> None:
    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    mal = add_reviewer(session_factory, services, "mal")
    lea = add_reviewer(session_factory, services, "lea")
    with transaction(session_factory) as s:
        grant_case(s, services, ivy.unlocked, case_id, account(s, lea.id), role=MemberRole.LEAD)
    _copy_membership_and_grants(session_factory, case_id, ivy.id, mal.id)
    with transaction(session_factory) as s:
        exclude_member(s, services, lea.unlocked.actor, case_id, account(s, kai.id))
    assert _new_epoch_grants(session_factory, case_id, mal.id) == []
    assert _new_epoch_grants(session_factory, case_id, ivy.id)  # control: a real member
    assert str(AuditAction.RECORD_TAMPERED) in audit_actions(session_factory)


def test_a_planted_member_is_nobody_left_to_handle_the_case(session_factory: Factory,
                                                            services: Services,
                                                            team: Team) -> None:
    """Excluding the last real member is refused (the case would be left to nobody); a
    planted row counted as someone left, so the team could be emptied down to the writer's
    account, which no key of the next epoch reaches (core.cases.membership)."""
    from core.cases.team_changes import LastMemberError

    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    mal = add_reviewer(session_factory, services, "mal")
    _copy_membership_and_grants(session_factory, case_id, ivy.id, mal.id)
    with transaction(session_factory) as s:  # no lead yet: any member may exclude
        exclude_member(s, services, ivy.unlocked.actor, case_id, account(s, kai.id))
    with pytest.raises(LastMemberError), transaction(session_factory) as s:
        exclude_member(s, services, Actor.system(), case_id, account(s, ivy.id))
    assert _new_epoch_grants(session_factory, case_id, ivy.id)  # ivy still holds the case


@pytest.mark.parametrize("how", ["cleared", "kept"])
def test_an_excluded_member_brought_back_gets_nothing(session_factory: Factory,
                                                      services: Services, team: Team,
                                                      how: str) -> None:
    """The writer clears kai's exclusion (or not: a grant row alone) and gives him copies of
    a member's grants of the current epoch; the next exclusion seals its epoch to the real
    members only."""
    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    lea, ned = _lead_and_colleague(session_factory, services, team)
    with transaction(session_factory) as s:
        exclude_member(s, services, lea.unlocked.actor, case_id, account(s, kai.id))
    if how == "cleared":
        write_sql(session_factory, "UPDATE case_members SET excluded = :no WHERE case_id = :c "
                  "AND reviewer_id = :r", no=False, c=case_id, r=kai.id)
    _copy_grants(session_factory, case_id, ivy.id, kai.id)
    with transaction(session_factory) as s:
        exclude_member(s, services, lea.unlocked.actor, case_id, account(s, ned.id))
    third = [g for g in grants_of(session_factory, case_id, kai.id) if g[0] == 3]
    assert third == []
    assert [g for g in grants_of(session_factory, case_id, ivy.id) if g[0] == 3]


def test_recover_gives_nothing_through_a_planted_membership(session_factory: Factory,
                                                            services: Services, team: Team,
                                                            recovery_key) -> None:
    """Outside tester: `candor recover` re-granted every key of a case to an account a
    database writer had put on its team."""
    from core.cases.recovery import regrant_member_cases

    ivy, case_id = team["ivy"], team["case"].case_id
    mal = add_reviewer(session_factory, services, "mal")
    _copy_membership_and_grants(session_factory, case_id, ivy.id, mal.id)
    write_sql(session_factory, "DELETE FROM case_grants WHERE reviewer_id = :r", r=mal.id)
    with transaction(session_factory) as s:
        regrant_member_cases(s, services, recovery_key.private_key, account(s, mal.id))
    assert grants_of(session_factory, case_id, mal.id) == []
    assert str(AuditAction.RECORD_TAMPERED) in audit_actions(session_factory)


def _membership_row(sf: Factory, case_id: int, reviewer_id: int) -> tuple:
    from sqlalchemy import text

    with sf() as s:
        return tuple(s.execute(text("SELECT excluded, member_tag FROM case_members WHERE "
                                    "case_id = :c AND reviewer_id = :r"),
                               {"c": case_id, "r": reviewer_id}).one())


def test_a_membership_put_back_from_before_the_exclusion_gets_nothing(
        session_factory: Factory, services: Services, team: Team, recovery_key) -> None:
    """The tags are not bound to time: a writer who kept kai's membership row from before his
    exclusion, with its tag, puts it back (the tag verifies), and copies a member's grants.
    The access log records the exclusion: the next epoch, a colleague's grant, `candor
    recover` and reading the case all refuse him (core.cases.exclusion_log)."""
    from core.cases.grants import reviewer_case_keys
    from core.cases.recovery import regrant_member_cases
    from core.errors import AccessDenied, Conflict

    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    lea, ned = _lead_and_colleague(session_factory, services, team)
    kept_excluded, kept_tag = _membership_row(session_factory, case_id, kai.id)
    assert not kept_excluded and kept_tag is not None
    with transaction(session_factory) as s:
        exclude_member(s, services, lea.unlocked.actor, case_id, account(s, kai.id))
    write_sql(session_factory, "UPDATE case_members SET excluded = :no, member_tag = :tag "
              "WHERE case_id = :c AND reviewer_id = :r", no=False, tag=kept_tag, c=case_id,
              r=kai.id)
    _copy_grants(session_factory, case_id, ivy.id, kai.id)
    with transaction(session_factory) as s:
        exclude_member(s, services, lea.unlocked.actor, case_id, account(s, ned.id))
    assert [g for g in grants_of(session_factory, case_id, kai.id) if g[0] == 3] == []
    assert [g for g in grants_of(session_factory, case_id, ivy.id) if g[0] == 3]  # control
    assert str(AuditAction.RECORD_TAMPERED) in audit_actions(session_factory)
    with pytest.raises(Conflict), transaction(session_factory) as s:
        grant_case(s, services, ivy.unlocked, case_id, account(s, kai.id))
    write_sql(session_factory, "DELETE FROM case_grants WHERE reviewer_id = :r", r=kai.id)
    with transaction(session_factory) as s:
        regrant_member_cases(s, services, recovery_key.private_key, account(s, kai.id))
    assert grants_of(session_factory, case_id, kai.id) == []
    _copy_grants(session_factory, case_id, ivy.id, kai.id)  # copies open nothing, and
    with session_factory() as s, pytest.raises(AccessDenied):  # are not even tried
        reviewer_case_keys(s, s.get(Case, case_id), kai.id, kai.private_key)


def test_a_damaged_exclusion_entry_breaks_no_page(session_factory: Factory, services: Services,
                                                   team: Team) -> None:
    """A writer who garbles an exclusion's log entry (the chain check then fails) breaks no
    reading of the case: the entry names nobody, and the membership row still excludes."""
    from core.cases.exclusion_log import logged_exclusions

    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    lea, _ned = _lead_and_colleague(session_factory, services, team)
    with transaction(session_factory) as s:
        exclude_member(s, services, lea.unlocked.actor, case_id, account(s, kai.id))
    for garbled in ("{not json", "[1, 2]", '{"reviewer_id": "x"}'):
        write_sql(session_factory, "UPDATE audit_events SET detail = :d WHERE case_id = :c "
                  "AND action = 'case:member:exclude'", d=garbled, c=case_id)
        with session_factory() as s:
            assert logged_exclusions(s, case_id) == frozenset()
    assert grants_of(session_factory, case_id, ivy.id)  # the team goes on


def test_a_member_put_back_takes_no_step_and_a_lead_put_back_leads_nothing(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Second reader: a put-back row still let the excluded member reach the case's pages
    and take a lead's steps (on a case without a lead, every member may); a lead's row and
    the case's lead tag put back made them lead again."""
    from sqlalchemy import text

    from core.cases.lead_tags import lead_trusted
    from core.cases.team import is_active_member
    from core.cases.team_changes import may_exclude
    from core.cases.team_lead import active_member
    from core.errors import AccessDenied, InvalidInput

    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    kept = _membership_row(session_factory, case_id, kai.id)
    with transaction(session_factory) as s:  # no lead yet: any member may exclude
        exclude_member(s, services, ivy.unlocked.actor, case_id, account(s, kai.id))
    write_sql(session_factory, "UPDATE case_members SET excluded = :no, member_tag = :tag "
              "WHERE case_id = :c AND reviewer_id = :r", no=False, tag=kept[1], c=case_id,
              r=kai.id)
    with session_factory() as s:
        case = s.get(Case, case_id)
        # The console's require_member:
        assert not is_active_member(s, services.keyring, case_id, kai.id)
        assert not may_exclude(services.keyring, case, kai.id)
        assert may_exclude(services.keyring, case, ivy.id)  # control
        with pytest.raises(InvalidInput):
            active_member(services.keyring, case, kai.id)
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        exclude_member(s, services, kai.unlocked.actor, case_id, account(s, ivy.id))
    # A lead excluded by the operator, their row and the case's lead tag put back.
    lea, _ned = _lead_and_colleague(session_factory, services, team)
    with session_factory() as s:
        lead_row = _membership_row(session_factory, case_id, lea.id)
        lead_tag = s.execute(text("SELECT lead_tag FROM cases WHERE id = :c"),
                             {"c": case_id}).scalar_one()
    from core.audit.log import Actor
    with transaction(session_factory) as s:
        exclude_member(s, services, Actor.system(), case_id, account(s, lea.id))
    write_sql(session_factory, "UPDATE case_members SET excluded = :no, member_tag = :tag, "
              "role = 'lead' WHERE case_id = :c AND reviewer_id = :r", no=False,
              tag=lead_row[1], c=case_id, r=lea.id)
    write_sql(session_factory, "UPDATE cases SET lead_tag = :t WHERE id = :c", t=lead_tag,
              c=case_id)
    with session_factory() as s:
        assert not lead_trusted(services.keyring, s.get(Case, case_id))


def test_a_custodian_excluded_from_a_case_gets_neither_its_reasons_nor_its_identity_back(
        session_factory: Factory, services: Services, recovery_key) -> None:
    """Second reader: an identity request's reason was sealed to every custodian, one the
    team had excluded from the case included, and `candor recover` gave them the identity
    key back."""
    from sqlalchemy import select

    from core.audit.log import Actor
    from core.cases.content import Identity
    from core.cases.identity_requests import request_identity
    from core.cases.recovery import regrant_member_cases
    from core.models import IdentityRequestSeal
    from tests.core.factories import seed_categories, submit

    ivy = add_reviewer(session_factory, services, "ivy")
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    other = add_reviewer(session_factory, services, "other", custodian=True)
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    case_id = submit(session_factory, services, identity=Identity(name="Wang Fang")).case_id
    with transaction(session_factory) as s:
        exclude_member(s, services, Actor.system(), case_id, account(s, keeper.id))
    with transaction(session_factory) as s:
        request = request_identity(s, services, ivy.unlocked, case_id, "to invite them")
        sealed_to = set(s.execute(select(IdentityRequestSeal.reviewer_id).where(
            IdentityRequestSeal.request_id == request.id)).scalars())
    assert sealed_to == {ivy.id, other.id}
    with transaction(session_factory) as s:
        regrant_member_cases(s, services, recovery_key.private_key, account(s, keeper.id))
    assert grants_of(session_factory, case_id, keeper.id) == []
