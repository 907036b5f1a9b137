"""core.cases.casework: granting a case, case-key-only grants, excluding members, who may be
granted, and when an identity may not be revealed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from core.audit.log import Actor
from core.cases.casework import post_reviewer_message, read_case_for_reviewer
from core.cases.identity_access import reveal_identity
from core.cases.recovery import regrant_member_cases
from core.cases.team_changes import exclude_member, grant_case
from core.db import transaction
from core.errors import AccessDenied, Conflict, InvalidInput
from core.models import (
    CaseGrant,
    CaseMember,
    KeyKind,
    MessageKind,
)
from core.staff.accounts import deactivate_reviewer
from tests.core.cases.test_access import (
    REPORT,
    _reviewer,
)
from tests.core.factories import add_reviewer, submit


def test_grant_case_lets_the_grantee_read(session_factory, services, team):
    case_id = team["case"].case_id
    outsider = team["outsider"]
    with transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, outsider))
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, outsider.unlocked, case_id)
        member = s.get(CaseMember, (case_id, outsider.id))
    assert view.report == REPORT
    assert [m.body for m in view.messages] == ["Check with HR first", "We received your report"]
    assert member is not None and not member.excluded
    # Granting again adds no duplicate grants.
    with transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, outsider))
    with session_factory() as s:
        kinds = (
            s.execute(
                select(CaseGrant.key_kind).where(
                    CaseGrant.case_id == case_id, CaseGrant.reviewer_id == outsider.id
                )
            )
            .scalars()
            .all()
        )
    assert sorted(kinds) == sorted([KeyKind.CASE, KeyKind.TEAM])


def test_case_key_only_grant_hides_the_team_notes(session_factory, services, team):
    case_id = team["case"].case_id
    outsider = team["outsider"]
    with transaction(session_factory) as s:
        grant_case(
            s,
            services,
            team["ivy"].unlocked,
            case_id,
            _reviewer(s, outsider),
            kinds=(KeyKind.CASE,),
        )
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, outsider.unlocked, case_id)
    assert [m.body for m in view.messages] == ["We received your report"]
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        post_reviewer_message(
            s, services, outsider.unlocked, case_id, MessageKind.INTERNAL_NOTE, "sneaky"
        )


def test_only_someone_who_can_open_the_case_can_grant_it(session_factory, services, team):
    case_id = team["case"].case_id
    third = add_reviewer(session_factory, services, "tess")
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        grant_case(s, services, team["outsider"].unlocked, case_id, _reviewer(s, third))
    with session_factory() as s:
        assert s.execute(select(CaseGrant).where(CaseGrant.reviewer_id == third.id)).first() is None


def test_exclude_member_removes_grants_and_blocks_regrant(
    session_factory, services, team, recovery_key
):
    case_id = team["case"].case_id
    outsider = team["outsider"]
    with transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, outsider))
    with transaction(session_factory) as s:
        read_case_for_reviewer(s, services, outsider.unlocked, case_id)
        exclude_member(s, services, Actor.reviewer(team["ivy"].id), case_id, _reviewer(s, outsider))
    with session_factory() as s:
        assert (
            s.execute(
                text("select count(*) from case_grants where reviewer_id = :r"), {"r": outsider.id}
            ).scalar_one()
            == 0
        )
        assert s.get(CaseMember, (case_id, outsider.id)).excluded
        # ivy keeps her grants, and holds the new epoch's case and team keys too.
        assert sorted(s.execute(
            text("select epoch, key_kind from case_grants where reviewer_id = :r"),
            {"r": team["ivy"].id}).all()) == [(1, "case"), (1, "team"), (2, "case"), (2, "team")]
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, outsider.unlocked, case_id)
    with pytest.raises(Conflict), transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, outsider))
    # The recovery path does not bring them back either.
    with transaction(session_factory) as s:
        result = regrant_member_cases(s, services, recovery_key.private_key, _reviewer(s, outsider))
    assert result.regranted == 0
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, outsider.unlocked, case_id)


def test_excluding_a_non_member_preempts_a_later_grant(session_factory, services, team):
    case_id = team["case"].case_id
    with transaction(session_factory) as s:
        exclude_member(s, services, Actor.system(), case_id, _reviewer(s, team["outsider"]))
    with pytest.raises(Conflict), transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, team["outsider"]))


def test_excluded_intake_reviewer_loses_access(session_factory, services, team):
    case_id = team["case"].case_id
    with transaction(session_factory) as s:
        # The last member cannot leave (test_exclusion.py): a colleague joins first.
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, team["outsider"]))
        exclude_member(s, services, Actor.system(), case_id, _reviewer(s, team["ivy"]))
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, team["ivy"].unlocked, case_id)


def test_auditor_cannot_be_granted_nor_routed(session_factory, services, team):
    case_id = team["case"].case_id
    auditor = team["auditor"]
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, auditor))
    with session_factory() as s:
        assert (
            s.execute(
                text("select count(*) from case_grants where reviewer_id = :r"), {"r": auditor.id}
            ).scalar_one()
            == 0
        )
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, auditor.unlocked, case_id)
    from core.categories.intake_routes import set_intake

    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        set_intake(s, services.keyring, "other", [_reviewer(s, auditor)])


def test_auditor_on_intake_list_gets_no_grant(session_factory, services, team):
    """Even if an auditor ends up on an intake list, submission seals nothing to them."""
    from core.models import category_intake

    with transaction(session_factory) as s:
        category_id = s.execute(text("select id from categories where code = 'other'")).scalar_one()
        s.execute(
            category_intake.insert().values(category_id=category_id, reviewer_id=team["auditor"].id)
        )
    result = submit(session_factory, services, category="other")
    assert result.unrouted
    with session_factory() as s:
        assert (
            s.execute(
                text("select count(*) from case_grants where reviewer_id = :r"),
                {"r": team["auditor"].id},
            ).scalar_one()
            == 0
        )


def test_inactive_reviewer_cannot_be_granted(session_factory, services, team):
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "oscar")
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        grant_case(
            s, services, team["ivy"].unlocked, team["case"].case_id, _reviewer(s, team["outsider"])
        )


def _messages(session_factory, case_id) -> int:
    with session_factory() as s:
        return s.execute(text("select count(*) from messages where case_id = :c"),
                         {"c": case_id}).scalar_one()


def test_reveal_on_anonymous_case_is_a_conflict(session_factory, services, team):
    result = submit(session_factory, services, category="security")
    with pytest.raises(Conflict), transaction(session_factory) as s:
        reveal_identity(s, services, team["ivy"].unlocked, result.case_id, "curious")


def test_reveal_needs_an_identity_grant(session_factory, services, team):
    case_id = team["case"].case_id
    with transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, team["outsider"]))
    before = _messages(session_factory, case_id)
    # Granted the case and team keys only (the default): the identity stays sealed.
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        reveal_identity(s, services, team["outsider"].unlocked, case_id, "because")
    assert _messages(session_factory, case_id) == before
