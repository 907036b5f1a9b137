"""core.cases.recovery: after a passphrase reset, the recovery key seals a member's case keys
to their new key pair again; cases they were excluded from, and cases without a recovery
grant, are left alone."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, text

from core.audit.log import Actor, AuditAction
from core.cases.casework import UnlockedReviewer, read_case_for_reviewer
from core.cases.identity_access import reveal_identity
from core.cases.recovery import regrant_member_cases
from core.cases.team_changes import exclude_member, grant_case
from core.db import transaction
from core.errors import AccessDenied
from core.models import AuditEvent, CaseGrant, Recipient
from core.staff.accounts import reset_passphrase
from crypto.keys import generate_keypair
from tests.core.cases.test_access import (
    REPORT,
    _reviewer,
)
from tests.core.factories import reset_and_reenrol, submit


def test_reset_passphrase_then_recovery_regrant(session_factory, services, team, recovery_key):
    case_id = team["case"].case_id
    ivy = team["ivy"]
    with transaction(session_factory) as s:
        old_public = _reviewer(s, ivy).public_key
        temporary = reset_passphrase(s, services, "ivy")
    with session_factory() as s:
        reviewer = _reviewer(s, ivy)
        # No key pair under the passphrase the admin saw: none until the owner chooses one.
        assert reviewer.public_key is None and reviewer.wrapped_private_key is None
        assert reviewer.must_change_passphrase and temporary
        assert (
            s.execute(
                text("select count(*) from case_grants where reviewer_id = :r"), {"r": ivy.id}
            ).scalar_one()
            == 0
        )
    handle = reset_and_reenrol(session_factory, services, ivy)
    with session_factory() as s:
        assert _reviewer(s, ivy).public_key not in (None, old_public)
    assert handle.private_key != ivy.private_key
    renewed = handle.unlocked
    for who in (renewed, ivy.unlocked):
        with pytest.raises(AccessDenied), transaction(session_factory) as s:
            read_case_for_reviewer(s, services, who, case_id)

    # A wrong recovery key is refused and grants nothing.
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        regrant_member_cases(s, services, generate_keypair().private_key, _reviewer(s, ivy))

    with transaction(session_factory) as s:
        result = regrant_member_cases(s, services, recovery_key.private_key, _reviewer(s, ivy))
    assert result.regranted == 1 and result.without_recovery_grant == 0
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, renewed, case_id)
    assert view.report == REPORT
    assert "Check with HR first" in [m.body for m in view.messages]
    # The old key is useless for good.
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, ivy.unlocked, case_id)
    # Idempotent: a second run finds nothing to do.
    with transaction(session_factory) as s:
        again = regrant_member_cases(s, services, recovery_key.private_key, _reviewer(s, ivy))
    assert again.regranted == 0


def _reset(session_factory, services, handle) -> UnlockedReviewer:
    """Reset the passphrase (all grants go), re-enrol, and return the account's new key."""
    return reset_and_reenrol(session_factory, services, handle).unlocked


def _regrant(session_factory, services, recovery_key, handle):
    with transaction(session_factory) as s:
        return regrant_member_cases(s, services, recovery_key.private_key, _reviewer(s, handle))


def test_every_key_of_every_member_case_and_nothing_else(session_factory, services, team,
                                                          recovery_key):
    """Guards the scope of a re-grant: each case the reviewer is a member of gets its case
    and team keys back (not the identity key: only custodians hold it) with one audit event
    naming the grantee, and a case they were excluded from gets nothing, although they once
    held its keys."""
    ivy, oscar = team["ivy"], team["outsider"]
    second = submit(session_factory, services, category="security")
    excluded = submit(session_factory, services, category="security")
    with transaction(session_factory) as s:
        grant_case(s, services, ivy.unlocked, excluded.case_id, _reviewer(s, oscar))
        exclude_member(s, services, Actor.system(), excluded.case_id, _reviewer(s, ivy))
    renewed = _reset(session_factory, services, ivy)

    result = _regrant(session_factory, services, recovery_key, ivy)
    assert (result.regranted, result.without_recovery_grant) == (2, 0)
    with session_factory() as s:
        events = s.execute(select(AuditEvent.case_id, AuditEvent.detail)
                           .where(AuditEvent.action == str(AuditAction.CASE_RECOVERED))).all()
    assert sorted(case_id for case_id, _ in events) == sorted([team["case"].case_id,
                                                               second.case_id])
    assert all(json.loads(detail)["grantee_id"] == ivy.id for _, detail in events)
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        reveal_identity(s, services, renewed, team["case"].case_id, "Needed to interview")
    with transaction(session_factory) as s:
        assert read_case_for_reviewer(s, services, renewed, second.case_id).messages == ()
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, renewed, excluded.case_id)


