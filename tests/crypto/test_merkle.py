"""RFC 9162 Merkle hashing, proofs and their checks: published known answers, agreement with a
plain recursive definition, and refusal of every altered proof."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    RootStream,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# The inputs and roots of the Certificate Transparency test vectors (RFC 6962 reference code).
INPUTS = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
          bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [leaf_hash(i) for i in INPUTS]
TREE = MerkleTree(LEAVES)


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, written as the RFC does."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def test_published_roots():
    assert TREE.root(0).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert [TREE.root(n).hex() for n in range(1, 9)] == ROOTS


def test_published_proofs():
    short = lambda proof: [node.hex()[:8] for node in proof]  # noqa: E731
    assert short(TREE.inclusion_proof(0, 8)) == ["96a296d2", "5f083f0a", "6b47aaf2"]
    assert short(TREE.inclusion_proof(5, 8)) == ["bc1a0643", "ca854ea1", "d37ee418"]
    assert short(TREE.consistency_proof(1, 8)) == ["96a296d2", "5f083f0a", "6b47aaf2"]
    assert short(TREE.consistency_proof(6, 8)) == ["0ebc5d34", "ca854ea1", "d37ee418"]
    assert short(TREE.consistency_proof(2, 5)) == ["5f083f0a", "bc1a0643"]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=70))
def test_every_prefix_agrees_with_the_definition(size):
    leaves = [leaf_hash(str(i).encode()) for i in range(size)]
    tree = MerkleTree(leaves)
    stream = RootStream()
    for n in range(size + 1):
        assert tree.root(n) == reference_root(leaves[:n]) == stream.root()
        if n < size:
            stream.append(leaves[n])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_proofs_verify_and_altered_proofs_do_not(data):
    size = data.draw(st.integers(min_value=1, max_value=70))
    tree = MerkleTree([leaf_hash(str(i).encode()) for i in range(size)])
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    path = tree.inclusion_proof(index, size)
    verify_inclusion(tree.leaf(index), index, size, path, tree.root(size))
    old = data.draw(st.integers(min_value=0, max_value=size))
    proof = tree.consistency_proof(old, size)
    verify_consistency(old, size, tree.root(old), tree.root(size), proof)
    if path:
        bent = list(path)
        bent[data.draw(st.integers(0, len(bent) - 1))] = bytes(32)
        with pytest.raises(ProofError):
            verify_inclusion(tree.leaf(index), index, size, bent, tree.root(size))
        with pytest.raises(ProofError):
            verify_inclusion(tree.leaf(index), index, size, path[:-1], tree.root(size))
        with pytest.raises(ProofError):
            verify_inclusion(tree.leaf(index), index, size, [*path, bytes(32)], tree.root(size))
    if 0 < old < size:
        bent = list(proof)
        bent[data.draw(st.integers(0, len(bent) - 1))] = bytes(32)
        with pytest.raises(ProofError):
            verify_consistency(old, size, tree.root(old), tree.root(size), bent)
        with pytest.raises(ProofError):  # a forked old tree
            verify_consistency(old, size, leaf_hash(b"fork"), tree.root(size), proof)


def test_inclusion_refuses_an_index_outside_the_tree():
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[0], 8, 8, TREE.inclusion_proof(0, 8), TREE.root())
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[1], 0, 8, TREE.inclusion_proof(0, 8), TREE.root())
    with pytest.raises(ValueError):
        TREE.inclusion_proof(8, 8)


def test_consistency_edge_cases():
    verify_consistency(0, 8, EMPTY_ROOT, TREE.root(), [])
    verify_consistency(8, 8, TREE.root(), TREE.root(), [])
    with pytest.raises(ProofError):
        verify_consistency(8, 8, TREE.root(7), TREE.root(), [])  # same size, other root
    with pytest.raises(ProofError):
        verify_consistency(9, 8, TREE.root(), TREE.root(), [])  # a shrinking log
    with pytest.raises(ProofError):
        verify_consistency(3, 8, TREE.root(3), TREE.root(), [])
    with pytest.raises(ProofError):
        verify_consistency(3, 8, TREE.root(3), TREE.root(), [b"short"])
    with pytest.raises(ValueError):
        TREE.consistency_proof(9, 8)


def test_a_tree_is_built_from_concatenated_hashes_only():
    assert MerkleTree(b"".join(LEAVES)).root() == TREE.root()
    with pytest.raises(ValueError):
        MerkleTree(b"\x00" * 33)
