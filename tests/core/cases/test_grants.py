"""core.cases.grants: who holds a sealed copy of which case key, and what opens it."""

from __future__ import annotations

import pytest

from core.audit.log import Actor
from core.cases.grants import (
    find_reviewer_grant,
    is_excluded,
    open_recovery_grant,
    open_reviewer_grant,
    open_submitter_grant,
)
from core.cases.team_changes import exclude_member, grant_case
from core.db import transaction
from core.errors import AccessDenied
from core.models import Case, KeyKind, Reviewer
from crypto.keys import generate_keypair
from crypto.receipt import derive_receipt_secrets
from tests.core.factories import add_reviewer, seed_categories, submit


@pytest.fixture
def granted(session_factory, services):
    ivy = add_reviewer(session_factory, services, "ivy")
    bob = add_reviewer(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    return submit(session_factory, services), ivy, bob


def test_each_reader_opens_the_same_case_key(session_factory, services, granted,
                                             recovery_key):
    case, ivy, _bob = granted
    secrets = derive_receipt_secrets(case.receipt_code, instance_salt=services.keyring.receipt_salt,
                                     pepper=services.keyring.pepper, profile=services.config.kdf)
    with session_factory() as s:
        by_reviewer = open_reviewer_grant(s, case.case_id, ivy.id, ivy.private_key,
                                          KeyKind.CASE)
        by_reporter = open_submitter_grant(s, s.get(Case, case.case_id),
                                           secrets.receipt_key).first_case_key
        by_recovery = open_recovery_grant(s, case.case_id, recovery_key.private_key,
                                          KeyKind.CASE)
        team = open_reviewer_grant(s, case.case_id, ivy.id, ivy.private_key, KeyKind.TEAM)
    assert by_reviewer == by_reporter == by_recovery and len(by_reviewer) == 32
    assert team != by_reviewer


def test_no_grant_or_the_wrong_key_is_a_refusal(session_factory, services, granted,
                                                recovery_key):
    case, ivy, bob = granted
    with session_factory() as s:
        assert find_reviewer_grant(s, case.case_id, bob.id, KeyKind.CASE) is None
        with pytest.raises(AccessDenied):
            open_reviewer_grant(s, case.case_id, bob.id, bob.private_key, KeyKind.CASE)
        with pytest.raises(AccessDenied):  # ivy's grant, someone else's key
            open_reviewer_grant(s, case.case_id, ivy.id, bob.private_key, KeyKind.CASE)
        with pytest.raises(AccessDenied):
            open_submitter_grant(s, s.get(Case, case.case_id), bytes(32))
        with pytest.raises(AccessDenied):
            open_recovery_grant(s, case.case_id, generate_keypair().private_key, KeyKind.CASE)


def test_an_excluded_member_is_refused_before_any_key_is_tried(session_factory, services,
                                                               granted):
    case, ivy, bob = granted
    with transaction(session_factory) as s:
        grant_case(s, services, ivy.unlocked, case.case_id, s.get(Reviewer, bob.id))
        exclude_member(s, services, Actor.system(), case.case_id, s.get(Reviewer, ivy.id))
    with session_factory() as s:
        assert is_excluded(s, case.case_id, ivy.id) and not is_excluded(s, case.case_id, bob.id)
        assert find_reviewer_grant(s, case.case_id, ivy.id, KeyKind.CASE) is None
        with pytest.raises(AccessDenied, match="excluded"):
            open_reviewer_grant(s, case.case_id, ivy.id, ivy.private_key, KeyKind.CASE)
        assert open_reviewer_grant(s, case.case_id, bob.id, bob.private_key, KeyKind.CASE)
