"""Shared fixtures. Every test that touches the database runs on SQLite AND PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.blobs import FileSystemBlobStore
from core.clock import Clock
from core.config import Config, load_config
from core.db import make_engine, make_session_factory
from core.keyring import Keyring
from core.services import Services
from crypto.kdf import KdfProfile
from crypto.keys import KeyPair
from crypto.recovery import generate_recovery_key
from tests.databases import drop_template, fresh_database

#: The only place a cheap Argon2id profile exists: production code cannot select it.
CHEAP_KDF = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)

BACKENDS = ["sqlite", "postgresql"]

# No per-example deadline: on a shared, noisy machine one stalled example (hypothesis's
# default allows 200 ms) would fail a property that holds. Failures print their seed blob.
settings.register_profile("candor", deadline=None, print_blob=True)
settings.load_profile("candor")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_template()


@pytest.fixture
def cheap_kdf() -> KdfProfile:
    """The cheap KDF profile, for tests that call crypto directly."""
    return CHEAP_KDF


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database with the schema, on each backend."""
    with fresh_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def recovery_key() -> KeyPair:
    """The organisation recovery key pair of the test instance."""
    return generate_recovery_key()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    return load_config({}, data_dir=data_dir, database_url=database_url, kdf=CHEAP_KDF)


@pytest.fixture
def services(config: Config, recovery_key: KeyPair) -> Services:
    return Services(
        config=config,
        keyring=Keyring.generate(recovery_public_key=recovery_key.public_key),
        blobs=FileSystemBlobStore(config.blob_dir),
        clock=Clock(),
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and asserting (use cases run in their own transactions)."""
    with session_factory() as s:
        yield s
