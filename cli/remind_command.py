"""`candor remind`: email deadline reminders to case teams (no case content in the mails)."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from core.operations.notifications import REMIND_DAYS, send_deadline_reminders
from core.operations.warning_digest import send_early_warnings


@click.command()
@click.option("--days", type=click.IntRange(0, 366), default=REMIND_DAYS, show_default=True,
              help="Remind about deadlines within this many days (and any already past).")
@pass_context
def remind(obj: CliContext, days: int) -> None:
    """Send deadline reminders to the teams of cases that are due soon or overdue, and to
    the owners of corrective actions due soon or overdue. On the first day of a month, also
    mail the admins the early warnings of the month before: categories and root causes whose
    count rose well above their previous months (the figures, never a case).

    Run it daily (cron or a systemd timer). Needs smtp_host in the configuration.
    """
    if not obj.config.smtp_host:
        raise click.ClickException("smtp_host is not configured; no reminders sent")
    with obj.transaction() as session:
        today = obj.services.clock.today()
        sent = send_deadline_reminders(session, obj.services, today, days)
        warned = send_early_warnings(session, obj.services, today)
    click.echo(f"Sent {sent} reminder email(s).")
    if warned:
        click.echo(f"Sent {warned} early-warning email(s) to admins.")
