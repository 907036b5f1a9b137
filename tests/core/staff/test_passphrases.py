"""core.staff.passphrases: the passphrase policy and Argon2id hashing of staff passphrases."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.staff.passphrases import (
    MIN_LENGTH,
    check_passphrase_policy,
    hash_passphrase,
    needs_rehash,
    verify_passphrase,
)
from crypto.kdf import KdfProfile

CHEAP = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)
OTHER = KdfProfile(time_cost=2, memory_kib=8, parallelism=1)


def test_the_policy_wants_length_then_unguessability() -> None:
    with pytest.raises(InvalidInput, match="at least 12"):
        check_passphrase_policy("x" * (MIN_LENGTH - 1))
    with pytest.raises(InvalidInput, match="too easy"):
        check_passphrase_policy("password1234")
    with pytest.raises(InvalidInput, match="too easy"):
        check_passphrase_policy("alice.wong2026", username="alice.wong2026")
    check_passphrase_policy("violet harbour cinnamon 7 ladders")


def test_the_policy_error_names_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_passphrase_policy("short")
    assert refused.value.field == "passphrase"


def test_hash_verify_and_rehash_under_another_profile() -> None:
    stored = hash_passphrase("violet harbour cinnamon 7 ladders", CHEAP)
    assert stored.startswith("$argon2id$")
    assert verify_passphrase(stored, "violet harbour cinnamon 7 ladders", CHEAP)
    assert not verify_passphrase(stored, "violet harbour cinnamon 7 ladder", CHEAP)
    assert not verify_passphrase("not a hash", "anything", CHEAP)
    assert not needs_rehash(stored, CHEAP)
    assert needs_rehash(stored, OTHER)
