"""Account standing (core.staff.keys.tag_standing): a database writer without the instance
secrets flips the columns that decide who may log in and what is sealed to whom. Each attack
worked before migration 0018 (outside tester); each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from core.audit.log import Actor, AuditAction
from core.db import transaction
from core.errors import Conflict
from core.models import Role
from core.staff.accounts import get_reviewer, totp_secret
from core.staff.approvals import request_account
from core.staff.keys import (
    TamperedStanding,
    confirm_standing,
    sealing_key,
    standing_change,
    standing_trusted,
)
from core.staff.login import authenticate
from core.staff.overview import untrusted_keys
from tests.core.factories import (
    add_reviewer,
    audit_actions,
    seed_categories,
    strong_passphrase,
    submit,
)
from tests.security.key_custody_support import IDENTITY, Factory, grants_of, key_alarms, write_sql


def _routed_report_reaches(sf: Factory, services, reviewer_id: int) -> bool:
    """Whether a new report in it_fault is sealed to the account."""
    case_id = submit(sf, services).case_id
    return bool(grants_of(sf, case_id, reviewer_id))


def test_flipping_approved_routes_nothing_to_an_unapproved_account(sf_services) -> None:
    """Attack: an account waiting for a second admin, enrolled by the admin who made it, set
    `approved = true` by SQL and routed: it read the next report."""
    sf, services = sf_services
    ada = add_reviewer(sf, services, "ada", Role.ADMIN)
    ivy = add_reviewer(sf, services, "ivy")
    with transaction(sf) as s:
        eve = request_account(s, services, Actor.reviewer(ada.id), username="eve",
                              role=Role.REVIEWER, passphrase=strong_passphrase("one")).reviewer
        eve_id = eve.id
    seed_categories(sf, {"it_fault": [ivy.id]}, services=services)
    write_sql(sf, "UPDATE reviewers SET approved = :yes WHERE id = :id", yes=True, id=eve_id)
    write_sql(sf, "INSERT INTO category_intake (category_id, reviewer_id) "
                  "SELECT id, :id FROM categories WHERE code = 'it_fault'", id=eve_id)
    assert not _routed_report_reaches(sf, services, eve_id)
    assert _routed_report_reaches(sf, services, ivy.id)  # control
    with sf() as s:
        assert "eve" in [r.username for r in untrusted_keys(s, services.keyring)]


@pytest.mark.parametrize("column", ["identity_custodian", "role"])
def test_flipping_a_role_seals_nothing_to_it(sf_services, column: str) -> None:
    """Attack: `identity_custodian = true` got the next confidential report's identity key
    sealed to a handler; an admin made `reviewer` by SQL and routed read the next report."""
    sf, services = sf_services
    ivy = add_reviewer(sf, services, "ivy")
    if column == "role":
        mal = add_reviewer(sf, services, "bob", Role.ADMIN)
        write_sql(sf, "UPDATE reviewers SET role = 'reviewer' WHERE id = :id", id=mal.id)
    else:
        mal = add_reviewer(sf, services, "mal")
        write_sql(sf, "UPDATE reviewers SET identity_custodian = :yes WHERE id = :id",
                  yes=True, id=mal.id)
    seed_categories(sf, {"it_fault": [ivy.id, mal.id]}, services=services)
    case_id = submit(sf, services, identity=IDENTITY).case_id
    assert grants_of(sf, case_id, mal.id) == []
    assert grants_of(sf, case_id, ivy.id)  # control
    with sf() as s:  # the admin dashboard's alarm (the submission's own is the reporter's
        # event, queued until the day ends)
        assert [r.username for r in untrusted_keys(s, services.keyring)] == [mal.username]


def test_a_copied_passphrase_hash_logs_in_to_nothing(sf_services) -> None:
    """Attack: the hash of a passphrase the writer knew, copied onto a routed handler with
    its keys cleared and its TOTP unconfirmed, logged in and enrolled a key pair of the
    writer's: the server signed it, and the next report was sealed to it."""
    sf, services = sf_services
    known = strong_passphrase("known")
    add_reviewer(sf, services, "mal", passphrase=known)
    ivy = add_reviewer(sf, services, "ivy")
    write_sql(sf, "UPDATE reviewers SET passphrase_hash = (SELECT passphrase_hash FROM "
                  "reviewers WHERE username = 'mal'), wrapped_private_key = NULL, "
                  "public_key = NULL, public_key_tag = NULL, totp_confirmed = :no, "
                  "must_change_passphrase = :yes WHERE id = :id", no=False, yes=True,
              id=ivy.id)
    with transaction(sf) as s:
        result = authenticate(s, services, "ivy", known, None)
    assert not result.ok
    assert {"reviewer_id": ivy.id, "where": "standing"} in key_alarms(sf)
    actions = audit_actions(sf)
    assert actions[-2:] == [str(AuditAction.KEY_REJECTED), str(AuditAction.LOGIN_FAILED)]


