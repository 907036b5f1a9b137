"""Hash chain for the append-only audit log, with RFC 6962 style domain separation.

``head_n = SHA-256(0x01 || head_{n-1} || SHA-256(0x00 || entry_n))`` starting from
:data:`GENESIS`. The distinct leaf/node prefixes stop an entry from being passed off as an
interior hash. A signed checkpoint (size, head, time) lets an auditor check offline that
nothing was altered, removed, inserted or reordered.
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
    "checkpoint_message",
    "leaf_hash",
    "verify_chain",
]

HASH_BYTES = 32
GENESIS: bytes = bytes(HASH_BYTES)
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_CHECKPOINT_HEADER = b"candor-checkpoint-v1\n"


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


def checkpoint_message(size: int, head: bytes, issued_at: str) -> bytes:
    """Return the canonical bytes to sign for a checkpoint of *size* entries ending at *head*."""
    if size < 0:
        raise ValueError("size must be non-negative")
    if len(head) != HASH_BYTES:
        raise ValueError("head must be 32 bytes")
    # A newline inside issued_at would make two different checkpoints serialise alike.
    if "\n" in issued_at or "\r" in issued_at:
        raise ValueError("issued_at must be a single line")
    return _CHECKPOINT_HEADER + f"{size}\n{head.hex()}\n{issued_at}\n".encode()


def verify_chain(entries: Iterable[bytes], expected_head: bytes, start: bytes = GENESIS) -> None:
    """Recompute the chain over *entries* from *start*; raise :class:`ChainError` on mismatch."""
    if not hmac.compare_digest(chain_head(entries, start), expected_head):
        raise ChainError("audit chain head does not match")
