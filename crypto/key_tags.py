"""Authenticating public keys (and other small facts) stored in a database that an attacker
may be able to write: a keyed BLAKE2b tag under an instance secret kept in a file.

Whoever can write the database but not read the data directory's secrets cannot make a tag
for a public key of their own, so a swapped key is noticed before anything is sealed to it.
"""

from __future__ import annotations

import hmac

from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from crypto._util import require_bytes
from crypto.keys import KEY_BYTES

__all__ = ["TAG_BYTES", "derive_subkey", "key_tag", "tag_matches"]

TAG_BYTES = 32


def derive_subkey(master: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one `purpose` (at most 16 bytes), derived from a master secret, so
    that one secrets file can serve several purposes without their keys ever coinciding."""
    require_bytes("master", master, KEY_BYTES)
    if not 1 <= len(purpose) <= 16:
        raise ValueError("purpose must be 1 to 16 bytes")
    return bytes(blake2b(b"", digest_size=KEY_BYTES, key=master, person=purpose,
                         encoder=RawEncoder))


def key_tag(mac_key: bytes, owner: str, value: bytes) -> bytes:
    """The tag binding `value` (a public key, an account id) to `owner` (e.g. "reviewer:7")."""
    require_bytes("mac_key", mac_key, KEY_BYTES)
    require_bytes("value", value)
    owner_bytes = owner.encode("utf-8")
    # Length-prefixed, so that no (owner, value) pair reads as another.
    message = len(owner_bytes).to_bytes(4, "big") + owner_bytes + value
    return bytes(blake2b(message, digest_size=TAG_BYTES, key=mac_key,
                         person=b"candor-key-tag", encoder=RawEncoder))


def tag_matches(mac_key: bytes, owner: str, value: bytes, tag: bytes | None) -> bool:
    """Whether `tag` is the tag of (`owner`, `value`), compared in constant time."""
    if tag is None or len(tag) != TAG_BYTES:
        return False
    return hmac.compare_digest(key_tag(mac_key, owner, value), tag)
