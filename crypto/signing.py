"""Ed25519 signatures for audit-log checkpoints."""

from __future__ import annotations

from dataclasses import dataclass

import nacl.exceptions
from nacl.signing import SigningKey, VerifyKey

from crypto._util import require_bytes
from crypto.errors import SignatureError

__all__ = [
    "SIGNATURE_BYTES",
    "SigningKeyPair",
    "generate_signing_key",
    "sign",
    "signing_key_from_seed",
    "verify",
]

SEED_BYTES = 32
SIGNATURE_BYTES = 64


@dataclass(frozen=True, repr=False)
class SigningKeyPair:
    """An Ed25519 key: 32-byte private seed and 32-byte public verify key."""

    seed: bytes
    verify_key: bytes

    def __repr__(self) -> str:
        return f"SigningKeyPair(seed=<redacted>, verify_key={self.verify_key.hex()})"


def signing_key_from_seed(seed: bytes) -> SigningKeyPair:
    """Rebuild the key pair from its 32-byte seed (as kept in the secrets file)."""
    require_bytes("seed", seed, SEED_BYTES)
    return SigningKeyPair(seed=seed, verify_key=bytes(SigningKey(seed).verify_key))


def generate_signing_key() -> SigningKeyPair:
    """Return a new random Ed25519 key pair."""
    return signing_key_from_seed(bytes(SigningKey.generate()))


def sign(seed: bytes, message: bytes) -> bytes:
    """Return the 64-byte detached Ed25519 signature of *message*."""
    require_bytes("seed", seed, SEED_BYTES)
    require_bytes("message", message)
    return bytes(SigningKey(seed).sign(message).signature)


def verify(verify_key: bytes, message: bytes, signature: bytes) -> None:
    """Check a detached signature; raise :class:`SignatureError` if it is not valid.

    A malformed key or signature is reported the same way: to an auditor it is just as bad.
    """
    require_bytes("message", message)
    if not isinstance(verify_key, bytes) or len(verify_key) != SEED_BYTES:
        raise SignatureError("verify key is malformed")
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        raise SignatureError("signature is malformed")
    try:
        VerifyKey(verify_key).verify(message, signature)
    except nacl.exceptions.CryptoError:
        raise SignatureError("signature does not verify") from None
