"""Raw symmetric keys, X25519 key pairs, and wrapping keys for a recipient.

``seal_to``/``open_sealed`` grant a key to a public-key holder (reviewer, recovery key);
``wrap``/``unwrap`` put a key under another symmetric key (file keys, submitter grants).
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox

from crypto._util import require_bytes
from crypto.errors import DecryptionError

__all__ = [
    "KEY_BYTES",
    "KeyPair",
    "generate_keypair",
    "new_key",
    "open_sealed",
    "seal_to",
    "unwrap",
    "wrap",
]

KEY_BYTES = 32


def new_key() -> bytes:
    """Return a fresh random 32-byte symmetric key."""
    return bytes(nacl.utils.random(KEY_BYTES))


@dataclass(frozen=True, repr=False)
class KeyPair:
    """An X25519 key pair as raw 32-byte strings."""

    public_key: bytes
    private_key: bytes

    def __repr__(self) -> str:
        # Never let the private half reach a log line.
        return f"KeyPair(public_key={self.public_key.hex()}, private_key=<redacted>)"


def generate_keypair() -> KeyPair:
    """Return a new random X25519 key pair."""
    private = PrivateKey.generate()
    return KeyPair(public_key=bytes(private.public_key), private_key=bytes(private))


def seal_to(public_key: bytes, key: bytes) -> bytes:
    """Encrypt *key* anonymously to the holder of *public_key* (libsodium sealed box)."""
    require_bytes("public_key", public_key, KEY_BYTES)
    require_bytes("key", key)
    return bytes(SealedBox(PublicKey(public_key)).encrypt(key))


def open_sealed(private_key: bytes, sealed: bytes) -> bytes:
    """Open a sealed box with *private_key*; raise :class:`DecryptionError` on failure."""
    require_bytes("private_key", private_key, KEY_BYTES)
    require_bytes("sealed", sealed)
    try:
        return bytes(SealedBox(PrivateKey(private_key)).decrypt(sealed))
    except nacl.exceptions.CryptoError:
        raise DecryptionError("sealed box could not be opened") from None


def wrap(wrapping_key: bytes, key: bytes) -> bytes:
    """Encrypt *key* under *wrapping_key* (SecretBox, random nonce prefixed)."""
    require_bytes("wrapping_key", wrapping_key, KEY_BYTES)
    require_bytes("key", key)
    return bytes(SecretBox(wrapping_key).encrypt(key))


def unwrap(wrapping_key: bytes, wrapped: bytes) -> bytes:
    """Reverse :func:`wrap`; raise :class:`DecryptionError` on a wrong key or tampering."""
    require_bytes("wrapping_key", wrapping_key, KEY_BYTES)
    require_bytes("wrapped", wrapped)
    if len(wrapped) < SecretBox.NONCE_SIZE + SecretBox.MACBYTES:
        raise DecryptionError("wrapped key is too short")
    try:
        return bytes(SecretBox(wrapping_key).decrypt(wrapped))
    except nacl.exceptions.CryptoError:
        raise DecryptionError("wrapped key could not be opened") from None