def test_a_case_without_a_recovery_grant_is_counted_not_skipped_silently(
        session_factory, services, team, recovery_key):
    """Guards the count an operator reads after `candor recover`: a case whose recovery
    grant is missing is reported as such, and the other cases are re-granted all the same."""
    ivy = team["ivy"]
    second = submit(session_factory, services, category="security")
    with transaction(session_factory) as s:
        s.execute(delete(CaseGrant).where(CaseGrant.case_id == second.case_id,
                                          CaseGrant.recipient == Recipient.RECOVERY))
    renewed = _reset(session_factory, services, ivy)
    result = _regrant(session_factory, services, recovery_key, ivy)
    assert (result.regranted, result.without_recovery_grant) == (1, 1)
    with transaction(session_factory) as s:
        assert read_case_for_reviewer(s, services, renewed, team["case"].case_id)
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, renewed, second.case_id)
    with session_factory() as s:
        assert s.execute(text("select count(*) from case_grants where reviewer_id = :r "
                              "and case_id = :c"),
                         {"r": ivy.id, "c": second.case_id}).scalar_one() == 0


def test_upgrade_withdraws_identity_grants_intake_handlers_held(session_factory, services,
                                                               team, recovery_key):
    """Before migration 0009 a confidential identity was sealed to the intake handlers. The
    upgrade withdraws those grants where the recovery key can give the identity back to the
    custodians, keeps the others (or nobody could read it), and leaves custodians' alone."""
    from core.cases.content import Identity
    from core.cases.grants import open_recovery_grant
    from core.cases.recovery import withdraw_legacy_identity_grants
    from core.models import CaseGrant, KeyKind, Recipient
    from crypto.keys import seal_to
    from tests.core.factories import add_reviewer

    ivy = team["ivy"]
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    cases = [submit(session_factory, services, category="security",
                    identity=Identity(name=f"Person {i}")).case_id for i in range(2)]
    with transaction(session_factory) as s:  # as the code before 0009 sealed them
        for case_id in cases:
            key = open_recovery_grant(s, case_id, recovery_key.private_key, KeyKind.IDENTITY)
            s.add(CaseGrant(case_id=case_id, epoch=1, key_kind=KeyKind.IDENTITY,
                            recipient=Recipient.REVIEWER, reviewer_id=ivy.id,
                            sealed_key=seal_to(_reviewer(s, ivy).public_key, key)))
        s.execute(delete(CaseGrant).where(CaseGrant.case_id == cases[1],
                                          CaseGrant.recipient == Recipient.RECOVERY))
    with transaction(session_factory) as s:
        result = withdraw_legacy_identity_grants(s, services)
    assert (result.withdrawn, result.kept) == (1, 1)
    with session_factory() as s:  # audited per case, as the system's (candor db upgrade)
        withdrawn = s.execute(select(AuditEvent.reviewer_id, AuditEvent.case_id,
                                     AuditEvent.detail).where(AuditEvent.action == str(
                                         AuditAction.IDENTITY_GRANT_WITHDRAWN))).all()
    assert [(who, case_id, json.loads(detail)) for who, case_id, detail in withdrawn] == [
        (None, cases[0], {"reviewer_id": ivy.id})]

    def identity_holders(case_id: int) -> set[int]:
        with session_factory() as s:
            return set(s.execute(select(CaseGrant.reviewer_id).where(
                CaseGrant.case_id == case_id, CaseGrant.key_kind == KeyKind.IDENTITY,
                CaseGrant.recipient == Recipient.REVIEWER)).scalars())

    assert identity_holders(cases[0]) == {keeper.id}
    assert identity_holders(cases[1]) == {keeper.id, ivy.id}
    with transaction(session_factory) as s:  # idempotent
        assert withdraw_legacy_identity_grants(s, services).withdrawn == 0