def test_the_operator_confirms_a_standing_once_checked(sf_services) -> None:
    sf, services = sf_services
    ivy = add_reviewer(sf, services, "ivy")
    seed_categories(sf, {"it_fault": [ivy.id]}, services=services)
    with transaction(sf) as s, pytest.raises(Conflict):  # nothing to confirm
        confirm_standing(s, services, get_reviewer(s, "ivy"))
    write_sql(sf, "UPDATE reviewers SET identity_custodian = :yes WHERE id = :id",
              yes=True, id=ivy.id)
    assert not _routed_report_reaches(sf, services, ivy.id)
    with transaction(sf) as s:
        confirm_standing(s, services, get_reviewer(s, "ivy"))
    with sf() as s:
        reviewer = get_reviewer(s, "ivy")
        assert standing_trusted(services.keyring, reviewer)
        assert sealing_key(services.keyring, reviewer) == reviewer.public_key
    assert _routed_report_reaches(sf, services, ivy.id)
    assert str(AuditAction.STANDING_CONFIRMED) in audit_actions(sf)


@pytest.fixture
def sf_services(session_factory, services):
    return session_factory, services


def test_a_session_row_written_by_sql_is_no_session(sf_services) -> None:
    """Outside tester: a row in reviewer_sessions, with a cookie made to match, logged the
    writer in as each admin in turn; two forged admins approved an account of theirs."""
    import hashlib

    from core.models import ReviewerSession
    from core.session_tokens import new_session_token
    from core.staff.authentication import load_session
    from crypto.keys import wrap

    sf, services = sf_services
    ada = add_reviewer(sf, services, "ada", Role.ADMIN)
    token = new_session_token()
    now = services.clock.now()
    with transaction(sf) as s:
        s.add(ReviewerSession(id_hash=token.id_hash, reviewer_id=ada.id,
                              sealed_private_key=wrap(token.secret, b"\x01" * 32),
                              created_at=now, last_seen_at=now,
                              expires_at=now + timedelta(hours=1), reauthenticated_at=now))
    assert token.id_hash == hashlib.sha256(token.session_id).digest()
    with transaction(sf) as s:
        assert load_session(s, services, token) is None
        assert s.get(ReviewerSession, token.id_hash) is None  # and it is gone


def test_a_flag_flipped_under_a_live_session_ends_it(sf_services) -> None:
    """Outside tester: a handler made `admin` by SQL kept a live session acting as admin."""
    from core.staff.authentication import load_session

    sf, services = sf_services
    ivy = add_reviewer(sf, services, "ivy")
    with transaction(sf) as s:
        result = authenticate(s, services, "ivy", ivy.passphrase,
                              pyotp.TOTP(totp_secret(services, get_reviewer(s, "ivy")))
                              .at(services.clock.now()))
    assert result.ok and result.token is not None
    write_sql(sf, "UPDATE reviewers SET role = 'admin' WHERE id = :id", id=ivy.id)
    with transaction(sf) as s:
        assert load_session(s, services, result.token) is None
    assert {"reviewer_id": ivy.id, "where": "standing"} in key_alarms(sf)


def test_a_change_through_candor_does_not_vouch_for_a_flipped_flag(sf_services) -> None:
    """Outside tester: the owner's own passphrase change re-tagged a custodian flag they had
    set by SQL, clearing the alarm; a second admin's approval re-tagged a planted hash."""
    from core.staff.passphrase_change import change_passphrase

    sf, services = sf_services
    ivy = add_reviewer(sf, services, "ivy")
    write_sql(sf, "UPDATE reviewers SET identity_custodian = :yes WHERE id = :id", yes=True,
              id=ivy.id)
    with pytest.raises(TamperedStanding), transaction(sf) as s:
        change_passphrase(s, services, get_reviewer(s, "ivy"), ivy.passphrase,
                          strong_passphrase("new"))
    with sf() as s:
        assert not standing_trusted(services.keyring, get_reviewer(s, "ivy"))


def test_the_operator_is_told_what_was_flipped(sf_services) -> None:
    """Before vouching for an account (`candor reviewer confirm`), the operator learns from
    its tag which role or flags a writer changed, or that the passphrase hash (or the tag)
    was: no flag combination explains a copied hash."""
    sf, services = sf_services
    ada = add_reviewer(sf, services, "ada", Role.ADMIN)
    ivy = add_reviewer(sf, services, "ivy")
    with sf() as s:
        assert standing_change(services.keyring, get_reviewer(s, "ivy")) is None
    write_sql(sf, "UPDATE reviewers SET role = 'admin', identity_custodian = :yes "
                  "WHERE id = :id", yes=True, id=ivy.id)
    with sf() as s:
        change = standing_change(services.keyring, get_reviewer(s, "ivy"))
    assert change is not None and not change.passphrase_or_tag
    assert change.changed == (("role", "reviewer", "admin"),
                              ("identity_custodian", "no", "yes"))
    write_sql(sf, "UPDATE reviewers SET passphrase_hash = (SELECT passphrase_hash FROM "
                  "reviewers WHERE id = :ada) WHERE id = :ivy", ada=ada.id, ivy=ivy.id)
    with sf() as s:
        change = standing_change(services.keyring, get_reviewer(s, "ivy"))
    assert change is not None and change.passphrase_or_tag and change.changed == ()
