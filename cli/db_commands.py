"""`candor db ...`: schema migrations."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from migrations.runner import upgrade


def upgrade_database(obj: CliContext) -> None:
    """Run the migrations (after checking the database answers, for a clear error)."""
    obj.check_database()
    upgrade(obj.config.database_url)


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(obj: CliContext) -> None:
    """Apply all pending migrations (safe to run repeatedly)."""
    upgrade_database(obj)
    click.echo("Database is up to date.")
