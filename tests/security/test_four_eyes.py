"""Finding 2 of the key-custody review: an admin alone cannot make an account that reads new
reports. Before, an admin created an account (seeing its passphrase), routed a category to it,
logged in as it and read the next report; the log showed only an account added and a routing
change. Now accounts and routing made in the console wait for a second admin, and an
unapproved account receives nothing even if routed by other means."""

from __future__ import annotations

import json

import pyotp
import pytest
from sqlalchemy import select

from core.audit.log import Actor
from core.categories.intake_routes import set_intake
from core.db import transaction
from core.errors import AccessDenied, InvalidInput
from core.models import (
    AuditEvent,
    CaseGrant,
    Category,
    ChangeKind,
    RequestStatus,
    Reviewer,
    Role,
    StaffChange,
)
from core.staff.accounts import deactivate_reviewer
from core.staff.approvals import (
    decide_change,
    pending_changes,
    request_account,
    request_display_name,
    request_intake,
    reset_with_approval,
)
from core.staff.authentication import confirm_totp
from core.staff.enrolment_codes import EnrolmentNotDone, WrongEnrolmentCode
from core.staff.passphrase_change import change_passphrase
from core.staff.passphrases import prepare_passphrase
from tests.core.factories import (
    add_reviewer,
    another_enrolment_code,
    audit_actions,
    enrolment_code_of,
    seed_categories,
    strong_passphrase,
    submit,
)


def _grants_of(session_factory, case_id: int, reviewer_id: int) -> list[CaseGrant]:
    with session_factory() as s:
        return list(s.execute(select(CaseGrant).where(
            CaseGrant.case_id == case_id, CaseGrant.reviewer_id == reviewer_id)).scalars())


@pytest.fixture
def admins(session_factory, services):
    return (add_reviewer(session_factory, services, "ada", Role.ADMIN),
            add_reviewer(session_factory, services, "ben", Role.ADMIN))


def _sock_puppet(session_factory, services, admin) -> int:
    """The admin's attack: an account whose one-time passphrase they saw, enrolled by them."""
    one_time = strong_passphrase("one-time")
    with transaction(session_factory) as s:
        created = request_account(s, services, Actor.reviewer(admin.id), username="mallory",
                                  role=Role.REVIEWER, passphrase=one_time)
        puppet = created.reviewer
        assert confirm_totp(s, services, puppet, pyotp.TOTP(created.totp_secret).now())
        change_passphrase(s, services, puppet, one_time, strong_passphrase("mallory"))
        return puppet.id


def test_an_unapproved_account_receives_nothing_even_when_routed(session_factory, services,
                                                                  admins):
    ada, _ben = admins
    ivy = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    puppet = _sock_puppet(session_factory, services, ada)
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        request_intake(s, services, Actor.reviewer(ada.id), "it_fault", ["ivy", "mallory"])
    with transaction(session_factory) as s:  # routed around the console (a database writer)
        set_intake(s, services.keyring,
                   "it_fault", [s.get(Reviewer, ivy.id), s.get(Reviewer, puppet)])
    case = submit(session_factory, services)
    assert _grants_of(session_factory, case.case_id, puppet) == []
    assert _grants_of(session_factory, case.case_id, ivy.id)  # control


def test_a_routing_change_grants_nothing_until_a_second_admin_approves(session_factory,
                                                                       services, admins):
    ada, ben = admins
    ivy = add_reviewer(session_factory, services, "ivy")
    puppet = _sock_puppet(session_factory, services, ada)
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    with transaction(session_factory) as s:  # the account itself: approved by the other admin
        (account,) = pending_changes(s)
        with pytest.raises(AccessDenied):  # not by the admin who asked
            decide_change(s, services, Actor.reviewer(ada.id), account.id, approve=True)
    with transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ben.id), account.id, approve=True,
                      code=enrolment_code_of(session_factory, services, puppet))
    with transaction(session_factory) as s:
        change = request_intake(s, services, Actor.reviewer(ada.id), "it_fault", ["mallory"])
        change_id = change.id
    first = submit(session_factory, services)
    assert _grants_of(session_factory, first.case_id, puppet) == []
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ada.id), change_id, approve=True)
    with transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ben.id), change_id, approve=True)
    with session_factory() as s:
        category = s.execute(select(Category).where(Category.code == "it_fault")).scalar_one()
        assert [r.id for r in category.intake_reviewers] == [puppet]
    second = submit(session_factory, services)
    assert _grants_of(session_factory, second.case_id, puppet)  # with both admins' consent


def test_an_unapproved_admin_cannot_be_the_second_pair_of_eyes(session_factory, services,
                                                               admins):
    ada, _ben = admins
    one_time = strong_passphrase("one-time")
    with transaction(session_factory) as s:
        accomplice = request_account(s, services, Actor.reviewer(ada.id), username="eve",
                                     role=Role.ADMIN, passphrase=one_time).reviewer.id
        reviewer = request_account(s, services, Actor.reviewer(ada.id), username="mallory",
                                   role=Role.REVIEWER, passphrase=one_time).reviewer
        change = next(c for c in pending_changes(s) if c.reviewer_id == reviewer.id)
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(accomplice), change.id, approve=True)


