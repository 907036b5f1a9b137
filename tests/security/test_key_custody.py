"""Issue #12, key custody: attacks by someone who can read or write the database (and, for
finding 1, who also set an account's first passphrase). Each test's docstring names the attack
that worked on the old design. Every test runs on SQLite and PostgreSQL. Findings 1 and 3
here; 4 to 7 (key epochs, exclusions, bound records, public keys) in
test_key_custody_records.py."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import text

from core.cases.content import Identity
from core.cases.contexts import identity_context
from core.cases.identity_access import reveal_identity
from core.cases.identity_requests import (
    decide_identity_request,
    identity_disclosures,
    request_identity,
)
from core.cases.team_changes import grant_case
from core.db import transaction
from core.errors import AccessDenied, Conflict
from core.models import (
    Case,
    CaseMember,
    KeyKind,
    Role,
)
from core.services import Services
from core.staff.accounts import add_reviewer as create_account
from core.staff.accounts import reset_passphrase
from core.staff.authentication import confirm_totp
from core.staff.keys import tag_standing
from core.staff.passphrase_change import change_passphrase
from crypto.errors import CryptoError, DecryptionError
from crypto.keys import KeyPair
from crypto.records import decrypt_record
from crypto.reviewer_keys import unwrap_private_key
from tests.core.factories import (
    add_reviewer,
    seed_categories,
    strong_passphrase,
    submit,
)
from tests.security.key_custody_support import (
    IDENTITY,
    Factory,
    Team,
    account,
    grants_of,
    key_alarms,
    opens,
    requester_turned_custodian,
)

# --- Finding 1: no key pair under a passphrase the admin knows --------------------------------


def test_admin_copy_of_a_new_account_opens_no_grant(
        session_factory: Factory, services: Services) -> None:
    """Attack (old design): the key pair was made at creation under the admin's one-time
    passphrase; a copy of the reviewers row plus that passphrase gave the private key, which a
    passphrase change only re-wrapped, so every later grant opened for the admin."""
    one_time, own = strong_passphrase("one-time"), strong_passphrase("own")
    with transaction(session_factory) as s:
        created = create_account(s, services, username="ivy", role=Role.REVIEWER,
                                 passphrase=one_time)
        ivy_id = created.reviewer.id
    with session_factory() as s:  # the admin's copy, before the owner's first login
        copied = s.execute(text("select * from reviewers where id = :id"),
                           {"id": ivy_id}).mappings().one()
    with transaction(session_factory) as s:
        assert confirm_totp(s, services, account(s, ivy_id), pyotp.TOTP(created.totp_secret).now())
        change_passphrase(s, services, account(s, ivy_id), one_time, own)
        account(s, ivy_id).identity_custodian = True
        tag_standing(services.keyring, account(s, ivy_id))  # as set_custodian does
    seed_categories(session_factory, {"it_fault": [ivy_id]}, services=services)
    case = submit(session_factory, services, identity=IDENTITY)

    assert copied["public_key"] is None and copied["wrapped_private_key"] is None
    with session_factory() as s:
        wrapped = account(s, ivy_id).wrapped_private_key
    assert wrapped is not None
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped, one_time)
    # Control: the owner's passphrase opens every kind, so the grants the admin missed exist.
    grants = grants_of(session_factory, case.case_id, ivy_id)
    assert {kind for _, kind, _ in grants} == {KeyKind.CASE, KeyKind.TEAM, KeyKind.IDENTITY}
    assert all(opens(unwrap_private_key(wrapped, own), sealed) for _, _, sealed in grants)


def test_a_reset_leaves_the_admin_no_key(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): a reset made a new key pair under the temporary passphrase the
    admin was shown; the cases re-granted to it then opened for the admin."""
    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    with transaction(session_factory) as s:
        temporary = reset_passphrase(s, services, "ivy")
    with session_factory() as s:
        ivy_account = account(s, ivy.id)
        assert ivy_account.public_key is None and ivy_account.wrapped_private_key is None
    assert grants_of(session_factory, case_id, ivy.id) == []
    own = strong_passphrase("own")
    with transaction(session_factory) as s:
        change_passphrase(s, services, account(s, ivy.id), temporary, own)
    with transaction(session_factory) as s:  # a teammate re-grants the case
        grant_case(s, services, kai.unlocked, case_id, account(s, ivy.id))
    with session_factory() as s:
        wrapped = account(s, ivy.id).wrapped_private_key
    assert wrapped is not None
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped, temporary)
    regranted = grants_of(session_factory, case_id, ivy.id)
    assert regranted and all(opens(unwrap_private_key(wrapped, own), g[2]) for g in regranted)


