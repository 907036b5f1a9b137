import json
from pathlib import Path

import pytest

from crypto.audit_chain import (
    GENESIS,
    chain_hash,
    chain_head,
    leaf_hash,
    verify_chain,
)
from crypto.errors import ChainError, CryptoError

V = json.loads((Path(__file__).parent / "vectors" / "audit_chain.json").read_text("utf-8"))
ENTRIES = [bytes.fromhex(e) for e in V["entries"]]
HEAD = bytes.fromhex(V["head"])


def test_known_answers() -> None:
    assert [leaf_hash(e).hex() for e in ENTRIES] == V["leaf_hashes"]
    head = GENESIS
    for entry, expected in zip(ENTRIES, V["heads"], strict=True):
        head = chain_hash(head, leaf_hash(entry))
        assert head.hex() == expected
    assert chain_head(ENTRIES) == HEAD
    verify_chain(ENTRIES, HEAD)


def test_domain_separation() -> None:
    assert bytes(32) == GENESIS
    # A leaf hash is never equal to a node hash over the same bytes.
    data = bytes(64)
    assert leaf_hash(data) != chain_hash(data[:32], data[32:])


def test_verify_from_a_checkpoint() -> None:
    middle = chain_head(ENTRIES[:2])
    verify_chain(ENTRIES[2:], HEAD, start=middle)
    with pytest.raises(ChainError):
        verify_chain(ENTRIES[2:], HEAD)


@pytest.mark.parametrize(
    "entries",
    [
        ENTRIES[:-1],  # removed at the end
        ENTRIES[1:],  # removed at the start
        ENTRIES[:1] + ENTRIES[2:],  # removed in the middle
        ENTRIES[:2] + [b"inserted"] + ENTRIES[2:],
        [ENTRIES[1], ENTRIES[0]] + ENTRIES[2:],  # reordered
        ENTRIES[:-1] + [ENTRIES[-1] + b"x"],  # altered
        ENTRIES + [b""],  # appended empty entry
        [],
    ],
    ids=[
        "truncated",
        "head-removed",
        "middle-removed",
        "inserted",
        "reordered",
        "altered",
        "appended",
        "empty",
    ],
)
def test_tampering_detected(entries: list[bytes]) -> None:
    with pytest.raises(ChainError) as info:
        verify_chain(entries, HEAD)
    assert isinstance(info.value, CryptoError)
