"""`candor notify`: send the queued "new activity" emails to staff."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from core.models import Role
from core.operations.notifications import MailRun, run_pending_notifications
from core.staff.account_contact import MailReach, mail_reach

#: Who `candor notify` and `candor remind` write to (besides action owners and admins).
CASE_HANDLERS = frozenset({Role.REVIEWER})


def mail_warnings(run: MailRun, reach: MailReach, what: str) -> list[str]:
    """Why mail reached fewer people than it should have (counts only: cron mails this
    output, and usernames are a login factor). `what` names the mails ("reminder")."""
    warnings = []
    if not reach.with_email:
        who = (f"none of the {reach.without_email} active case handler(s) has an email address"
               if reach.without_email else "there is no active case handler")
        warnings.append(f"{who}: {what} emails reach nobody. Set an address with "
                        "`candor reviewer edit NAME --email ADDRESS`.")
    if run.addressed and run.sent < run.addressed:
        warnings.append(f"the mail server accepted {run.sent} of {run.addressed} {what} "
                        "email(s); check smtp_host, smtp_port and the mail server's log.")
    return warnings


def warn(lines: list[str]) -> None:
    """Each line on standard error, marked as a warning (the exit status stays 0)."""
    for line in lines:
        click.echo(f"Warning: {line}", err=True)


@click.command()
@pass_context
def notify(obj: CliContext) -> None:
    """Email staff who have new activity on their cases (no case content in the mails).

    Run it at fixed times from cron or a systemd timer: mails carry the time of the run, never
    the time a reporter submitted or wrote, but they do tell that something happened since
    the last run (once a day keeps to day precision). Needs smtp_host in the settings. Warns
    on standard error when no case handler has an email address or the server refused mail.
    """
    if not obj.config.smtp_host:
        raise click.ClickException("smtp_host is not configured; no notifications sent")
    with obj.transaction() as session:
        run = run_pending_notifications(session, obj.services)
        reach = mail_reach(session, CASE_HANDLERS)
    click.echo(f"Sent {run.sent} notification email(s).")
    lines = mail_warnings(run, reach, "notification")
    if run.without_email:
        lines.append(f"{run.without_email} queued notification(s) were for accounts that no "
                     "longer have an email address; dropped unsent.")
    if run.addressed and not run.sent:
        lines.append("nothing was accepted: the notifications stay queued for the next run.")
    warn(lines)
