"""`candor assign`: list open cases that reach nobody, and hand one to a case handler with the
organisation recovery key (core.cases.unreached)."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from cli.reviewer_commands import _read_secret_line
from crypto.recovery import import_private_key


@click.command()
@click.argument("reference", required=False)
@click.argument("username", required=False)
@click.option("--key-stdin", is_flag=True,
              help="Read the recovery key from standard input instead of a prompt.")
@pass_context
def assign(obj: CliContext, reference: str | None, username: str | None,
           key_stdin: bool) -> None:
    """Hand a case that reaches nobody to case handler USERNAME.

    A case reaches nobody when no one on its team has an active account: the reporter left
    out every intake handler of the category, the category had none, or the whole team left.
    Without arguments, list such open cases (the admin dashboard shows them too). With
    REFERENCE and USERNAME, open the case's keys with the organisation recovery key and seal
    them to USERNAME, who joins as an intake handler (audited as case:recover) and is told at
    the next `candor notify`. Never to a handler the reporter left out. Run it on the server,
    offline from the web.
    """
    from core.cases.retention import case_by_reference
    from core.cases.unreached import assign_with_recovery_key, unreached_cases
    from core.operations.notifications import queue_case_notification
    from core.staff.accounts import get_reviewer

    if reference is None:
        with obj.transaction() as session:
            found = unreached_cases(session)
        if not found.total:
            click.echo("Every open case reaches an active case handler.")
            return
        click.echo(f"{found.total} open case(s) reach nobody:")
        for listed in found.references:
            click.echo(f"  {listed}")
        if found.total > len(found.references):
            click.echo(f"  ... and {found.total - len(found.references)} more")
        click.echo("Hand one to a case handler: candor assign REFERENCE USERNAME")
        return
    if username is None:
        raise click.UsageError("name the case handler: candor assign REFERENCE USERNAME")
    private_key = import_private_key(_read_secret_line("Recovery key", key_stdin))
    with obj.transaction() as session:
        case = case_by_reference(session, reference)
        assign_with_recovery_key(session, obj.services, private_key, case,
                                 get_reviewer(session, username))
        # They hear of it at the next `candor notify`, like of any report that reaches them.
        queue_case_notification(session, case.id)
        shown = case.reference
    click.echo(f"{shown} is now with {username!r} (intake): they acknowledge it in the console.")
