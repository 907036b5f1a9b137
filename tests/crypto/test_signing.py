import json
from pathlib import Path

import pytest

from crypto.errors import SignatureError
from crypto.signing import generate_signing_key, sign, signing_key_from_seed, verify

VECTORS = json.loads((Path(__file__).parent / "vectors" / "signing.json").read_text("utf-8"))


@pytest.mark.parametrize("v", VECTORS["ed25519"])
def test_known_answers(v: dict) -> None:
    seed, message = bytes.fromhex(v["seed"]), bytes.fromhex(v["message"])
    pair = signing_key_from_seed(seed)
    assert pair.verify_key.hex() == v["verify_key"]
    assert sign(seed, message).hex() == v["signature"]  # Ed25519 is deterministic
    verify(bytes.fromhex(v["verify_key"]), message, bytes.fromhex(v["signature"]))


def test_round_trip() -> None:
    pair = generate_signing_key()
    assert len(pair.seed) == 32 and len(pair.verify_key) == 32
    assert pair.seed.hex() not in repr(pair)
    assert signing_key_from_seed(pair.seed) == pair
    signature = sign(pair.seed, b"checkpoint")
    assert len(signature) == 64
    verify(pair.verify_key, b"checkpoint", signature)


def test_wrong_message_key_or_signature() -> None:
    pair = generate_signing_key()
    signature = sign(pair.seed, b"checkpoint")
    with pytest.raises(SignatureError):
        verify(pair.verify_key, b"checkpoinT", signature)
    with pytest.raises(SignatureError):
        verify(generate_signing_key().verify_key, b"checkpoint", signature)
    for pos in (0, 31, 32, 63):
        bad = bytearray(signature)
        bad[pos] ^= 0x01
        with pytest.raises(SignatureError):
            verify(pair.verify_key, b"checkpoint", bytes(bad))


@pytest.mark.parametrize("sig_len", [0, 63, 65])
def test_malformed_signature(sig_len: int) -> None:
    pair = generate_signing_key()
    with pytest.raises(SignatureError):
        verify(pair.verify_key, b"m", bytes(sig_len))


def test_malformed_verify_key() -> None:
    pair = generate_signing_key()
    signature = sign(pair.seed, b"m")
    with pytest.raises(SignatureError):
        verify(pair.verify_key[:31], b"m", signature)
