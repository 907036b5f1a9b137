"""The case lead (core.cases.lead_tags, migration 0019): a team member who can also write the
database makes themselves lead, or removes the lead's row so that every member may act as
lead. Before, either let them exclude colleagues (new key epochs without them), record the
decision and close the case alone. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.cases import workflow
from core.cases.lead_tags import lead_trusted, tag_untagged_leads
from core.cases.team_changes import exclude_member, may_exclude
from core.cases.team_lead import name_lead_by_operator
from core.db import transaction
from core.errors import AccessDenied, Conflict, InvalidInput
from core.models import Case, MemberRole, ScopeDecision
from core.services import Services
from core.staff.accounts import deactivate_reviewer
from tests.core.factories import add_reviewer
from tests.security.key_custody_support import Factory, Team, account, write_sql


def _accepted_with_lead(sf: Factory, services: Services, team: Team) -> int:
    """The team accepts the case with ivy as lead; kai stays an investigator."""
    case_id = team["case"].case_id
    with transaction(sf) as s:
        workflow.decide_scope(s, services, team["kai"].unlocked, case_id,
                              ScopeDecision.ACCEPTED, lead_id=team["ivy"].id)
    return case_id


def _may_lead(sf: Factory, services: Services, case_id: int, reviewer_id: int) -> bool:
    with sf() as s:
        return may_exclude(services.keyring, s.get(Case, case_id), reviewer_id)


def test_a_lead_made_by_sql_leads_nothing(session_factory: Factory, services: Services,
                                          team: Team) -> None:
    """Attack: kai sets his own role to lead. Neither he nor ivy may take a lead's step (the
    record is not the one the team chose) until the operator names the lead again."""
    ivy, kai = team["ivy"], team["kai"]
    case_id = _accepted_with_lead(session_factory, services, team)
    assert _may_lead(session_factory, services, case_id, ivy.id)  # control
    assert not _may_lead(session_factory, services, case_id, kai.id)
    write_sql(session_factory, "UPDATE case_members SET role = 'lead' WHERE case_id = :c "
              "AND reviewer_id = :r", c=case_id, r=kai.id)
    assert not _may_lead(session_factory, services, case_id, kai.id)
    assert not _may_lead(session_factory, services, case_id, ivy.id)
    with transaction(session_factory) as s, pytest.raises(AccessDenied, match="outside Candor"):
        exclude_member(s, services, kai.unlocked.actor, case_id, account(s, ivy.id))
    with transaction(session_factory) as s, pytest.raises(AccessDenied, match="outside Candor"):
        workflow.hand_over_lead(s, services, kai.unlocked, case_id, kai.id)
    with transaction(session_factory) as s:  # `candor lead`
        name_lead_by_operator(s, services, s.get(Case, case_id), account(s, ivy.id))
        assert s.get(Case, case_id).members  # loaded
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert lead_trusted(services.keyring, case)
        assert {m.reviewer_id: m.role for m in case.members}[kai.id] is MemberRole.INVESTIGATOR
    assert _may_lead(session_factory, services, case_id, ivy.id)
    assert not _may_lead(session_factory, services, case_id, kai.id)


def test_removing_the_lead_does_not_make_every_member_lead(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack: kai deletes ivy's membership (or demotes her), hoping for the rule that lets
    every member act while a case has no lead."""
    ivy, kai = team["ivy"], team["kai"]
    case_id = _accepted_with_lead(session_factory, services, team)
    write_sql(session_factory, "UPDATE case_members SET role = 'investigator' "
              "WHERE case_id = :c AND reviewer_id = :r", c=case_id, r=ivy.id)
    assert not _may_lead(session_factory, services, case_id, kai.id)
    write_sql(session_factory, "DELETE FROM case_members WHERE case_id = :c AND "
              "reviewer_id = :r", c=case_id, r=ivy.id)
    assert not _may_lead(session_factory, services, case_id, kai.id)


