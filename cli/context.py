"""Lazily built configuration, database and services for one CLI invocation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.clock import Clock
from core.config import Config, ConfigError, load_config
from core.db import DatabaseUnavailable, check_connection, make_engine, make_session_factory
from core.errors import DomainError
from core.keyring import KeyringError
from core.schema import SchemaOutdated, check_schema
from core.services import Services, build_services
from crypto.errors import CryptoError


@dataclass
class CliContext:
    """Shared state of a `candor` invocation (built on first use, so `--help` needs nothing)."""

    _config: Config | None = None
    _engine: Engine | None = None
    _services: Services | None = None
    _checked: bool = field(default=False)
    _schema_checked: bool = field(default=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config()
        return self._config

    def require_data_dir(self) -> None:
        """Fail clearly when `candor init` has not been run for this data directory."""
        if not self.config.data_dir.is_dir():
            raise click.ClickException(
                f"data directory {self.config.data_dir} does not exist; run `candor init` "
                "or set CANDOR_DATA_DIR")

    @property
    def engine(self) -> Engine:
        self.require_data_dir()
        if self._engine is None:
            self._engine = make_engine(self.config.database_url)
        if not self._checked:
            check_connection(self._engine)
            self._checked = True
        return self._engine

    def check_database(self) -> None:
        """Raise DatabaseUnavailable with a one-line reason unless the database answers."""
        _ = self.engine

    def check_schema(self) -> None:
        """Raise SchemaOutdated (which migrations are missing, and to run `candor db
        upgrade`) unless the database is at the schema this code needs."""
        if not self._schema_checked:
            check_schema(self.engine)
            self._schema_checked = True

    @property
    def services(self) -> Services:
        if self._services is None:
            self.require_data_dir()
            self._services = build_services(self.config)
        return self._services

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error. The
        schema is checked first: an outdated database is refused before any work."""
        self.check_schema()
        factory = make_session_factory(self.engine, statistics_day=self.statistics_day)
        with factory() as session, session.begin():
            yield session

    def statistics_day(self) -> date:
        """The start of the organisation's reporter period (core.clock.Clock.statistics_day):
        from the services' clock once they are built (tests move it), else from the
        configuration."""
        if self._services is not None:
            return self._services.clock.statistics_day()
        return Clock(precision=self.config.submitter_date_precision,
                     zone=ZoneInfo(self.config.timezone)).statistics_day()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


#: Expected failures: shown as one line on stderr, exit status 1, no traceback.
USER_ERRORS = (ConfigError, KeyringError, DatabaseUnavailable, SchemaOutdated, DomainError,
               CryptoError)


pass_context = click.make_pass_decorator(CliContext, ensure=True)
