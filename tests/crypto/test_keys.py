import json
from pathlib import Path

import pytest

from crypto.errors import DecryptionError
from crypto.keys import (
    KEY_BYTES,
    generate_keypair,
    new_key,
    open_sealed,
    seal_to,
    unwrap,
    wrap,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "keys.json").read_text("utf-8"))


def test_new_key() -> None:
    keys = {new_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(isinstance(k, bytes) and len(k) == KEY_BYTES for k in keys)


def test_keypair_shape_and_repr() -> None:
    pair = generate_keypair()
    assert len(pair.public_key) == 32 and len(pair.private_key) == 32
    assert pair.private_key.hex() not in repr(pair)
    assert generate_keypair().private_key != pair.private_key


@pytest.mark.parametrize("v", VECTORS["open_sealed"])
def test_open_sealed_known_answers(v: dict) -> None:
    opened = open_sealed(bytes.fromhex(v["private_key"]), bytes.fromhex(v["sealed"]))
    assert opened.hex() == v["plaintext"]


@pytest.mark.parametrize("v", VECTORS["unwrap"])
def test_unwrap_known_answers(v: dict) -> None:
    key = unwrap(bytes.fromhex(v["wrapping_key"]), bytes.fromhex(v["wrapped"]))
    assert key.hex() == v["key"]


def test_seal_round_trip_and_randomised() -> None:
    pair = generate_keypair()
    key = new_key()
    a, b = seal_to(pair.public_key, key), seal_to(pair.public_key, key)
    assert a != b  # ephemeral sender key each time
    assert open_sealed(pair.private_key, a) == key == open_sealed(pair.private_key, b)


def test_open_sealed_wrong_key_and_tamper() -> None:
    pair = generate_keypair()
    sealed = seal_to(pair.public_key, new_key())
    with pytest.raises(DecryptionError):
        open_sealed(generate_keypair().private_key, sealed)
    for pos in (0, 31, 32, 40, len(sealed) - 1):
        tampered = bytearray(sealed)
        tampered[pos] ^= 0x01
        with pytest.raises(DecryptionError):
            open_sealed(pair.private_key, bytes(tampered))
    for cut in (b"", sealed[:10], sealed[:-1]):
        with pytest.raises(DecryptionError):
            open_sealed(pair.private_key, cut)


def test_wrap_round_trip_and_failures() -> None:
    wk, key = new_key(), new_key()
    wrapped = wrap(wk, key)
    assert wrap(wk, key) != wrapped  # random nonce
    assert unwrap(wk, wrapped) == key
    with pytest.raises(DecryptionError):
        unwrap(new_key(), wrapped)
    for pos in (0, 23, 24, 39, 40, len(wrapped) - 1):
        tampered = bytearray(wrapped)
        tampered[pos] ^= 0x80
        with pytest.raises(DecryptionError):
            unwrap(wk, bytes(tampered))
    for cut in (b"", wrapped[:39], wrapped[:-1]):
        with pytest.raises(DecryptionError):
            unwrap(wk, cut)


def test_bad_key_lengths_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        wrap(bytes(31), new_key())
    with pytest.raises(ValueError):
        seal_to(bytes(33), new_key())
    with pytest.raises(TypeError):
        wrap(bytearray(32), new_key())  # type: ignore[arg-type]
