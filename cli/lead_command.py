"""`candor lead`: name the lead of a case whose lead the team cannot replace itself
(core.cases.team_lead.name_lead_by_operator)."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context


@click.command()
@click.argument("reference")
@click.argument("username")
@pass_context
def lead(obj: CliContext, reference: str, username: str) -> None:
    """Make USERNAME, a member of the case team, the lead of case REFERENCE.

    For a case whose lead the team cannot hand over itself: the lead's account was
    deactivated, or the case page says its lead was changed outside Candor (someone wrote to
    the database; nobody may take the lead's steps until an operator names one). Refused
    for a case whose lead can act, or that has no lead yet. The previous lead stays on the
    team as an investigator. Audited (case:lead); the team sees
    the new lead on the case page.
    """
    from core.cases.retention import case_by_reference
    from core.cases.team_lead import name_lead_by_operator
    from core.staff.accounts import get_reviewer

    with obj.transaction() as session:
        case = case_by_reference(session, reference)
        name_lead_by_operator(session, obj.services, case, get_reviewer(session, username))
        shown = case.reference
    click.echo(f"{username!r} now leads {shown}.")
