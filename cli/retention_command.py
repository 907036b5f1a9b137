"""`candor retention ...`: destroy the content of finished cases once their retention period
has passed (run daily: deploy/candor-retention.timer), and legal holds that stop it."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from cli.tables import format_table
from core.audit.log import Actor
from core.cases.retention import DueCase, case_by_reference, set_legal_hold
from core.operations.retention_run import run_retention


@click.group()
def retention() -> None:
    """Destroy the content of finished cases after `retention_days`; legal holds.

    A case is finished when it is closed, referred or found not admissible. Its content is
    due for destruction `retention_days` (default 730; 0: never) after that day, unless it is
    on legal hold. Destroying deletes every key and ciphertext of the case and its files;
    the case's clear facts (reference, stage, dates, category, the clear columns statistics
    use) and the access log stay. Backups taken before keep the content until they are
    deleted themselves.
    """


def _rows(cases: list[DueCase]) -> list[tuple[str, ...]]:
    return [(c.reference, c.closed_on.isoformat(), c.due_on.isoformat()) for c in cases]


def _print(cases: list[DueCase]) -> None:
    for line in format_table(("REFERENCE", "CLOSED ON", "DUE ON"), _rows(cases)):
        click.echo(line)


@retention.command("run")
@click.option("--dry-run", is_flag=True,
              help="List the cases whose content is due for destruction; change nothing.")
@pass_context
def retention_run(obj: CliContext, dry_run: bool) -> None:
    """Destroy the content of every case due today (one transaction per case; audited)."""
    services = obj.services
    days = services.config.retention_days
    if days == 0:
        click.echo("Retention is off (retention_days = 0): nothing is destroyed.")
        return
    summary = run_retention(obj.transaction, services, services.clock.today(),
                            dry_run=dry_run)
    if dry_run:
        if summary.due:
            _print(summary.due)
        click.echo(f"Dry run: {len(summary.due)} case(s) due for destruction "
                   f"({days} days after finishing); nothing was changed.")
        return
    if summary.destroyed:
        _print(summary.destroyed)
    click.echo(f"Destroyed the content of {len(summary.destroyed)} case(s) "
               f"({days} days after finishing).")
    if summary.skipped:
        click.echo(f"Skipped {len(summary.skipped)} case(s) reopened or put on legal hold "
                   "since they were listed.")
    if summary.blobs_left:
        click.echo(f"{summary.blobs_left} file(s) could not be deleted from the blob store; "
                   "`candor cleanup` removes them.")
    if summary.failed:
        raise click.ClickException(
            f"{len(summary.failed)} case(s) failed and were left whole: "
            f"{', '.join(c.reference for c in summary.failed)} (see the log; the next run "
            "tries again)")


def _hold(obj: CliContext, reference: str, hold: bool) -> None:
    with obj.transaction() as session:
        case = case_by_reference(session, reference)
        changed = set_legal_hold(session, obj.services, case, hold, Actor.system())
        stored = case.reference  # as the console shows it, however it was typed
    if changed:
        click.echo(f"Case {stored} is {'on legal hold' if hold else 'no longer on legal hold'}.")
    else:
        click.echo(f"Case {stored} was already on legal hold." if hold
                   else f"Case {stored} was not on legal hold.")


@retention.command("hold")
@click.argument("reference")
@pass_context
def retention_hold(obj: CliContext, reference: str) -> None:
    """Place case REFERENCE on legal hold: retention does not destroy its content."""
    _hold(obj, reference, True)


@retention.command("release")
@click.argument("reference")
@pass_context
def retention_release(obj: CliContext, reference: str) -> None:
    """Lift the legal hold of case REFERENCE: retention applies to it again."""
    _hold(obj, reference, False)
