"""`candor init`: create the data directory, the secrets files and the database."""

from __future__ import annotations

import os

import click

from cli.context import CliContext, pass_context
from cli.db_commands import upgrade_database
from core.audit.checkpoints import verifier_key
from core.categories.lookup import seed_default_categories
from core.keyring import Keyring, KeyringError, write_keyring
from crypto.recovery import export_private_key, generate_recovery_key

RECOVERY_WARNING = """\
Organisation recovery key (private half). It is shown ONCE and stored nowhere.
Write it down or print it, and keep it offline, e.g. in a safe, with two people
who must both be present to use it. Anyone holding it can read every case.

    {key}
"""


@click.command()
@click.option("--recovery-key/--no-recovery-key", default=False, show_default=True,
              help="Create an organisation recovery key and print its private half once.")
@pass_context
def init(obj: CliContext, recovery_key: bool) -> None:
    """Create the data directory, its secrets files and the database.

    Refuses to run where secrets already exist: overwriting them would make every stored
    case unreadable.
    """
    config = obj.config
    if config.secrets_dir.exists() and any(config.secrets_dir.iterdir()):
        raise KeyringError(f"{config.secrets_dir} already holds secrets; refusing to overwrite "
                           "them (use `candor db upgrade` to update an existing instance)")
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(config.data_dir, 0o700)
    obj.check_database()  # before writing secrets, so a typo in the URL costs nothing
    recovery = generate_recovery_key() if recovery_key else None
    write_keyring(config, Keyring.generate(
        recovery_public_key=recovery.public_key if recovery else None))
    upgrade_database(obj)
    with obj.transaction() as session:
        added = seed_default_categories(session)
    click.echo(f"Initialised {config.data_dir}")
    click.echo(f"  secrets:  {config.secrets_dir} (folder 0700, files 0600; back them up, "
               "keep them private)")
    click.echo(f"  database: {obj.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"  categories: {added} default categories added")
    verifier = verifier_key(obj.services)
    click.echo("  access log verifier key (give it to your auditors; `candor audit key` "
               "prints it again):")
    click.echo(f"    {verifier.encode()}")
    click.echo(f"    fingerprint: {verifier.fingerprint}")
    if recovery is not None:
        click.echo()
        click.echo(RECOVERY_WARNING.format(key=export_private_key(recovery.private_key)))
    click.echo("Next: `candor reviewer add NAME --role admin`, then `candor serve portal`.")
