"""`candor remind`: email deadline reminders to case teams (no case content in the mails)."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from core.operations.notifications import REMIND_DAYS, send_deadline_reminders


@click.command()
@click.option("--days", type=int, default=REMIND_DAYS, show_default=True,
              help="Remind about deadlines within this many days (and any already past).")
@pass_context
def remind(obj: CliContext, days: int) -> None:
    """Send deadline reminders to the teams of cases that are due soon or overdue, and to
    the owners of corrective actions due soon or overdue.

    Run it daily (cron or a systemd timer). Needs smtp_host in the configuration.
    """
    if not obj.config.smtp_host:
        raise click.ClickException("smtp_host is not configured; no reminders sent")
    with obj.transaction() as session:
        sent = send_deadline_reminders(session, obj.services, obj.services.clock.today(), days)
    click.echo(f"Sent {sent} reminder email(s).")
