"""What the benches of the console share: a fresh instance (schema, services with a cheap
KDF), a reviewer with a key pair, and a logged-in test client that counts SQL statements."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from core.blobs import FileSystemBlobStore
from core.clock import Clock
from core.config import load_config
from core.db import create_schema, make_engine, make_session_factory, transaction
from core.keyring import Keyring
from core.models import Reviewer, Role
from core.services import Services
from core.staff import authentication as staff_auth
from core.staff.accounts import add_reviewer
from core.staff.passphrase_change import apply_change, basis_of, prepare_change
from crypto.kdf import KdfProfile
from crypto.reviewer_keys import unwrap_private_key

BENCH_KDF = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)  # logins are not measured
PASSPHRASE = "bench lantern orchard quartz 4711"


def new_instance(stack: ExitStack, database_url: str,
                 data_dir: Path) -> tuple[Services, sessionmaker[Session]]:
    """Services and a session factory on a fresh schema at `database_url` (the engine is
    disposed when `stack` closes)."""
    config = load_config({}, data_dir=data_dir, database_url=database_url, kdf=BENCH_KDF)
    services = Services(config=config, keyring=Keyring.generate(),
                        blobs=FileSystemBlobStore(config.blob_dir), clock=Clock())
    engine = make_engine(database_url)
    stack.callback(engine.dispose)
    create_schema(engine)
    return services, make_session_factory(engine)


def add_bench_reviewer(session: Session, services: Services, username: str = "bench") -> Reviewer:
    """A case handler with TOTP done and a key pair under PASSPHRASE (enrolment's own step)."""
    created = add_reviewer(session, services, username=username, role=Role.REVIEWER,
                           passphrase=PASSPHRASE)
    created.reviewer.totp_confirmed = True
    created.reviewer.must_change_passphrase = False
    apply_change(session, services, created.reviewer, prepare_change(
        services.config.kdf, basis_of(created.reviewer), PASSPHRASE, PASSPHRASE))
    return created.reviewer


def private_key_of(reviewer: Reviewer) -> bytes:
    """The bench reviewer's private key (what their login unwraps)."""
    return unwrap_private_key(reviewer.wrapped_private_key, PASSPHRASE)


def console_client(stack: ExitStack, services: Services, factory: sessionmaker[Session],
                   reviewer_id: int, private_key: bytes) -> tuple[Any, list[str]]:
    """A console test client logged in as the reviewer, and the list the console's engine
    appends each SQL statement to (clear it before a fetch, count it after)."""
    from reviewer import create_app

    app = create_app(services.config, services=services)
    with transaction(factory) as s:
        reviewer = s.get(Reviewer, reviewer_id)
        assert reviewer is not None
        token = staff_auth.create_session(s, services, reviewer, private_key)
    client = app.test_client()
    client.set_cookie(app.extensions["candor.console"].cookie_name, token.encode())
    app_engine = app.extensions["candor.database"].engine
    stack.callback(app_engine.dispose)
    statements: list[str] = []
    event.listen(app_engine, "before_cursor_execute",
                 lambda *args, **_kw: statements.append(args[2]))
    return client, statements
