"""Instances for the command-line tests: a data directory and a database on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from tests.databases import fresh_database

if TYPE_CHECKING:
    from tests.cli.backup_instance import Instance

#: A passphrase the policy accepts, for commands that ask for one.
PASSPHRASE = "violet harbour cinnamon 7 ladders"


def run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    """`candor ARGS` in-process with this environment."""
    return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "db").mkdir()
    with fresh_database(backend, tmp_path / "db", with_schema=False) as url:
        yield url


@pytest.fixture
def env(tmp_path: Path, empty_database: str) -> dict[str, str]:
    """The environment of an instance that `candor init` has not made yet."""
    return {"CANDOR_DATA_DIR": str(tmp_path / "data"), "CANDOR_DATABASE_URL": empty_database}


@pytest.fixture
def initialised_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of an instance made by `candor init` (default categories)."""
    assert run(env, "init").exit_code == 0
    return env


def enrol(env: dict[str, str], username: str, one_time: str) -> None:
    """What the account's owner does at first login in the console: confirm the TOTP app and
    choose their own passphrase (which makes the key pair)."""
    import pyotp

    from core.config import load_config
    from core.db import make_engine, make_session_factory, transaction
    from core.services import build_services
    from core.staff.accounts import get_reviewer, totp_secret
    from core.staff.authentication import confirm_totp
    from core.staff.passphrase_change import change_passphrase

    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    with transaction(make_session_factory(engine)) as session:
        account = get_reviewer(session, username)
        secret = totp_secret(services, account)
        assert secret is not None
        assert confirm_totp(session, services, account, pyotp.TOTP(secret).now())
        change_passphrase(session, services, account, one_time, f"{username} own quartz 77")
    engine.dispose()


@pytest.fixture
def instance(env: dict[str, str]) -> Instance:
    """`candor init --recovery-key`, an enrolled case handler, one report with a file, and a
    signed checkpoint (tests.cli.backup_instance)."""
    from tests.cli.backup_instance import make_instance  # it uses `run` from here

    return make_instance(env)


@pytest.fixture
def empty_target(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a new instance: no data directory yet, an empty database."""
    (tmp_path / "db2").mkdir()
    with fresh_database(backend, tmp_path / "db2", with_schema=False) as url:
        yield {"CANDOR_DATA_DIR": str(tmp_path / "restored"), "CANDOR_DATABASE_URL": url}


def enrolment_code(env: dict[str, str], username: str) -> str:
    """The code an enrolled account's owner sees while waiting for approval."""
    from core.config import load_config
    from core.db import make_engine, make_session_factory
    from core.services import build_services
    from core.staff.accounts import get_reviewer
    from core.staff.enrolment_codes import code_of

    config = load_config(env)
    services = build_services(config)
    engine = make_engine(config.database_url)
    with make_session_factory(engine)() as session:
        code = code_of(services.keyring, get_reviewer(session, username))
    engine.dispose()
    assert code is not None
    return code
