"""gunicorn's error log without clients' addresses.

`candor serve` turns the access log off, but gunicorn also writes a warning for a request it
cannot parse ("Invalid request from ip=203.0.113.7: Request Line is too large"), with the
time. A link made too long, sent to someone suspected of reporting, would then have logged
their address and the moment they opened it (outside tester). This logger writes every line
as gunicorn would, with the address left out.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

#: gunicorn names the client as "ip=<address>" (IPv4, IPv6 or a proxy's), up to a colon and
#: space or the end: "ip=::1: ..." keeps its colons.
_CLIENT = re.compile(r"ip=\S*?(?=: |$)|ip=\S+")


def without_addresses(message: object) -> object:
    """A log message with any client address gunicorn put in it replaced."""
    return _CLIENT.sub("ip=(not logged)", message) if isinstance(message, str) else message


class AddressFreeLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, minus clients' addresses (set as gunicorn's logger_class)."""

    def critical(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().critical(without_addresses(msg), *args, **kwargs)

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().error(without_addresses(msg), *args, **kwargs)

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().warning(without_addresses(msg), *args, **kwargs)

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().info(without_addresses(msg), *args, **kwargs)

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().debug(without_addresses(msg), *args, **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        super().exception(without_addresses(msg), *args, **kwargs)