def test_a_planted_member_takes_no_lead_step_before_the_scope_decision(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Before a lead is chosen every member may act: a membership planted by SQL is not one
    (core.cases.membership_tags), and cannot be chosen as lead either."""
    case_id = team["case"].case_id
    mal = add_reviewer(session_factory, services, "mal")
    write_sql(session_factory, "INSERT INTO case_members (case_id, reviewer_id, role, "
              "excluded, status, category_id, received_on, acknowledge_due, feedback_due, "
              "priority, review_requested, actions_due) SELECT case_id, :mal, role, excluded, "
              "status, category_id, received_on, acknowledge_due, feedback_due, priority, "
              "review_requested, actions_due FROM case_members WHERE case_id = :c AND "
              "reviewer_id = :ivy", mal=mal.id, c=case_id, ivy=team["ivy"].id)
    assert not _may_lead(session_factory, services, case_id, mal.id)
    assert _may_lead(session_factory, services, case_id, team["ivy"].id)  # control
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        workflow.decide_scope(s, services, team["ivy"].unlocked, case_id,
                              ScopeDecision.ACCEPTED, lead_id=mal.id)


def test_the_operator_names_only_an_active_member(session_factory: Factory,
                                                  services: Services, team: Team) -> None:
    case_id = _accepted_with_lead(session_factory, services, team)
    write_sql(session_factory, "UPDATE cases SET lead_tag = NULL")  # the team is stuck
    outsider = add_reviewer(session_factory, services, "outsider")
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        name_lead_by_operator(s, services, s.get(Case, case_id), account(s, outsider.id))


def test_the_operator_does_not_overrule_a_team_that_can_name_its_lead(
        session_factory: Factory, services: Services, team: Team) -> None:
    """`candor lead` is for a stuck team: a working lead hands over on the case page, and a
    case without a lead yet gets one with its scope decision. Once the lead's account is
    deactivated, the operator may name another member."""
    ivy, kai = team["ivy"], team["kai"]
    with transaction(session_factory) as s, pytest.raises(Conflict, match="no lead yet"):
        name_lead_by_operator(s, services, s.get(Case, team["case"].case_id),
                              account(s, ivy.id))
    case_id = _accepted_with_lead(session_factory, services, team)
    with transaction(session_factory) as s, pytest.raises(Conflict, match="ivy leads case"):
        name_lead_by_operator(s, services, s.get(Case, case_id), account(s, kai.id))
    assert _may_lead(session_factory, services, case_id, ivy.id)  # nothing changed
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "ivy")
    # A writer who flips her account back to active does not make her "able to act" again
    # (her standing tag fails), so the operator is not turned away.
    write_sql(session_factory, "UPDATE reviewers SET active = true WHERE id = :r", r=ivy.id)
    with transaction(session_factory) as s:
        name_lead_by_operator(s, services, s.get(Case, case_id), account(s, kai.id))
    assert _may_lead(session_factory, services, case_id, kai.id)


def test_the_upgrade_tags_leads_as_they_stand(session_factory: Factory, services: Services,
                                              team: Team) -> None:
    case_id = _accepted_with_lead(session_factory, services, team)
    write_sql(session_factory, "UPDATE cases SET lead_tag = NULL")
    assert not _may_lead(session_factory, services, case_id, team["ivy"].id)
    with transaction(session_factory) as s:
        assert tag_untagged_leads(s, services.keyring) == 1
    assert _may_lead(session_factory, services, case_id, team["ivy"].id)


def test_breaking_the_leads_membership_tag_frees_no_one(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (second reader): kai garbles ivy's membership tag. The lead on record is still
    ivy, but a check that left untrusted memberships out found no lead, so every member
    could act as one (kai handed the lead to himself, and it was tagged)."""
    ivy, kai = team["ivy"], team["kai"]
    case_id = _accepted_with_lead(session_factory, services, team)
    write_sql(session_factory, "UPDATE case_members SET member_tag = NULL "
              "WHERE case_id = :c AND reviewer_id = :r", c=case_id, r=ivy.id)
    assert not _may_lead(session_factory, services, case_id, kai.id)
    with transaction(session_factory) as s, pytest.raises(AccessDenied, match="outside Candor"):
        workflow.hand_over_lead(s, services, kai.unlocked, case_id, kai.id)
    with session_factory() as s:
        assert not lead_trusted(services.keyring, s.get(Case, case_id))  # the page's alarm


def test_a_stage_set_back_does_not_let_a_member_name_himself_lead(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (second reader): kai sets the accepted case back to "acknowledged" (the stage
    is clear data) and decides the scope again, naming himself lead. Once a case has a lead
    only the lead decides its scope."""
    ivy, kai = team["ivy"], team["kai"]
    case_id = _accepted_with_lead(session_factory, services, team)
    write_sql(session_factory, "UPDATE cases SET status = 'acknowledged' WHERE id = :c",
              c=case_id)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        workflow.decide_scope(s, services, kai.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=kai.id)
    assert _may_lead(session_factory, services, case_id, ivy.id)
    assert not _may_lead(session_factory, services, case_id, kai.id)