def test_an_admin_alone_cannot_rename_a_case_handler(session_factory, services, admins):
    """Outside tester: reporters leave handlers out by the names on the form, so one admin
    renaming handlers could make a reporter leave out the wrong one. A case handler's new
    name waits for another admin, is never one another account is shown under, and the
    requester's own approval is refused."""
    ada, ben = admins
    ivy = add_reviewer(session_factory, services, "ivy")
    add_reviewer(session_factory, services, "mel")
    with transaction(session_factory) as s:
        s.execute(select(Reviewer).where(Reviewer.username == "mel")).scalar_one() \
            .display_name = "Mel Chen"
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        request_display_name(s, services, Actor.reviewer(ada.id), "ivy", "mel chen")
    with pytest.raises(InvalidInput), transaction(session_factory) as s:  # not a handler
        request_display_name(s, services, Actor.reviewer(ada.id), "ben", "Ben B.")
    with pytest.raises(AccessDenied), transaction(session_factory) as s:  # not an admin
        request_display_name(s, services, Actor.reviewer(ivy.id), "ivy", "Ivy")
    with transaction(session_factory) as s:
        assert request_display_name(s, services, Actor.reviewer(ada.id), "ivy", None) is None
        change = request_display_name(s, services, Actor.reviewer(ada.id), "ivy", "Ivy Wu")
        assert change is not None
        change_id = change.id
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ada.id), change_id, approve=True)
    with session_factory() as s:
        assert s.get(Reviewer, ivy.id).display_name is None
        assert [c.id for c in pending_changes(s)] == [change_id]
    with transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ben.id), change_id, approve=True)
    with session_factory() as s:
        assert s.get(Reviewer, ivy.id).display_name == "Ivy Wu"
        assert pending_changes(s) == []


def test_a_routing_that_can_no_longer_apply_is_closed_not_left_pending(session_factory,
                                                                       services, admins):
    """Someone in an asked routing left before the second admin approved: the approval
    changes nothing, and the change is closed as refused (recorded as lapsed) instead of
    waiting in the list for ever."""
    ada, ben = admins
    ivy = add_reviewer(session_factory, services, "ivy")
    add_reviewer(session_factory, services, "kim")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    with transaction(session_factory) as s:
        change_id = request_intake(s, services, Actor.reviewer(ada.id), "it_fault",
                                   ["ivy", "kim"]).id
    size = len(audit_actions(session_factory))
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "kim")
    with transaction(session_factory) as s:
        change = decide_change(s, services, Actor.reviewer(ben.id), change_id, approve=True)
        assert change.status is RequestStatus.REFUSED
    with session_factory() as s:
        category = s.execute(select(Category).where(Category.code == "it_fault")).scalar_one()
        assert [r.id for r in category.intake_reviewers] == [ivy.id]
        assert pending_changes(s) == []
        decided = s.execute(select(AuditEvent).where(AuditEvent.position >= size)
                            .order_by(AuditEvent.position)).scalars().all()
    assert [e.action for e in decided] == ["reviewer:deactivate", "admin:change:decide"]
    assert json.loads(decided[-1].detail)["lapsed"] is True


def test_a_reset_by_one_admin_waits_for_another(session_factory, services, admins):
    """Attack (outside tester): an admin reset a routed handler's passphrase and TOTP in the
    console, saw both, logged in as the handler, enrolled a key pair of their own and read
    the next report. Now the reset account waits for a second admin: until then nothing is
    sealed to it, and the admin who reset it cannot approve it."""
    ada, ben = admins
    ivy = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    one_time = strong_passphrase("reset")
    with transaction(session_factory) as s:
        reset_with_approval(s, services, Actor.reviewer(ada.id), "ivy",
                            prepare_passphrase(one_time, services.config.kdf))
    with transaction(session_factory) as s:  # the admin, as ivy, enrols a key pair
        ivy_row = s.get(Reviewer, ivy.id)
        assert ivy_row is not None and not ivy_row.approved
        change_passphrase(s, services, ivy_row, one_time, strong_passphrase("admin's own"))
        (waiting,) = pending_changes(s)
        assert waiting.kind is ChangeKind.RESET and waiting.reviewer_id == ivy.id
    first = submit(session_factory, services)
    assert _grants_of(session_factory, first.case_id, ivy.id) == []
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ada.id), waiting.id, approve=True)
    # The second admin asks ivy for the code on her screen: she has none (the admin enrolled
    # in her name), so nothing they can type approves the account.
    code = enrolment_code_of(session_factory, services, ivy.id)
    for typed in (None, "", another_enrolment_code(code)):
        with pytest.raises(WrongEnrolmentCode), transaction(session_factory) as s:
            decide_change(s, services, Actor.reviewer(ben.id), waiting.id, approve=True,
                          code=typed)
    with session_factory() as s:
        assert s.get(StaffChange, waiting.id).status is RequestStatus.PENDING
        assert not s.get(Reviewer, ivy.id).approved
    assert _grants_of(session_factory, submit(session_factory, services).case_id, ivy.id) == []
    # Only the code of the key pair enrolled (what its enroller's screen shows) approves it:
    # here the admin's, read to a second admin who did not ask ivy herself.
    with transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ben.id), waiting.id, approve=True,
                      code=code.replace(" ", "-"))
    second = submit(session_factory, services)
    assert _grants_of(session_factory, second.case_id, ivy.id)  # with both admins' consent


