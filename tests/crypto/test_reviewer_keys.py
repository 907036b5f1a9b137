import json
import struct
from pathlib import Path

import pytest

from crypto.errors import DecryptionError, KeyFormatError
from crypto.kdf import KdfProfile
from crypto.keys import generate_keypair, open_sealed, seal_to
from crypto.reviewer_keys import (
    create_reviewer_keys,
    rewrap_private_key,
    unwrap_private_key,
    wrap_private_key,
    wrapped_key_profile,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "reviewer_keys.json").read_text("utf-8"))
PASS = "correct horse battery staple"


@pytest.mark.parametrize("v", VECTORS["unwrap_private_key"])
def test_unwrap_known_answers(v: dict) -> None:
    blob = bytes.fromhex(v["wrapped"])
    assert unwrap_private_key(blob, v["passphrase"]).hex() == v["private_key"]
    assert unwrap_private_key(blob, v["passphrase_used_to_wrap"]).hex() == v["private_key"]
    assert wrapped_key_profile(blob) == KdfProfile(**v["profile"])


def test_round_trip_and_profile(cheap_profile: KdfProfile) -> None:
    pair = generate_keypair()
    blob = wrap_private_key(pair.private_key, PASS, cheap_profile)
    assert unwrap_private_key(blob, PASS) == pair.private_key
    assert wrapped_key_profile(blob) == cheap_profile
    assert wrap_private_key(pair.private_key, PASS, cheap_profile) != blob  # fresh salt, nonce


def test_nfkc_passphrase(cheap_profile: KdfProfile) -> None:
    pair = generate_keypair()
    blob = wrap_private_key(pair.private_key, "ｐａｓｓ　１２３", cheap_profile)
    assert unwrap_private_key(blob, "pass 123") == pair.private_key


def test_wrong_passphrase(cheap_profile: KdfProfile) -> None:
    blob = wrap_private_key(generate_keypair().private_key, PASS, cheap_profile)
    for wrong in ("", PASS + " ", PASS.upper(), "correct horse battery stapler"):
        with pytest.raises(DecryptionError):
            unwrap_private_key(blob, wrong)


def test_tampered_blob(cheap_profile: KdfProfile) -> None:
    blob = wrap_private_key(generate_keypair().private_key, PASS, cheap_profile)
    # Header parameter, salt, nonce, MAC and ciphertext positions.
    for pos in (1, 8, 13, 20, 29, 45, 60, len(blob) - 1):
        tampered = bytearray(blob)
        tampered[pos] ^= 0x01
        with pytest.raises((DecryptionError, KeyFormatError)):
            unwrap_private_key(bytes(tampered), PASS)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b"",
        lambda b: b[:-1],
        lambda b: b + b"\x00",
        lambda b: b"\x02" + b[1:],  # unknown version
        lambda b: b"\x00" + b[1:],
        lambda b: b[:1] + struct.pack(">I", 0) + b[5:],  # t = 0
        lambda b: b[:1] + struct.pack(">I", 10**6) + b[5:],  # absurd t
        lambda b: b[:5] + struct.pack(">I", 2**31) + b[9:],  # absurd memory
        lambda b: b[:5] + struct.pack(">I", 4) + b[9:],  # m < 8 KiB
        lambda b: b[:9] + struct.pack(">I", 0) + b[13:],  # p = 0
    ],
    ids=[
        "empty",
        "short",
        "long",
        "version2",
        "version0",
        "t0",
        "t-huge",
        "m-huge",
        "m-tiny",
        "p0",
    ],
)
def test_malformed_blob(cheap_profile: KdfProfile, mutate: object) -> None:
    blob = wrap_private_key(generate_keypair().private_key, PASS, cheap_profile)
    bad = mutate(blob)  # type: ignore[operator]
    with pytest.raises(KeyFormatError):
        unwrap_private_key(bad, PASS)
    with pytest.raises(KeyFormatError):
        wrapped_key_profile(bad)


def test_rewrap(cheap_profile: KdfProfile) -> None:
    pair = generate_keypair()
    blob = wrap_private_key(pair.private_key, PASS, cheap_profile)
    stronger = KdfProfile(time_cost=2, memory_kib=16, parallelism=1)
    new = rewrap_private_key(blob, PASS, "new passphrase", stronger)
    assert wrapped_key_profile(new) == stronger
    assert unwrap_private_key(new, "new passphrase") == pair.private_key
    with pytest.raises(DecryptionError):
        unwrap_private_key(new, PASS)
    with pytest.raises(DecryptionError):
        rewrap_private_key(blob, "wrong", "x", cheap_profile)


def test_create_reviewer_keys(cheap_profile: KdfProfile) -> None:
    public, wrapped = create_reviewer_keys(PASS, cheap_profile)
    private = unwrap_private_key(wrapped, PASS)
    sealed = seal_to(public, b"case key")
    assert open_sealed(private, sealed) == b"case key"
