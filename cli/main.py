"""Entry point of the `candor` command."""

from __future__ import annotations

import sys
from typing import Any

import click

from cli.assign_command import assign
from cli.audit_commands import audit
from cli.backup_commands import backup, restore
from cli.category_commands import category
from cli.cleanup_command import cleanup
from cli.context import USER_ERRORS, CliContext
from cli.db_commands import db
from cli.demo import demo
from cli.init_command import init
from cli.lead_command import lead
from cli.notify_command import notify
from cli.remind_command import remind
from cli.report_command import report
from cli.retention_command import retention
from cli.reviewer_commands import recover, reviewer
from cli.serve import serve


class CandorGroup(click.Group):
    """Turns expected failures, and the file system's refusals, into one clear line on
    stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:  # a folder missing, no permission, a port in use...
            where = f" ({exc.filename})" if exc.filename else ""
            click.echo(f"Error: {exc.strerror or exc}{where}", err=True)
            sys.exit(1)


@click.group(cls=CandorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="candor")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Candor: an anonymous reporting portal whose cases are stored encrypted.

    Configuration comes from CANDOR_DATA_DIR (default ./instance), CANDOR_DATABASE_URL
    (default: SQLite in the data directory) and <data dir>/candor.toml.
    """
    ctx.obj = CliContext()
    ctx.call_on_close(ctx.obj.close)


cli.add_command(init)
cli.add_command(db)
cli.add_command(reviewer)
cli.add_command(category)
cli.add_command(recover)
cli.add_command(assign)
cli.add_command(lead)
cli.add_command(serve)
cli.add_command(demo)
cli.add_command(cleanup)
cli.add_command(notify)
cli.add_command(remind)
cli.add_command(report)
cli.add_command(audit)
cli.add_command(backup)
cli.add_command(restore)
cli.add_command(retention)


if __name__ == "__main__":  # pragma: no cover
    cli()