def test_an_account_is_approved_only_once_its_owner_has_enrolled(session_factory, services,
                                                                 admins):
    """Before enrolment there is no code: approving refuses, and the change stays pending."""
    ada, ben = admins
    with transaction(session_factory) as s:
        created = request_account(s, services, Actor.reviewer(ada.id), username="kai",
                                  role=Role.REVIEWER, passphrase=strong_passphrase("one"))
        (waiting,) = pending_changes(s)
    with pytest.raises(EnrolmentNotDone), transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ben.id), waiting.id, approve=True,
                      code="0000 0000 0000")
    with transaction(session_factory) as s:  # a refusal needs no code
        decide_change(s, services, Actor.reviewer(ben.id), waiting.id, approve=False)
        assert s.get(StaffChange, waiting.id).status is RequestStatus.REFUSED
        assert not s.get(Reviewer, created.reviewer.id).approved


def test_an_admin_resetting_their_own_passphrase_waits_for_nobody(session_factory, services,
                                                                   admins):
    ada, _ben = admins
    with transaction(session_factory) as s:
        reset_with_approval(s, services, Actor.reviewer(ada.id), "ada",
                            prepare_passphrase(strong_passphrase("mine"), services.config.kdf))
        assert pending_changes(s) == []
        assert s.get(Reviewer, ada.id).approved


def test_a_reset_withdraws_what_was_waiting_for_the_account(session_factory, services, admins):
    """Outside tester: an admin reset an account another admin had asked for (or reset),
    then approved that other request: the reset had no second pair of eyes. Each reset now
    withdraws what was waiting and waits itself, for an admin other than the one who reset."""
    ada, ben = admins
    with transaction(session_factory) as s:
        carol = request_account(s, services, Actor.reviewer(ben.id), username="carol",
                                role=Role.REVIEWER, passphrase=strong_passphrase("one"))
        carol_id = carol.reviewer.id
    for who, other in ((ada, ben), (ben, ada)):  # a reset of a reset too
        one_time = strong_passphrase(who.username)
        with transaction(session_factory) as s:
            reset_with_approval(s, services, Actor.reviewer(who.id), "carol",
                                prepare_passphrase(one_time, services.config.kdf))
            (waiting,) = pending_changes(s)
            assert (waiting.kind, waiting.requested_by) == (ChangeKind.RESET, who.id)
        with pytest.raises(AccessDenied), transaction(session_factory) as s:
            decide_change(s, services, Actor.reviewer(who.id), waiting.id, approve=True)
    with transaction(session_factory) as s:  # carol enrols with the last one-time passphrase
        row = s.get(Reviewer, carol_id)
        assert confirm_totp(s, services, row, pyotp.TOTP(carol.totp_secret).now())
        change_passphrase(s, services, row, one_time, strong_passphrase("carol"))
    with transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(other.id), waiting.id, approve=True,
                      code=enrolment_code_of(session_factory, services, carol_id))
        assert s.get(Reviewer, carol_id).approved
        assert [c.status for c in s.execute(select(StaffChange).where(
            StaffChange.reviewer_id == carol_id).order_by(StaffChange.id)).scalars()] == [
            RequestStatus.WITHDRAWN, RequestStatus.WITHDRAWN, RequestStatus.APPROVED]


def test_a_public_key_written_into_a_waiting_account_gives_no_code(session_factory, services,
                                                                   admins):
    """A database writer who puts their own public key on an enrolled account waiting for
    approval cannot have it approved: the code is only ever derived from a key Candor vouches
    for, so the owner's code no longer approves, and no other code does."""
    from crypto.keys import generate_keypair

    ada, ben = admins
    puppet = _sock_puppet(session_factory, services, ada)
    code = enrolment_code_of(session_factory, services, puppet)
    with transaction(session_factory) as s:
        s.get(Reviewer, puppet).public_key = generate_keypair().public_key
        (waiting,) = pending_changes(s)
    with pytest.raises(EnrolmentNotDone), transaction(session_factory) as s:
        decide_change(s, services, Actor.reviewer(ben.id), waiting.id, approve=True,
                      code=code)
    with session_factory() as s:
        assert not s.get(Reviewer, puppet).approved
