"""Strip client metadata (address, user agent, forwarding headers) before the app sees it.

The only thing that survives is one boolean: whether the request came from a company
network, so the portal can warn the submitter. The address is compared in memory and then
dropped; it is never stored or logged.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ENVIRON_KEY = "candor.company_network"
PLACEHOLDER_ADDR = "0.0.0.0"  # noqa: S104 - a placeholder value, not a bind address

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Headers that carry (or may carry) the client's address or identify its software.
_DROPPED_KEYS = (
    "REMOTE_PORT",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
    "HTTP_FORWARDED_FOR",
    "HTTP_X_FORWARDED",
    "HTTP_CF_CONNECTING_IP",
    "HTTP_TRUE_CLIENT_IP",
    "HTTP_X_CLIENT_IP",
    "HTTP_CLIENT_IP",
    "HTTP_X_CLUSTER_CLIENT_IP",
    "HTTP_X_ORIGINATING_IP",
    "HTTP_FASTLY_CLIENT_IP",
    "HTTP_USER_AGENT",
    "HTTP_VIA",
    "HTTP_FROM",
    # With Referrer-Policy: no-referrer our own pages send none; a Referer from another
    # site (an intranet link, a search) would only tell us where the submitter came from.
    "HTTP_REFERER",
    # werkzeug's ProxyFix keeps the original address here; it must not survive either.
    "werkzeug.proxy_fix.orig",
)
# User-agent client hints (Sec-CH-UA, Sec-CH-UA-Platform, ...) and other client hints.
_DROPPED_PREFIXES = ("HTTP_SEC_CH_",)


def parse_networks(networks: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    """Parse CIDR ranges ("10.0.0.0/8", "2001:db8::/32"); host bits are tolerated."""
    return tuple(
        n
        if isinstance(n, ipaddress.IPv4Network | ipaddress.IPv6Network)
        else ipaddress.ip_network(n.strip(), strict=False)
        for n in networks
    )


def parse_address(value: str) -> IPAddress | None:
    """Parse one address as found in REMOTE_ADDR or X-Forwarded-For; None if malformed.

    Accepts "[v6]:port", "v4:port" and IPv4-mapped IPv6 (returned as IPv4), because proxies
    write all of these.
    """
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return addr.ipv4_mapped
        if addr.scope_id is not None:
            # A zone index ("%eth0") would make containment checks fail.
            return ipaddress.IPv6Address(text.partition("%")[0])
    return addr


def client_address(environ: WSGIEnvironment, trusted_proxies: int) -> IPAddress | None:
    """Return the client address: REMOTE_ADDR, or the N-th X-Forwarded-For entry from the right.

    With N trusted proxies, each appends the address it saw, so the N-th entry from the
    right was written by the outermost trusted proxy. Entries further left are supplied by
    the client and are ignored. Too few entries means the request bypassed a proxy: unknown.
    """
    if trusted_proxies <= 0:
        return parse_address(str(environ.get("REMOTE_ADDR", "")))
    header = str(environ.get("HTTP_X_FORWARDED_FOR", ""))
    entries = [e for e in (p.strip() for p in header.split(",")) if e]
    if len(entries) < trusted_proxies:
        if entries:
            _warn_too_many_proxies(trusted_proxies, len(entries))
        return None
    return parse_address(entries[-trusted_proxies])


_warned: set[tuple[int, int]] = set()


def _warn_too_many_proxies(configured: int, seen: int) -> None:
    """Say once per process that fewer proxies than configured forwarded a request.

    A setting higher than the real number of proxies lets a client put any address of its
    choice where the outermost proxy's entry is expected (and fake the company-network
    warning); the first request a plain browser sends through the real proxies shows it.
    Nothing about the request is logged, only the two numbers.
    """
    if (configured, seen) in _warned:
        return
    _warned.add((configured, seen))
    logging.getLogger("candor.portal").warning(
        "trusted_proxies = %d, but a request came through %d proxies: set trusted_proxies to "
        "the real number of proxies in front of the portal, or a client can fake its address "
        "(and the company-network warning)", configured, seen)


def in_networks(addr: IPAddress | None, networks: Iterable[IPNetwork]) -> bool:
    """True if ``addr`` lies in any of ``networks`` (False for an unknown address)."""
    if addr is None:
        return False
    return any(addr.version == net.version and addr in net for net in networks)


class StripClientMetadata:
    """WSGI middleware: compute the company-network flag, then erase client metadata.

    Wrap the Flask app's WSGI callable as the outermost layer::

        app.wsgi_app = StripClientMetadata(app.wsgi_app, company_networks=[...],
                                           trusted_proxies=1)

    After it runs, ``environ["candor.company_network"]`` is a bool, REMOTE_ADDR is
    "0.0.0.0", and REMOTE_PORT, forwarding headers, User-Agent, client hints, Via, From and
    Referer are gone. X-Forwarded-Proto/Host/Port/Prefix are kept so an inner ProxyFix (with
    ``x_for=0``) can still build correct URLs.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        company_networks: Iterable[str | IPNetwork] = (),
        trusted_proxies: int = 0,
    ) -> None:
        if trusted_proxies < 0:
            raise ValueError("trusted_proxies must be >= 0")
        self.app = app
        self.networks = parse_networks(company_networks)
        self.trusted_proxies = trusted_proxies

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        addr = client_address(environ, self.trusted_proxies)
        environ[ENVIRON_KEY] = in_networks(addr, self.networks)
        strip_environ(environ)
        return self.app(environ, start_response)


def strip_environ(environ: dict[str, Any]) -> None:
    """Erase client-identifying keys from a WSGI environ in place."""
    environ["REMOTE_ADDR"] = PLACEHOLDER_ADDR
    for key in _DROPPED_KEYS:
        environ.pop(key, None)
    for key in [k for k in environ if k.startswith(_DROPPED_PREFIXES)]:
        del environ[key]


def from_company_network() -> bool:
    """Return the flag computed by :class:`StripClientMetadata` for the current request."""
    return request.environ.get(ENVIRON_KEY) is True


def install_no_logging(app: Flask) -> None:
    """Silence per-request logging that would record client addresses.

    The werkzeug development server logs every request line with the peer address (taken
    from the socket, so the middleware cannot hide it); its logger is disabled here. In
    production, gunicorn's access log must be off as well (``accesslog = None``) and the
    reverse proxy must not log addresses.
    """
    del app  # the werkzeug logger is process-wide; ``app`` keeps the call site explicit
    logging.getLogger("werkzeug").disabled = True
