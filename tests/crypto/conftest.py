"""Fixtures local to the crypto tests.

The cheap Argon2id profile lives here, in the test suite only: production code has no way to
select it. (Vector files are loaded by each test module from ``vectors/``.)
"""

from __future__ import annotations

import pytest

from crypto.kdf import KdfProfile
from crypto.stream import CHUNK_SIZES
from tests.crypto.stream_formats import Fmt

CHEAP = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)


@pytest.fixture(scope="session")
def cheap_profile() -> KdfProfile:
    return CHEAP


@pytest.fixture(params=sorted(CHUNK_SIZES), ids=lambda v: f"v{v}")
def fmt(request: pytest.FixtureRequest) -> Fmt:
    """Every stream format version: old blobs must keep decrypting."""
    return Fmt(request.param)
