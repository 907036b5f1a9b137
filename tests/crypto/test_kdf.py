import json
from pathlib import Path

import pytest

from crypto.kdf import PRODUCTION, SALT_BYTES, KdfProfile, derive_key

VECTORS = json.loads((Path(__file__).parent / "vectors" / "kdf.json").read_text("utf-8"))


@pytest.mark.parametrize("v", VECTORS["derive_key"])
def test_known_answers(v: dict) -> None:
    profile = KdfProfile(**v["profile"])
    key = derive_key(bytes.fromhex(v["secret"]), bytes.fromhex(v["salt"]), profile, v["length"])
    assert key.hex() == v["key"]


def test_production_meets_rfc9106_second_recommendation() -> None:
    assert PRODUCTION.time_cost >= 3
    assert PRODUCTION.memory_kib >= 65536
    assert PRODUCTION.parallelism >= 1
    assert SALT_BYTES >= 16


def test_profile_and_salt_change_output(cheap_profile: KdfProfile) -> None:
    salt = bytes(16)
    base = derive_key(b"secret", salt, cheap_profile)
    assert len(base) == 32
    assert derive_key(b"secret", salt, cheap_profile) == base
    assert derive_key(b"secret", b"\x01" * 16, cheap_profile) != base
    assert derive_key(b"secret", salt, KdfProfile(2, 8, 1)) != base
    assert derive_key(b"secret", salt, KdfProfile(1, 16, 1)) != base
    assert derive_key(b"secreT", salt, cheap_profile) != base
    assert len(derive_key(b"secret", salt, cheap_profile, 64)) == 64


@pytest.mark.parametrize(
    "args", [(0, 8, 1), (1, 8, 0), (1, 7, 1), (1, 8, 2)], ids=["t0", "p0", "m7", "m<8p"]
)
def test_invalid_profiles_rejected(args: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        KdfProfile(*args)


def test_short_salt_rejected(cheap_profile: KdfProfile) -> None:
    with pytest.raises(ValueError):
        derive_key(b"x", b"short", cheap_profile)
    with pytest.raises(TypeError):
        derive_key("x", bytes(16), cheap_profile)  # type: ignore[arg-type]