def test_an_account_not_enrolled_is_not_routed(
        session_factory: Factory, services: Services) -> None:
    """Attack (old design): an account the admin had just created (keys under the admin's
    passphrase) was routed new reports at once, before its owner ever logged in. Now it is
    left out quietly (no false key alarm) and cannot be granted."""
    ivy = add_reviewer(session_factory, services, "ivy")
    with transaction(session_factory) as s:
        pending = create_account(s, services, username="newbie", role=Role.REVIEWER,
                                 passphrase=strong_passphrase("one-time")).reviewer.id
    seed_categories(session_factory, {"it_fault": [pending, ivy.id]}, services=services)
    case = submit(session_factory, services)
    assert grants_of(session_factory, case.case_id, pending) == []
    with session_factory() as s:
        assert s.get(CaseMember, (case.case_id, pending)) is None
        assert s.get(CaseMember, (case.case_id, ivy.id)) is not None
    assert key_alarms(session_factory) == []
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        grant_case(s, services, ivy.unlocked, case.case_id, account(s, pending))


# --- Finding 3: identity keys only for custodians; two people to reveal ----------------------


def test_an_intake_handler_cannot_open_the_identity(
        session_factory: Factory, services: Services) -> None:
    """Attack (old design): the identity key was sealed to every intake handler, so a handler
    with a database dump read the reporter's name without asking anyone."""
    ivy = add_reviewer(session_factory, services, "ivy")
    cora = add_reviewer(session_factory, services, "cora", custodian=True)
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    case = submit(session_factory, services, identity=IDENTITY)
    with session_factory() as s:
        row = s.get(Case, case.case_id)
        assert row is not None and row.identity_ciphertext is not None
        ciphertext, context = row.identity_ciphertext, identity_context(row.reference)

    def reads_identity(private_key: bytes) -> bool:
        """Whether any grant row of the case, opened with this key, decrypts the identity."""
        for _, _, sealed in grants_of(session_factory, case.case_id):
            key = opens(private_key, sealed)
            try:
                if key and Identity.from_bytes(decrypt_record(key, ciphertext, context)):
                    return True
            except CryptoError:
                continue
        return False

    held = {kind for _, kind, _ in grants_of(session_factory, case.case_id, ivy.id)}
    assert held == {KeyKind.CASE, KeyKind.TEAM}
    assert not reads_identity(ivy.private_key)
    assert reads_identity(cora.private_key)  # control: the check can succeed


def test_revealing_takes_a_custodian(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): any team member revealed the identity alone. Now a team member
    asks, a non-custodian cannot approve, an identity custodian can; the day is listed."""
    ivy, kai = team["ivy"], team["kai"]
    cora = add_reviewer(session_factory, services, "cora", custodian=True)
    case_id = submit(session_factory, services, identity=IDENTITY).case_id
    with transaction(session_factory) as s:
        request_id = request_identity(s, services, ivy.unlocked, case_id, "to interview").id
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        reveal_identity(s, services, ivy.unlocked, case_id, "curious")
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        decide_identity_request(s, services, kai.unlocked, request_id, approve=True)
    with session_factory() as s:
        assert identity_disclosures(s, services.keyring, case_id) == []
    with transaction(session_factory) as s:
        decide_identity_request(s, services, cora.unlocked, request_id, approve=True)
    with transaction(session_factory) as s:
        assert reveal_identity(s, services, ivy.unlocked, case_id, "interview") == IDENTITY
        assert identity_disclosures(s, services.keyring, case_id) == [services.clock.today()]


def test_a_requester_cannot_approve_their_own_request(
        session_factory: Factory, services: Services, recovery_key: KeyPair, team: Team) -> None:
    """Even holding the identity key, the requester cannot record a disclosure as approved."""
    case_id, request_id, _ = requester_turned_custodian(session_factory, services, team,
                                                         recovery_key)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        decide_identity_request(s, services, team["ivy"].unlocked, request_id, approve=True)
    with session_factory() as s:
        assert identity_disclosures(s, services.keyring, case_id) == []


def test_a_custodian_on_the_team_cannot_reveal_alone(
        session_factory: Factory, services: Services, recovery_key: KeyPair, team: Team) -> None:
    """Attack (outside tester): a custodian on the case team holds the identity key by their
    role and opened the reporter's name alone; nobody approved, and the reporter's page never
    said so. Now they ask like any member, another custodian approves (no second grant: they
    hold the key), and only then does it open, with the day shown to the reporter."""
    case_id, request_id, cora = requester_turned_custodian(session_factory, services, team,
                                                            recovery_key)
    ivy = team["ivy"]
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        reveal_identity(s, services, ivy.unlocked, case_id, "I hold the key")
    with session_factory() as s:
        assert identity_disclosures(s, services.keyring, case_id) == []
    grants = len(grants_of(session_factory, case_id, ivy.id))
    with transaction(session_factory) as s:
        decide_identity_request(s, services, cora.unlocked, request_id, approve=True)
    assert len(grants_of(session_factory, case_id, ivy.id)) == grants
    with transaction(session_factory) as s:
        assert reveal_identity(s, services, ivy.unlocked, case_id, "interview") == IDENTITY
        assert identity_disclosures(s, services.keyring, case_id) == [services.clock.today()]
    with transaction(session_factory) as s, pytest.raises(Conflict):  # nothing left to ask
        request_identity(s, services, ivy.unlocked, case_id, "again")
