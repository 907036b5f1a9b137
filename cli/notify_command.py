"""`candor notify`: send the queued "new activity" emails to staff."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from core.operations.notifications import send_pending_notifications


@click.command()
@pass_context
def notify(obj: CliContext) -> None:
    """Email staff who have new activity on their cases (no case content in the mails).

    Run it at fixed times from cron or a systemd timer: mails carry the time of the run, never
    the time a reporter submitted or wrote, but they do tell that something happened since
    the last run (once a day keeps to day precision). Needs smtp_host in the settings.
    """
    if not obj.config.smtp_host:
        raise click.ClickException("smtp_host is not configured; no notifications sent")
    with obj.transaction() as session:
        sent = send_pending_notifications(session, obj.services)
    click.echo(f"Sent {sent} notification email(s).")
