"""Argon2id key derivation with explicit, named cost profiles.

Only :data:`PRODUCTION` lives here. Cheaper profiles are defined by the test suite itself,
so no production code path can ever select one by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw

__all__ = ["PRODUCTION", "SALT_BYTES", "KdfProfile", "derive_key"]

SALT_BYTES = 16
# Argon2 itself refuses salts shorter than 8 bytes.
_MIN_SALT_BYTES = 8


@dataclass(frozen=True)
class KdfProfile:
    """Argon2id cost parameters: passes, memory in KiB, lanes."""

    time_cost: int
    memory_kib: int
    parallelism: int = 1

    def __post_init__(self) -> None:
        if self.time_cost < 1 or self.parallelism < 1:
            raise ValueError("time_cost and parallelism must be at least 1")
        # Argon2 needs at least 8 KiB of memory per lane.
        if self.memory_kib < 8 * self.parallelism:
            raise ValueError("memory_kib must be at least 8 * parallelism")


# RFC 9106 section 4, second recommended option (t=3, m=64 MiB). One lane: the web workers
# already use every core, and p=1 keeps the cost identical on any machine.
PRODUCTION: KdfProfile = KdfProfile(time_cost=3, memory_kib=65536, parallelism=1)


def derive_key(secret: bytes, salt: bytes, profile: KdfProfile, length: int = 32) -> bytes:
    """Stretch *secret* with Argon2id under *salt* and *profile*; return *length* raw bytes."""
    if not isinstance(secret, bytes) or not isinstance(salt, bytes):
        raise TypeError("secret and salt must be bytes")
    if len(salt) < _MIN_SALT_BYTES:
        raise ValueError(f"salt must be at least {_MIN_SALT_BYTES} bytes")
    if length < 4:
        raise ValueError("length must be at least 4 bytes")
    try:
        return bytes(
            hash_secret_raw(
                secret=secret,
                salt=salt,
                time_cost=profile.time_cost,
                memory_cost=profile.memory_kib,
                parallelism=profile.parallelism,
                hash_len=length,
                type=Type.ID,
            )
        )
    except HashingError as exc:  # only reachable with absurd parameters (e.g. out of memory)
        raise ValueError(f"Argon2id failed: {exc}") from None
