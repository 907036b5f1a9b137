"""A real HTTP server for portal tests, and a small client that keeps cookies."""

from __future__ import annotations

import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message as HeaderMessage

from flask import Flask

# --- a real HTTP server ---------------------------------------------------------------------------


class LiveServer:
    """The app served by werkzeug in a thread on 127.0.0.1:<free port>."""

    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@contextmanager
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class HttpResponse:
    status: int
    headers: HeaderMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class HttpClient:
    """urllib with a cookie jar; redirects are returned, not followed."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.headers = dict(headers or {})

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers={**self.headers, **(headers or {})}
        )
        try:
            with self.opener.open(req, timeout=60) as resp:
                return HttpResponse(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as err:
            with err:
                return HttpResponse(err.code, err.headers, err.read())

    def get(self, path: str, **kwargs: object) -> HttpResponse:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def post_form(self, path: str, fields: list[tuple[str, str]]) -> HttpResponse:
        body = urllib.parse.urlencode(fields).encode("ascii")
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_multipart(
        self,
        path: str,
        fields: list[tuple[str, str | bytes]],
        files: list[tuple[str, str | bytes, bytes]] = (),
    ) -> HttpResponse:
        from tests.portal.conftest import multipart_body  # the conftest imports this module

        body, content_type = multipart_body(fields, files)
        return self.request("POST", path, body, {"Content-Type": content_type})
