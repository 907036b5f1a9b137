"""`candor serve portal|console`: run one of the two web apps."""

from __future__ import annotations

import importlib
import math
from typing import Any

import click
from flask import Flask

from cli.context import CliContext, pass_context
from core.config import Config

#: app name -> (module with create_app, default port)
APPS = {"portal": ("portal", 8080), "console": ("reviewer", 8081)}
#: Most --workers: each is a process of about 100 MB. Without a bound, a typo such as
#: --workers 100000 forked until the machine ran out of memory (outside tester); gunicorn's
#: advice is 2-4 per core, and threads (not workers) serve the slow clients.
MAX_WORKERS = 64
#: Longest --header-timeout / --idle-timeout (a day): far longer is a typo, and a socket
#: timeout beyond the platform's time_t fails in every worker instead of at startup.
MAX_CLIENT_TIMEOUT = 86_400.0


def build_app(name: str, config: Config) -> Flask:
    """Create the named app (imported lazily: the CLI must not load both apps' code)."""
    module = importlib.import_module(APPS[name][0])
    app: Flask = module.create_app(config)
    return app


class Seconds(click.FloatRange):
    """A duration in seconds, more than 0 and at most `maximum`: FloatRange lets "nan" through,
    and a socket refuses an infinite or NaN timeout only in the worker, long after startup."""

    name = "seconds"

    def __init__(self, maximum: float) -> None:
        super().__init__(min=0, min_open=True, max=maximum)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        """The number, or a usage error unless it is finite and within the range."""
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return seconds


def check_threads(threads: int, config: Config) -> str | None:
    """Refuse `--threads` that the database pool cannot serve; return a warning (or None)
    when the Argon2id queue's bound no longer leaves threads free.

    database_pool_size < threads is refused: under load a thread would wait for a connection
    and fail after the pool's timeout with a 500 (core.db.pool_settings). kdf_max_waiting >=
    threads only voids the flood protection (core.kdf_slots): every request is still
    answered, and small thread counts are legitimate for tests and the queue's own control
    experiment (tests/load/test_queue_bound.py), so that one is a warning.
    """
    if threads > config.database_pool_size:
        raise click.BadParameter(
            f"{threads} threads need at least as many database connections, but "
            f"database_pool_size is {config.database_pool_size}: use --threads "
            f"{config.database_pool_size} or fewer, or raise database_pool_size (candor.toml "
            "or CANDOR_DATABASE_POOL_SIZE)", param_hint="'--threads'")
    if config.kdf_max_waiting >= threads:
        return (f"kdf_max_waiting is {config.kdf_max_waiting}, not below --threads {threads}: "
                "a flood of receipt guesses can hold every thread in the Argon2id queue and "
                "keep pages that need no Argon2id waiting; lower kdf_max_waiting (candor.toml "
                f"or CANDOR_KDF_MAX_WAITING) below {threads} or raise --threads")
    return None


def drop_gunicorn_server_header() -> None:
    """Stop gunicorn from naming itself in a ``Server`` header on every response.

    The apps never send one (web.headers); gunicorn adds its own below them and has no setting
    to turn it off. Behind nginx (deploy/, the onion service included) it is replaced, but a
    deployment that reaches gunicorn directly would tell every visitor what serves the portal.
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
            # Nor clients' addresses in the error log (a request it cannot parse).
            self.cfg.set("logger_class", "cli.serve_logging.AddressFreeLogger")
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
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (portal 8080, console 8081).")
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=2, show_default=True,
              help=f"gunicorn workers (processes, about 100 MB each; at most {MAX_WORKERS}).")
@click.option("--threads", type=click.IntRange(min=1), default=32, show_default=True,
              help="Threads per gunicorn worker (each serves one request, or one upload while "
                   "it arrives; Argon2id is limited apart by kdf_slots). At most "
                   "database_pool_size; keep kdf_max_waiting below it.")
@click.option("--timeout", type=click.IntRange(min=1), default=3600, show_default=True,
              help="gunicorn worker timeout in seconds (large uploads on slow links).")
@click.option("--header-timeout", type=Seconds(MAX_CLIENT_TIMEOUT), default=20.0,
              show_default=True,
              help="Seconds a client has to send its request head (and a body of up to "
                   "64 KiB) before it is disconnected.")
@click.option("--idle-timeout", type=Seconds(MAX_CLIENT_TIMEOUT), default=60.0,
              show_default=True,
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
    if not dev:  # Werkzeug's server starts a thread per request: --threads means nothing there
        # Before the database is touched: a refused option should cost nothing to find out.
        warning = check_threads(threads, obj.config)
        if warning:
            click.echo(f"Warning: {warning}", err=True)
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
