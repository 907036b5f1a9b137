"""Hash chain for the append-only audit log, with RFC 6962 style domain separation.

``head_n = SHA-256(0x01 || head_{n-1} || SHA-256(0x00 || entry_n))`` starting from
:data:`GENESIS`. The distinct leaf/node prefixes stop an entry from being passed off as an
interior hash. The chain ties each stored row to the one before it (core.audit.log
verifies it before signing); what auditors check is the Merkle tree over the same leaf hashes
(crypto.merkle), whose root the signed checkpoints state (crypto.signed_note).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from crypto.errors import ChainError

__all__ = [
    "GENESIS",
    "chain_hash",
    "chain_head",
    "leaf_hash",
    "verify_chain",
]

HASH_BYTES = 32
GENESIS: bytes = bytes(HASH_BYTES)
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """Return SHA-256(0x00 || entry)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    """Return SHA-256(0x01 || previous || leaf), the head after appending *leaf*."""
    if len(previous) != HASH_BYTES or len(leaf) != HASH_BYTES:
        raise ValueError("chain hashes are 32 bytes")
    return hashlib.sha256(_NODE_PREFIX + previous + leaf).digest()


def chain_head(entries: Iterable[bytes], start: bytes = GENESIS) -> bytes:
    """Return the head after appending every entry in *entries* to *start*."""
    head = start
    for entry in entries:
        head = chain_hash(head, leaf_hash(entry))
    return head


def verify_chain(entries: Iterable[bytes], expected_head: bytes, start: bytes = GENESIS) -> None:
    """Recompute the chain over *entries* from *start*; raise :class:`ChainError` on mismatch."""
    if not hmac.compare_digest(chain_head(entries, start), expected_head):
        raise ChainError("audit chain head does not match")
