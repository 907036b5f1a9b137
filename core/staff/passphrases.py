"""Passphrase policy and hashing for staff accounts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from core.errors import InvalidInput
from crypto.kdf import KdfProfile

MIN_LENGTH = 12
#: zxcvbn score (0-4) a passphrase must reach: 3 is "safely unguessable".
MIN_SCORE = 3


def check_passphrase_policy(passphrase: str, *, username: str = "") -> None:
    """Raise InvalidInput unless the passphrase is long and not guessable."""
    if len(passphrase) < MIN_LENGTH:
        raise InvalidInput(f"Use at least {MIN_LENGTH} characters.", field="passphrase")
    # zxcvbn looks only at the first 100 characters; longer passphrases are long enough.
    result = zxcvbn(passphrase[:100], user_inputs=[username, "candor"])
    if result["score"] < MIN_SCORE:
        raise InvalidInput("This passphrase is too easy to guess. Try several unrelated words.",
                           field="passphrase")


@dataclass(frozen=True)
class HashedPassphrase:
    """A passphrase and its Argon2id hash, made before the transaction that stores it (on
    SQLite a transaction holds the write lock every other request needs)."""

    text: str = field(repr=False)
    hashed: str = field(repr=False)


def prepare_passphrase(passphrase: str, profile: KdfProfile) -> HashedPassphrase:
    """Hash a passphrase ahead of the transaction (the policy is checked where it is
    stored, which knows the username)."""
    return HashedPassphrase(passphrase, hash_passphrase(passphrase, profile))


def one_time_passphrase(profile: KdfProfile) -> HashedPassphrase:
    """A random passphrase for an admin to hand over (about 120 bits), hashed."""
    return prepare_passphrase("-".join(secrets.token_hex(3) for _ in range(5)), profile)


def password_hasher(profile: KdfProfile) -> PasswordHasher:
    """An Argon2id hasher with the instance's cost parameters."""
    return PasswordHasher(time_cost=profile.time_cost, memory_cost=profile.memory_kib,
                          parallelism=profile.parallelism)


def hash_passphrase(passphrase: str, profile: KdfProfile) -> str:
    """An encoded Argon2id hash for storage."""
    return password_hasher(profile).hash(passphrase)


def verify_passphrase(stored_hash: str, passphrase: str, profile: KdfProfile) -> bool:
    """Whether the passphrase matches (constant-time inside argon2)."""
    try:
        return password_hasher(profile).verify(stored_hash, passphrase)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, profile: KdfProfile) -> bool:
    """Whether the stored hash used other parameters than the current profile."""
    return password_hasher(profile).check_needs_rehash(stored_hash)
