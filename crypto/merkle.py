"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and their checks.

Leaves are hashed as ``SHA-256(0x00 || entry)`` and interior nodes as
``SHA-256(0x01 || left || right)``; the tree over n leaves splits at the largest power of two
below n (RFC 9162 section 2.1.1). An inclusion proof shows that one entry is in a tree of a
given size; a consistency proof shows that a tree of size m is a prefix of one of size n, which
is what stops a log from being rewritten, truncated or forked once a checkpoint of it is kept.

:class:`MerkleTree` keeps every level as one byte string (32 bytes a hash, about 64 bytes per
leaf in all), so proofs and roots of any prefix cost O(log² n) after one O(n) build.
:class:`RootStream` computes the roots of growing prefixes in O(log n) memory.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_BYTES",
    "MerkleTree",
    "ProofError",
    "RootStream",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_BYTES = 32
_LEAF = b"\x00"
_NODE = b"\x01"
#: The root of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof is malformed or does not lead to the root it should."""


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry)."""
    return hashlib.sha256(_LEAF + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below size (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


class RootStream:
    """Roots of the prefixes of a log, one leaf at a time (a compact range of perfect
    subtrees along the right edge, at most log2(n) hashes)."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash."""
        current = leaf
        count = self.size
        # Each trailing one bit of the old size is a perfect subtree that the new leaf closes.
        while count & 1:
            current = node_hash(self._stack.pop(), current)
            count >>= 1
        self._stack.append(current)
        self.size += 1

    def root(self) -> bytes:
        """The root of the leaves added so far."""
        if not self._stack:
            return EMPTY_ROOT
        current = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            current = node_hash(left, current)
        return current


class MerkleTree:
    """All levels of the tree over a sequence of leaf hashes, for roots and proofs of any
    prefix."""

    def __init__(self, leaves: bytes | Iterable[bytes]) -> None:
        level = leaves if isinstance(leaves, bytes) else b"".join(leaves)
        if len(level) % HASH_BYTES:
            raise ValueError("leaf hashes are 32 bytes each")
        self.size = len(level) // HASH_BYTES
        self._levels = [level]
        while len(level) >= 2 * HASH_BYTES:
            pairs = len(level) // (2 * HASH_BYTES)
            sha = hashlib.sha256
            level = b"".join(
                sha(_NODE + level[i:i + 2 * HASH_BYTES]).digest()
                for i in range(0, pairs * 2 * HASH_BYTES, 2 * HASH_BYTES))
            self._levels.append(level)

    def leaf(self, index: int) -> bytes:
        """The leaf hash at index."""
        if not 0 <= index < self.size:
            raise IndexError(index)
        return self._levels[0][index * HASH_BYTES:(index + 1) * HASH_BYTES]

    def _hash(self, start: int, end: int) -> bytes:
        """MTH of leaves[start:end] (end > start)."""
        width = end - start
        height = width.bit_length() - 1
        if width == 1 << height and start % width == 0:
            offset = (start >> height) * HASH_BYTES
            return self._levels[height][offset:offset + HASH_BYTES]
        k = _split(width)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162
        section 2.1.3.1)."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError("the leaf is not in a tree of that size")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._hash(start + k, end))
                end = start + k
            else:
                path.append(self._hash(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the tree of `old_size` leaves is a prefix of the tree of `new_size`
        (RFC 9162 section 2.1.4.1); empty when old_size is 0 or equals new_size."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError("the old size must lie between 0 and the new size")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        start, end, complete = 0, new_size, True
        m = old_size
        while True:
            width = end - start
            if m == width:
                if not complete:
                    proof.append(self._hash(start, end))
                break
            k = _split(width)
            if m <= k:
                proof.append(self._hash(start + k, end))
                end = start + k
            else:
                proof.append(self._hash(start, start + k))
                start += k
                m -= k
                complete = False
        proof.reverse()
        return proof

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     root: bytes) -> None:
    """Check that `leaf` is at `index` in the tree of `size` leaves with `root` (RFC 9162
    section 2.1.3.2); raise ProofError otherwise."""
    if not 0 <= index < size:
        raise ProofError("the index is not inside the tree")
    fn, sn = index, size - 1
    current = leaf
    for sibling in proof:
        _check_hash(sibling)
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            current = node_hash(sibling, current)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            current = node_hash(current, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    if not hmac.compare_digest(current, root):
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Check that the tree of `old_size` leaves with `old_root` is a prefix of the tree of
    `new_size` leaves with `new_root` (RFC 9162 section 2.1.4.2); raise ProofError
    otherwise."""
    if not 0 <= old_size <= new_size:
        raise ProofError("the old tree is larger than the new one")
    if old_size == new_size:
        if proof:
            raise ProofError("trees of the same size need an empty proof")
        if not hmac.compare_digest(old_root, new_root):
            raise ProofError("two trees of the same size have different roots")
        return
    if old_size == 0:
        if proof:
            raise ProofError("the empty tree needs an empty proof")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    for item in path:
        _check_hash(item)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(node, fr)
            sr = node_hash(node, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if not hmac.compare_digest(fr, old_root):
        raise ProofError("the consistency proof does not lead to the old root")
    if not hmac.compare_digest(sr, new_root):
        raise ProofError("the consistency proof does not lead to the new root")


def _check_hash(value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_BYTES:
        raise ProofError("a proof node is not a 32-byte hash")
