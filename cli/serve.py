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
                 timeout: int, *, header_timeout: float = 20.0,
                 idle_timeout: float = 60.0) -> None:
    """Serve with gunicorn in this process (production)."""
    from gunicorn.app.base import BaseApplication

    from cli import http_worker

    drop_gunicorn_server_header()
    http_worker.configure(header_timeout=header_timeout, idle_timeout=idle_timeout)

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # gthread with request heads read in the event loop and idle timeouts
            # (cli.http_worker): slow clients cost a socket, not a thread. Uploads still hold
            # a thread while they stream in, hence many threads; CPU work is bounded apart.
            self.cfg.set("worker_class", "cli.http_worker.SlowClientSafeWorker")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", timeout)
            # No access log: it would record submitters' addresses and times.
            self.cfg.set("accesslog", None)
            # gunicorn 24+ opens a control socket in the home directory, one path shared by
            # every instance on the machine (and by anyone running as the same user): off.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)
            self.cfg.set("errorlog", "-")
            self.cfg.set("post_fork", post_fork)

        def load(self) -> Any:
            return app

    def post_fork(_server: Any, _worker: Any) -> None:
        # A worker must open its own database connections, never use one inherited from the
        # master (SQLAlchemy's advice for forked processes: forget the pool, close nothing).
        database = app.extensions.get("candor.database")
        if database is not None:
            database.engine.dispose(close=False)

    _Server().run()


@click.command()
@click.argument("name", type=click.Choice(sorted(APPS)))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the console on a private interface.")
@click.option("--port", type=int, default=None, help="Port (portal 8080, console 8081).")
@click.option("--workers", type=int, default=2, show_default=True, help="gunicorn workers.")
@click.option("--threads", type=int, default=32, show_default=True,
              help="Threads per gunicorn worker (each serves one request, or one upload while "
                   "it arrives; Argon2id is limited apart by kdf_slots).")
@click.option("--timeout", type=int, default=3600, show_default=True,
              help="gunicorn worker timeout in seconds (large uploads on slow links).")
@click.option("--header-timeout", type=float, default=20.0, show_default=True,
              help="Seconds a client has to send its request head (and a body of up to "
                   "64 KiB) before it is disconnected.")
@click.option("--idle-timeout", type=float, default=60.0, show_default=True,
              help="Seconds a read or write may wait for the client; a slow but steady "
                   "upload is never cut, a stalled one is.")
@click.option("--dev", is_flag=True, help="Werkzeug's development server instead of gunicorn.")
@pass_context
def serve(obj: CliContext, name: str, host: str, port: int | None, workers: int, threads: int,
          timeout: int, header_timeout: float, idle_timeout: float, dev: bool) -> None:
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
        run_gunicorn(app, host, port, workers, threads, timeout,
                     header_timeout=header_timeout, idle_timeout=idle_timeout)
