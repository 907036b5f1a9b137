"""Per-app state (services, database) and per-request helpers shared by the portal's views."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import TooManyRequests

from core.operations.throttle import take
from core.services import Services

EXTENSION_KEY = "candor.portal"


@dataclass
class PortalState:
    """What the portal's views need, created once by `create_app`."""

    services: Services
    engine: Engine
    sessions: sessionmaker[Session]


def portal_state() -> PortalState:
    """The current app's state."""
    state = current_app.extensions[EXTENSION_KEY]
    assert isinstance(state, PortalState)
    return state


def services() -> Services:
    """The current app's services."""
    return portal_state().services


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work, committed when the block ends without an exception."""
    with portal_state().sessions() as session, session.begin():
        yield session


def enforce_budget(name: str, limit: int, window: timedelta = timedelta(minutes=1)) -> None:
    """Count one request against a global budget; 429 with Retry-After when it is spent.

    Committed at once, in its own transaction, so that failed attempts count too.
    """
    with transaction() as session:
        wait = take(session, f"portal:{name}", limit=limit, window=window,
                    now=services().clock.now(), key=services().keyring.cookie_key)
    if wait is not None:
        raise TooManyRequests(retry_after=wait)
