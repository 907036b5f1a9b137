"""The console's shared state, created once by `create_app`, and its accessor for views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from flask import current_app

from core.config import Config
from core.services import Services

EXTENSION_KEY = "candor.console"


@dataclass
class Console:
    """What the console's views share: configuration and services (the database is
    web.database's, as in the portal)."""

    config: Config
    services: Services

    @property
    def secure_cookies(self) -> bool:
        """Secure, `__Host-` prefixed cookies unless plain http is allowed for development."""
        return not self.config.insecure_dev_cookies

    @property
    def cookie_name(self) -> str:
        """Name of the session cookie (the sealed-key session)."""
        return "__Host-candor-console" if self.secure_cookies else "candor-console"


def console() -> Console:
    """The console's shared state."""
    return cast(Console, current_app.extensions[EXTENSION_KEY])
