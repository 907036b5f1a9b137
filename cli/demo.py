"""`candor demo`: a throw-away instance with a demo reviewer, portal and console running."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from pathlib import Path

import click

from cli.context import CliContext
from cli.serve import build_app
from core.categories.lookup import seed_default_categories, set_intake
from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.keyring import Keyring, write_keyring
from core.models import Category, Role
from core.services import build_services
from core.staff.accounts import add_reviewer
from crypto.recovery import export_private_key, generate_recovery_key
from migrations.runner import upgrade

CREDENTIALS_FILE = "demo-credentials.json"
DEMO_USER = "demo"


def _create_demo_instance(data_dir: Path) -> dict[str, str]:
    """Initialise a demo data directory and return the demo login details."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = load_config({}, data_dir=data_dir)
    recovery = generate_recovery_key()
    write_keyring(config, Keyring.generate(recovery_public_key=recovery.public_key))
    upgrade(config.database_url)
    services = build_services(config)
    engine = make_engine(config.database_url)
    passphrase = "demo " + os.urandom(6).hex() + " lantern orchard"
    with transaction(make_session_factory(engine)) as session:
        seed_default_categories(session)
        created = add_reviewer(session, services, username=DEMO_USER, role=Role.REVIEWER,
                               passphrase=passphrase)
        # A demo convenience: no forced change of the printed passphrase.
        created.reviewer.must_change_passphrase = False
        for category in session.query(Category).all():
            set_intake(session, category.code, [created.reviewer])
    engine.dispose()
    details = {"username": DEMO_USER, "passphrase": passphrase,
               "totp_secret": created.totp_secret, "totp_uri": created.provisioning_uri,
               "recovery_key": export_private_key(recovery.private_key)}
    path = data_dir / CREDENTIALS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(details, handle, indent=2)
    return details


@click.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("demo-instance"),
              show_default=True, help="Where the demo keeps its data (created if missing).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--portal-port", type=int, default=8080, show_default=True)
@click.option("--console-port", type=int, default=8081, show_default=True)
@click.option("--no-serve", is_flag=True, help="Only create the demo instance.")
def demo(data_dir: Path, host: str, portal_port: int, console_port: int, no_serve: bool) -> None:
    """Run a demo: portal and console on localhost with a demo reviewer.

    Not for production: the demo keeps its reviewer's passphrase, TOTP secret and recovery key
    in a file in its data directory, and serves plain http.
    """
    data_dir = data_dir.absolute()
    credentials_path = data_dir / CREDENTIALS_FILE
    if credentials_path.exists():
        details = json.loads(credentials_path.read_text())
    elif data_dir.exists() and any(data_dir.iterdir()):
        raise click.ClickException(f"{data_dir} exists but is not a demo instance")
    else:
        details = _create_demo_instance(data_dir)
    config = replace(load_config({}, data_dir=data_dir), insecure_dev_cookies=True)
    obj = CliContext(_config=config)
    obj.check_database()
    upgrade(config.database_url)
    click.echo(f"Demo instance: {data_dir}")
    click.echo(f"  Portal (reporters):        http://{host}:{portal_port}/")
    click.echo(f"  Console (case handlers):   http://{host}:{console_port}/")
    click.echo(f"  Console login: {details['username']} / {details['passphrase']}")
    click.echo(f"  TOTP secret: {details['totp_secret']}  (python -c \"import pyotp; "
               f"print(pyotp.TOTP('{details['totp_secret']}').now())\")")
    click.echo(f"  Recovery key: {details['recovery_key']}")
    if no_serve:
        return
    from werkzeug.serving import make_server

    # The portal's factory silences Werkzeug's request log (it would record addresses).
    servers = [make_server(host, port, build_app(name, config), threaded=True)
               for name, port in (("portal", portal_port), ("console", console_port))]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    click.echo("Press Ctrl+C to stop.")
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        for server in servers:
            server.shutdown()
