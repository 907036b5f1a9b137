"""Staff accounts."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from core.cases.casework import UnlockedReviewer, read_case_for_reviewer
from core.db import transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.models import CaseGrant, Recipient, Reviewer, ReviewerSession, Role
from core.staff.accounts import (
    add_reviewer,
    get_reviewer,
    list_reviewers,
    reset_totp,
    totp_secret,
)
from core.staff.keys import tag_standing
from core.staff.passphrase_change import change_passphrase
from core.staff.passphrases import verify_passphrase
from crypto.errors import CryptoError, DecryptionError
from crypto.keys import open_sealed
from crypto.reviewer_keys import unwrap_private_key
from tests.core import factories
from tests.core.factories import seed_categories, strong_passphrase, submit

GOOD = "correct horse battery staple 42"


def create(session_factory, services, username, passphrase=GOOD, role=Role.REVIEWER):
    with transaction(session_factory) as s:
        return add_reviewer(s, services, username=username, role=role, passphrase=passphrase)


@pytest.mark.parametrize("username", ["ab", "alice", "a.b-c_d", "x" * 63, "9lives"])
def test_valid_usernames(session_factory, services, username):
    created = create(session_factory, services, username)
    assert created.reviewer.username == username


def test_username_is_normalised(session_factory, services):
    created = create(session_factory, services, "  Alice.Smith ")
    assert created.reviewer.username == "alice.smith"
    with session_factory() as s:
        assert get_reviewer(s, "alice.smith").id == created.reviewer.id


@pytest.mark.parametrize(
    "username",
    [
        "a",
        "",
        "x" * 64,
        "-alice",
        ".alice",
        "al ice",
        "alice@corp",
        "ali/ce",
        "张三",
        "ali\nce",
        "x\n\n",
    ],
)
def test_invalid_usernames(session_factory, services, username):
    with pytest.raises(InvalidInput) as info:
        create(session_factory, services, username)
    assert info.value.field == "username"
    with session_factory() as s:
        assert list_reviewers(s) == []


def test_duplicate_username_is_a_conflict(session_factory, services):
    create(session_factory, services, "bob")
    for again in ("bob", "BOB", " Bob "):
        with pytest.raises(Conflict):
            create(session_factory, services, again, passphrase=strong_passphrase())
    with session_factory() as s:
        assert len(list_reviewers(s)) == 1


@pytest.mark.parametrize(
    "passphrase",
    [
        "password1234",
        "aaaaaaaaaaaaaaaa",
        "123456789012",
        "qwertyuiopasdf",
        "carolcarol2024",
        "candorcandor1",
    ],
)
def test_weak_passphrase_is_refused(session_factory, services, passphrase):
    assert len(passphrase) >= 12
    with pytest.raises(InvalidInput) as info:
        create(session_factory, services, "carol", passphrase=passphrase)
    assert info.value.field == "passphrase"


@pytest.mark.parametrize("passphrase", ["", "Xq7#", "Zr9!kP2@wL4"])
def test_short_passphrase_is_refused(session_factory, services, passphrase):
    assert len(passphrase) < 12
    with pytest.raises(InvalidInput) as info:
        create(session_factory, services, "carol", passphrase=passphrase)
    assert info.value.field == "passphrase"


def test_new_account(session_factory, services):
    created = create(session_factory, services, "dora", role=Role.ADMIN)
    r = created.reviewer
    assert r.role is Role.ADMIN and r.active and r.must_change_passphrase
    assert GOOD not in r.passphrase_hash
    assert verify_passphrase(r.passphrase_hash, GOOD, services.config.kdf)
    assert not verify_passphrase(r.passphrase_hash, GOOD + "!", services.config.kdf)
    # No key pair under a passphrase an admin chose: the owner makes it at enrolment.
    assert r.public_key is None and r.wrapped_private_key is None and r.public_key_tag is None
    assert not r.totp_confirmed
    assert totp_secret(services, r) == created.totp_secret
    assert created.totp_secret.encode() not in r.totp_secret_wrapped
    assert created.provisioning_uri.startswith("otpauth://totp/")
    assert "dora" in created.provisioning_uri
    pyotp.TOTP(created.totp_secret).now()  # a usable base32 secret


def test_change_passphrase_keeps_the_key_pair(session_factory, services):
    ivy = factories.add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    case = submit(session_factory, services)
    new = strong_passphrase("new")
    with transaction(session_factory) as s:
        reviewer = s.get(Reviewer, ivy.id)
        public_before = reviewer.public_key
        change_passphrase(s, services, reviewer, ivy.passphrase, new)
    with session_factory() as s:
        reviewer = s.get(Reviewer, ivy.id)
        assert reviewer.public_key == public_before
        assert not reviewer.must_change_passphrase
        assert verify_passphrase(reviewer.passphrase_hash, new, services.config.kdf)
        assert not verify_passphrase(reviewer.passphrase_hash, ivy.passphrase, services.config.kdf)
        private = unwrap_private_key(reviewer.wrapped_private_key, new)
        with pytest.raises(DecryptionError):
            unwrap_private_key(reviewer.wrapped_private_key, ivy.passphrase)
        grant = (
            s.execute(
                select(CaseGrant).where(
                    CaseGrant.reviewer_id == ivy.id, CaseGrant.recipient == Recipient.REVIEWER
                )
            )
            .scalars()
            .first()
        )
    assert private == ivy.private_key
    assert len(open_sealed(private, grant.sealed_key)) == 32  # the old grant still opens
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, UnlockedReviewer(ivy.id, private), case.case_id)
    assert view.reference == case.reference


def test_change_passphrase_refusals(session_factory, services):
    ivy = factories.add_reviewer(session_factory, services, "ivy")
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        change_passphrase(s, services, s.get(Reviewer, ivy.id), ivy.passphrase, ivy.passphrase)
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        change_passphrase(s, services, s.get(Reviewer, ivy.id), ivy.passphrase, "password1234")
    with pytest.raises((InvalidInput, CryptoError)), transaction(session_factory) as s:
        change_passphrase(
            s, services, s.get(Reviewer, ivy.id), "wrong old passphrase 99", strong_passphrase()
        )
    with session_factory() as s:
        reviewer = s.get(Reviewer, ivy.id)
        assert unwrap_private_key(reviewer.wrapped_private_key, ivy.passphrase) == ivy.private_key
        assert not reviewer.must_change_passphrase  # (the factory completed enrolment)


def test_reset_totp_gives_a_new_secret_and_ends_sessions(session_factory, services):
    created = create(session_factory, services, "erin")
    rid = created.reviewer.id
    now = services.clock.now()
    with transaction(session_factory) as s:
        reviewer = s.get(Reviewer, rid)
        reviewer.totp_confirmed = True
        reviewer.totp_last_step = 12345
        tag_standing(services.keyring, reviewer)  # as an enrolment does
        s.add(
            ReviewerSession(
                id_hash=b"\x01" * 32,
                reviewer_id=rid,
                sealed_private_key=b"x",
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=1),
                reauthenticated_at=now,
            )
        )
    with transaction(session_factory) as s:
        renewed = reset_totp(s, services, "erin")
    assert renewed.totp_secret != created.totp_secret
    with session_factory() as s:
        reviewer = s.get(Reviewer, rid)
        assert totp_secret(services, reviewer) == renewed.totp_secret
        assert not reviewer.totp_confirmed and reviewer.totp_last_step is None
        assert s.execute(select(ReviewerSession)).first() is None
    with pytest.raises(NotFound), transaction(session_factory) as s:
        reset_totp(s, services, "nobody")


def test_list_reviewers_active_first_then_by_name(session_factory, services):
    from core.staff.accounts import deactivate_reviewer

    for name in ("mike", "anna", "zoe", "bert", "carl"):
        create(session_factory, services, name, passphrase=strong_passphrase())
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "anna")
        deactivate_reviewer(s, services, "zoe")
    with session_factory() as s:
        names = [r.username for r in list_reviewers(s)]
    assert names == ["bert", "carl", "mike", "anna", "zoe"]


def test_get_reviewer_unknown(session_factory):
    with session_factory() as s, pytest.raises(NotFound):
        get_reviewer(s, "ghost")
    # Not even looked up: PostgreSQL text cannot hold NUL.
    with session_factory() as s, pytest.raises(NotFound):
        get_reviewer(s, "gh\x00st")


def test_the_last_active_admin_cannot_be_deactivated(session_factory, services):
    """Outside tester: one POST deactivated the only admin, leaving nobody to administer the
    console or approve anything. Another admin first; an unapproved one does not count."""
    from core.staff.accounts import LastAdminError, deactivate_reviewer

    create(session_factory, services, "ada", role=Role.ADMIN, passphrase=strong_passphrase())
    create(session_factory, services, "ben", role=Role.ADMIN, passphrase=strong_passphrase())
    with transaction(session_factory) as s:
        s.execute(select(Reviewer).where(Reviewer.username == "ben")).scalar_one() \
            .approved = False
    with pytest.raises(LastAdminError), transaction(session_factory) as s:
        deactivate_reviewer(s, services, "ada")
    create(session_factory, services, "cy", role=Role.ADMIN, passphrase=strong_passphrase())
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "ada")
    with pytest.raises(LastAdminError), transaction(session_factory) as s:
        deactivate_reviewer(s, services, "cy")
