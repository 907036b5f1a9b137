"""`candor demo`: a throw-away instance with a demo reviewer, portal and console running."""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from cli.context import CliContext
from cli.serve import build_app
from core.categories.intake_routes import set_intake
from core.categories.lookup import list_categories, seed_default_categories
from core.config import Config, load_config
from core.db import make_engine, make_session_factory, transaction
from core.errors import NotFound
from core.keyring import Keyring, write_keyring
from core.models import Role
from core.services import build_services
from core.staff.accounts import add_reviewer, get_reviewer
from core.staff.passphrases import prepare_passphrase, verify_passphrase
from crypto.recovery import export_private_key, generate_recovery_key
from migrations.runner import upgrade

CREDENTIALS_FILE = "demo-credentials.json"
DEMO_USER = "demo"

#: (username, role, what the account is for), in the order the demo prints them. The second
#: case handler receives no reports: add them to a case with "Add a colleague".
DEMO_ACCOUNTS = (
    (DEMO_USER, Role.REVIEWER, "Case handler (receives every new report)"),
    ("demo.colleague", Role.REVIEWER,
     "Second case handler (to try \"add a colleague\"; make them identity custodian with "
     "`candor reviewer custodian demo.colleague` once they chose their passphrase)"),
    ("demo.admin", Role.ADMIN, "Administrator (accounts and routing; no case content)"),
)


def _create_demo_instance(data_dir: Path) -> dict[str, Any]:
    """Initialise a demo data directory and return the demo login details."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = load_config({}, data_dir=data_dir)
    recovery = generate_recovery_key()
    write_keyring(config, Keyring.generate(recovery_public_key=recovery.public_key))
    upgrade(config.database_url)
    services = build_services(config)
    engine = make_engine(config.database_url)
    accounts = []
    # Hashed before the transaction (on SQLite it holds the write lock). As for any account,
    # the printed passphrase must be changed at first login.
    passphrases = [prepare_passphrase("demo " + os.urandom(6).hex() + " lantern orchard",
                                      services.config.kdf) for _ in DEMO_ACCOUNTS]
    with transaction(make_session_factory(engine)) as session:
        seed_default_categories(session)
        for (username, role, purpose), passphrase in zip(DEMO_ACCOUNTS, passphrases,
                                                         strict=True):
            created = add_reviewer(session, services, username=username, role=role,
                                   passphrase=passphrase)
            accounts.append({"username": username, "purpose": purpose,
                             "passphrase": passphrase.text,
                             "totp_secret": created.totp_secret})
            if username == DEMO_USER:
                for category in list_categories(session):
                    set_intake(session, services.keyring, category.code, [created.reviewer])
    engine.dispose()
    details = {"accounts": accounts,
               "recovery_key": export_private_key(recovery.private_key)}
    path = data_dir / CREDENTIALS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(details, handle, indent=2)
    return details


def _stored_accounts(details: dict[str, Any]) -> list[dict[str, str]]:
    """The demo's accounts (a demo made by an older version has only "demo")."""
    if "accounts" in details:
        return list(details["accounts"])
    return [{"username": details["username"], "purpose": DEMO_ACCOUNTS[0][2],
             "passphrase": details["passphrase"], "totp_secret": details["totp_secret"]}]


def _still_valid(config: Config, accounts: list[dict[str, str]]) -> dict[str, bool]:
    """Whether each printed passphrase still opens its account (not once it was changed)."""
    services = build_services(config)
    engine = make_engine(config.database_url)
    hashes: dict[str, str | None] = {}
    # The hashes are read first and checked after the session closed: no transaction is open
    # across an Argon2id (on SQLite it would hold the write lock).
    with make_session_factory(engine)() as session:
        for account in accounts:
            try:
                hashes[account["username"]] = get_reviewer(
                    session, account["username"]).passphrase_hash
            except NotFound:
                hashes[account["username"]] = None
    engine.dispose()
    valid = {account["username"]: stored is not None and verify_passphrase(
                 stored, account["passphrase"], services.config.kdf)
             for account in accounts for stored in [hashes[account["username"]]]}
    return valid


def print_credentials(details: dict[str, Any], valid: dict[str, bool]) -> None:
    """The demo's accounts, one labelled line per detail."""
    click.echo("  Accounts (each chooses its own passphrase at first login):")
    for account in _stored_accounts(details):
        click.echo(f"    {account['purpose']}")
        click.echo(f"      Login:        {account['username']}")
        if valid.get(account["username"]):
            click.echo(f"      Passphrase:   {account['passphrase']}")
        else:
            click.echo("      Passphrase:   changed since the demo was made: use the one you "
                       "chose")
        click.echo(f"      TOTP secret:  {account['totp_secret']}")
    # The interpreter running Candor has pyotp; the system's python may not (outside tester).
    click.echo(f"  A TOTP code now: {sys.executable} -c "
               "\"import pyotp; print(pyotp.TOTP('SECRET').now())\"")
    click.echo(f"  Recovery key: {details['recovery_key']}")


@click.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("demo-instance"),
              show_default=True, help="Where the demo keeps its data (created if missing).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--portal-port", type=int, default=8080, show_default=True)
@click.option("--console-port", type=int, default=8081, show_default=True)
@click.option("--no-serve", is_flag=True, help="Only create the demo instance.")
def demo(data_dir: Path, host: str, portal_port: int, console_port: int, no_serve: bool) -> None:
    """Run a demo: portal and console on localhost with two case handlers and an admin.

    Not for production: the demo keeps its accounts' first passphrases, TOTP secrets and the
    recovery key in a file in its data directory, and serves plain http. Each account must
    change its passphrase at first login; run again, the demo says which were changed.
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
    if no_serve:  # nothing listens: printing addresses would send people to a dead page
        options = [("--data-dir", str(data_dir)), ("--host", host),
                   ("--portal-port", str(portal_port)), ("--console-port", str(console_port))]
        command = " ".join(f"{name} {shlex.quote(value)}" for name, value in options)
        click.echo(f"  Not served (--no-serve). Serve it with: candor demo {command}")
    else:
        click.echo(f"  Portal (reporters):  http://{host}:{portal_port}/")
        click.echo(f"  Console (staff):     http://{host}:{console_port}/")
    print_credentials(details, _still_valid(config, _stored_accounts(details)))
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
