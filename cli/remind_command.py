"""`candor remind`: email deadline reminders to case teams (no case content in the mails)."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from cli.notify_command import CASE_HANDLERS, mail_warnings, warn
from core.operations.notifications import REMIND_DAYS, run_deadline_reminders
from core.operations.warning_digest import send_early_warnings
from core.staff.account_contact import mail_reach


@click.command()
@click.option("--days", type=click.IntRange(0, 366), default=REMIND_DAYS, show_default=True,
              help="Remind about deadlines within this many days (and any already past).")
@pass_context
def remind(obj: CliContext, days: int) -> None:
    """Send deadline reminders to the teams of cases that are due soon or overdue, and to
    the owners of corrective actions due soon or overdue. Once a month, at the month's first
    run whose mail reaches an admin, also mail the admins the early warnings of the month
    before: categories and root causes whose count rose well above their previous months
    (the figures, never a case).

    Run it daily (cron or a systemd timer). Needs smtp_host in the configuration. Warns on
    standard error when someone due has no email address or the server refused mail.
    """
    if not obj.config.smtp_host:
        raise click.ClickException("smtp_host is not configured; no reminders sent")
    with obj.transaction() as session:
        today = obj.services.clock.today()
        run = run_deadline_reminders(session, obj.services, today, days)
        warned = send_early_warnings(session, obj.services, today)
        reach = mail_reach(session, CASE_HANDLERS)
    click.echo(f"Sent {run.sent} reminder email(s).")
    if warned:
        click.echo(f"Sent {warned} early-warning email(s) to admins.")
    lines = mail_warnings(run, reach, "reminder")
    if run.without_email:
        lines.append(f"{run.without_email} account(s) with deadlines due have no email "
                     "address and were not reminded (see `candor reviewer list`).")
    warn(lines)
