"""Reviewer X25519 private keys wrapped under a passphrase.

Blob layout (big-endian), self-describing so parameters can be raised later without a
migration and old blobs still open::

    version:u8 | time_cost:u32 | memory_kib:u32 | parallelism:u32 | salt:16 | SecretBox

The SecretBox key is Argon2id(NFKC(passphrase) as UTF-8, salt, profile). The header is not
authenticated separately, but every header field feeds the key derivation, so altering one
only yields a wrong key and a :class:`~crypto.errors.DecryptionError`.
"""

from __future__ import annotations

import struct
import unicodedata

import nacl.utils

from crypto._util import require_bytes
from crypto.errors import DecryptionError, KeyFormatError
from crypto.kdf import SALT_BYTES, KdfProfile, derive_key
from crypto.keys import KEY_BYTES, generate_keypair, unwrap, wrap

__all__ = [
    "create_reviewer_keys",
    "rewrap_private_key",
    "unwrap_private_key",
    "wrap_private_key",
    "wrapped_key_profile",
]

_VERSION = 1
_HEADER = struct.Struct(">BIII")
# SecretBox output for a 32-byte key: 24-byte nonce + 16-byte MAC + 32 bytes.
_BOX_BYTES = 24 + 16 + KEY_BYTES
_BLOB_BYTES = _HEADER.size + SALT_BYTES + _BOX_BYTES

# Refuse absurd stored parameters so a corrupted blob cannot make login take hours or
# exhaust memory (4 GiB, 64 passes, 64 lanes are far above anything we would configure).
_MAX_TIME_COST = 64
_MAX_MEMORY_KIB = 4 * 1024 * 1024
_MAX_PARALLELISM = 64


def _passphrase_bytes(passphrase: str) -> bytes:
    if not isinstance(passphrase, str):
        raise TypeError("passphrase must be str")
    # NFKC so the same passphrase typed on different keyboards/IMEs derives the same key.
    return unicodedata.normalize("NFKC", passphrase).encode("utf-8")


def _parse(wrapped: bytes) -> tuple[KdfProfile, bytes, bytes]:
    if not isinstance(wrapped, bytes) or len(wrapped) != _BLOB_BYTES:
        raise KeyFormatError("wrapped private key has the wrong length")
    version, t, m, p = _HEADER.unpack_from(wrapped)
    if version != _VERSION:
        raise KeyFormatError("unknown wrapped private key version")
    if not (1 <= t <= _MAX_TIME_COST and 1 <= p <= _MAX_PARALLELISM and m <= _MAX_MEMORY_KIB):
        raise KeyFormatError("wrapped private key has unacceptable KDF parameters")
    try:
        profile = KdfProfile(time_cost=t, memory_kib=m, parallelism=p)
    except ValueError:
        raise KeyFormatError("wrapped private key has invalid KDF parameters") from None
    salt = wrapped[_HEADER.size : _HEADER.size + SALT_BYTES]
    box = wrapped[_HEADER.size + SALT_BYTES :]
    return profile, salt, box


def wrap_private_key(private_key: bytes, passphrase: str, profile: KdfProfile) -> bytes:
    """Encrypt a 32-byte private key under *passphrase* with a fresh salt."""
    require_bytes("private_key", private_key, KEY_BYTES)
    salt = bytes(nacl.utils.random(SALT_BYTES))
    wrapping_key = derive_key(_passphrase_bytes(passphrase), salt, profile)
    header = _HEADER.pack(_VERSION, profile.time_cost, profile.memory_kib, profile.parallelism)
    return header + salt + wrap(wrapping_key, private_key)


def unwrap_private_key(wrapped: bytes, passphrase: str) -> bytes:
    """Open a blob from :func:`wrap_private_key` using the parameters stored in it.

    Raises :class:`KeyFormatError` for a malformed blob, :class:`DecryptionError` for a wrong
    passphrase (or a tampered blob).
    """
    profile, salt, box = _parse(wrapped)
    wrapping_key = derive_key(_passphrase_bytes(passphrase), salt, profile)
    try:
        private_key = unwrap(wrapping_key, box)
    except DecryptionError:
        raise DecryptionError("wrong passphrase") from None
    if len(private_key) != KEY_BYTES:
        raise KeyFormatError("wrapped private key has the wrong size")
    return private_key


def rewrap_private_key(
    wrapped: bytes, old_passphrase: str, new_passphrase: str, profile: KdfProfile
) -> bytes:
    """Re-encrypt a wrapped key under a new passphrase and/or new KDF *profile*."""
    return wrap_private_key(unwrap_private_key(wrapped, old_passphrase), new_passphrase, profile)


def wrapped_key_profile(wrapped: bytes) -> KdfProfile:
    """Return the KDF profile a blob was wrapped with, to decide whether to re-wrap it."""
    return _parse(wrapped)[0]


def create_reviewer_keys(passphrase: str, profile: KdfProfile) -> tuple[bytes, bytes]:
    """Generate a reviewer key pair; return ``(public_key, wrapped_private_key)``."""
    pair = generate_keypair()
    return pair.public_key, wrap_private_key(pair.private_key, passphrase, profile)
