"""The organisation recovery key: an X25519 key pair whose private half is printed once.

The exported text is meant to be copied by hand from paper::

    CANDOR-RECOVERY-1-XXXX-XXXX-...-XX

i.e. a versioned prefix, then unpadded RFC 4648 base32 of ``private_key || checksum`` in
dash-separated groups of four, where ``checksum`` is a 4-byte personalised BLAKE2b of the key,
so a typo is reported instead of silently producing a wrong key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import unicodedata

from nacl.public import PrivateKey

from crypto._util import require_bytes
from crypto.errors import KeyFormatError
from crypto.keys import KEY_BYTES, KeyPair, generate_keypair

__all__ = ["export_private_key", "generate_recovery_key", "import_private_key", "public_key_of"]

PREFIX = "CANDOR-RECOVERY-1-"
_COMPACT_PREFIX = PREFIX.replace("-", "")
_CHECKSUM_BYTES = 4
_PERSON = b"candor-recovery"
_GROUP = 4


def _checksum(private_key: bytes) -> bytes:
    return hashlib.blake2b(private_key, digest_size=_CHECKSUM_BYTES, person=_PERSON).digest()


def generate_recovery_key() -> KeyPair:
    """Return a new recovery key pair (X25519)."""
    return generate_keypair()


def export_private_key(private_key: bytes) -> str:
    """Return the human-copyable text form of a recovery private key."""
    require_bytes("private_key", private_key, KEY_BYTES)
    body = base64.b32encode(private_key + _checksum(private_key)).decode("ascii").rstrip("=")
    return PREFIX + "-".join(body[i : i + _GROUP] for i in range(0, len(body), _GROUP))


def import_private_key(text: str) -> bytes:
    """Parse text from :func:`export_private_key`, tolerating whitespace and case.

    Raises :class:`KeyFormatError` on a bad prefix, bad characters, wrong length or a
    checksum mismatch.
    """
    if not isinstance(text, str) or len(text) > 1024:
        raise KeyFormatError("recovery key text is malformed")
    # Whitespace and dashes are only grouping: drop them everywhere, prefix included.
    text = unicodedata.normalize("NFKC", text).upper()
    cleaned = "".join(ch for ch in text if not ch.isspace() and ch != "-")
    if not cleaned.startswith(_COMPACT_PREFIX):
        raise KeyFormatError("recovery key text must start with " + PREFIX)
    body = cleaned[len(_COMPACT_PREFIX) :]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise KeyFormatError("recovery key text contains invalid characters") from None
    if len(raw) != KEY_BYTES + _CHECKSUM_BYTES:
        raise KeyFormatError("recovery key text has the wrong length")
    # The last base32 character carries 2 unused bits; insist on the canonical encoding so
    # that every single-character change is rejected.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != body:
        raise KeyFormatError("recovery key text is not canonical (typo?)")
    key, checksum = raw[:KEY_BYTES], raw[KEY_BYTES:]
    if not hmac.compare_digest(checksum, _checksum(key)):
        raise KeyFormatError("recovery key checksum does not match (typo?)")
    return key


def public_key_of(private_key: bytes) -> bytes:
    """Return the X25519 public key for *private_key*."""
    require_bytes("private_key", private_key, KEY_BYTES)
    return bytes(PrivateKey(private_key).public_key)
