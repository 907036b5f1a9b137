"""Per-app state (services, database engine) and the shared budgets of the portal's views.

The request's database work goes through web.database (`db()`, committed after the view)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from werkzeug.exceptions import TooManyRequests

from core.services import Services
from web.database import separate_transaction

EXTENSION_KEY = "candor.portal"


@dataclass
class PortalState:
    """What the portal's views need, created once by `create_app`."""

    services: Services


def portal_state() -> PortalState:
    """The current app's state."""
    state = current_app.extensions[EXTENSION_KEY]
    assert isinstance(state, PortalState)
    return state


def services() -> Services:
    """The current app's services."""
    return portal_state().services


def enforce_budget(name: str, limit: int, window: timedelta = timedelta(minutes=1)) -> None:
    """Count one request against a global budget; 429 with Retry-After when it is spent.

    Counted at once, so that failed attempts count too: in Redis when the instance uses it,
    else in a database transaction of its own.
    """
    throttle = services().throttle
    bucket, now = f"portal:{name}", services().clock.now()
    if throttle.uses_database:
        with separate_transaction() as session:
            wait = throttle.take(session, bucket, limit=limit, window=window, now=now)
    else:
        wait = throttle.take(None, bucket, limit=limit, window=window, now=now)
    if wait is not None:
        raise TooManyRequests(retry_after=wait)
