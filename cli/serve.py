"""`candor serve portal|console`: run one of the two web apps."""

from __future__ import annotations

import importlib
from typing import Any

import click
from flask import Flask

from cli.context import CliContext, pass_context
from core.config import Config

#: app name -> (module with create_app, default port)
APPS = {"portal": ("portal", 8080), "console": ("reviewer", 8081)}


def build_app(name: str, config: Config) -> Flask:
    """Create the named app (imported lazily: the CLI must not load both apps' code)."""
    module = importlib.import_module(APPS[name][0])
    app: Flask = module.create_app(config)
    return app


def drop_gunicorn_server_header() -> None:
    """Stop gunicorn from naming itself in a ``Server`` header on every response.

    The apps never send one (web.headers); gunicorn adds its own below them and has no setting
    to turn it off. Behind nginx it is replaced, but the onion service (deploy/) reaches
    gunicorn directly, and the header would tell every visitor what serves the portal.
    tests/cli/test_serve.py checks a real response, so a gunicorn that changes this fails there.
    """
    from gunicorn.http import wsgi

    if getattr(wsgi.Response.default_headers, "_candor_no_server", False):
        return
    original = wsgi.Response.default_headers

    def default_headers(self: Any) -> list[str]:
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers._candor_no_server = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers


def run_gunicorn(app: Flask, host: str, port: int, workers: int, threads: int,
                 timeout: int) -> None:
    """Serve with gunicorn in this process (production)."""
    from gunicorn.app.base import BaseApplication

    drop_gunicorn_server_header()

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # Threads: a few slow uploads (a reporter on Tor, or someone trickling bytes on
            # purpose) must not occupy every worker.
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", timeout)
            # No access log: it would record submitters' addresses and times.
            self.cfg.set("accesslog", None)
            # gunicorn 24+ opens a control socket in the home directory, one path shared by
            # every instance on the machine (and by anyone running as the same user): off.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)
            self.cfg.set("errorlog", "-")

        def load(self) -> Any:
            return app

    _Server().run()


@click.command()
@click.argument("name", type=click.Choice(sorted(APPS)))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the console on a private interface.")
@click.option("--port", type=int, default=None, help="Port (portal 8080, console 8081).")
@click.option("--workers", type=int, default=2, show_default=True, help="gunicorn workers.")
@click.option("--threads", type=int, default=8, show_default=True,
              help="Threads per gunicorn worker (each serves one request at a time).")
@click.option("--timeout", type=int, default=3600, show_default=True,
              help="gunicorn worker timeout in seconds (large uploads on slow links).")
@click.option("--dev", is_flag=True, help="Werkzeug's development server instead of gunicorn.")
@pass_context
def serve(obj: CliContext, name: str, host: str, port: int | None, workers: int, threads: int,
          timeout: int, dev: bool) -> None:
    """Serve the submitter portal or the reviewer console.

    Browsers must reach it over HTTPS (a TLS proxy in front, see deploy/), as an onion
    service, or on localhost: its cookies are Secure, so forms fail over plain http
    elsewhere.
    """
    obj.require_data_dir()
    obj.check_database()
    obj.check_schema()  # the apps refuse an outdated schema too; this says it in one line
    app = build_app(name, obj.config)
    port = port or APPS[name][1]
    if dev:
        from werkzeug.serving import run_simple

        run_simple(host, port, app, threaded=True)
    else:
        run_gunicorn(app, host, port, workers, threads, timeout)
