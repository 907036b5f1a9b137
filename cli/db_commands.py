"""`candor db ...`: schema migrations."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from core.cases.identity_access import tag_untagged_approvals
from core.cases.membership_tags import tag_untagged_memberships
from core.cases.recovery import withdraw_legacy_identity_grants
from core.categories.intake_routes import tag_untagged_routes
from core.schema import database_revision, missing_revisions
from core.staff.accounts import bind_accounts_after_upgrade
from migrations.runner import upgrade


def upgrade_database(obj: CliContext) -> list[str]:
    """Run the migrations (after checking the database answers, for a clear error); return
    the revisions applied."""
    obj.check_database()
    with obj.engine.connect() as connection:
        before = database_revision(connection)
    upgrade(obj.config.database_url)
    with obj.engine.connect() as connection:
        after = database_revision(connection)
    if after == before:
        return []
    return [r for r in missing_revisions(before) if after is None or int(r) <= int(after)]


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(obj: CliContext) -> None:
    """Apply all pending migrations (safe to run repeatedly) and say which."""
    applied = upgrade_database(obj)
    if applied:
        click.echo(f"Applied migration{'s' if len(applied) > 1 else ''} "
                   f"{', '.join(applied)}; the database is up to date.")
    else:
        click.echo("No migration to apply: the database is up to date.")
    if obj.config.secrets_dir.exists():
        with obj.transaction() as session:
            bound = bind_accounts_after_upgrade(session, obj.services,
                                                standings="0018" in applied)
            if "0018" in applied:  # memberships as they stand, like the accounts
                tag_untagged_memberships(session, obj.services.keyring)
            if "0019" in applied:  # routes and identity approvals as they stand
                tag_untagged_routes(session, obj.services.keyring)
                tag_untagged_approvals(session, obj.services.keyring)
            legacy = withdraw_legacy_identity_grants(session, obj.services)
        if bound:
            click.echo(f"Bound {bound} account(s) to this instance's account key (keys and "
                       "authenticator secrets written before migration 0009, standing "
                       "before 0018), as they stand now.")
        if legacy.withdrawn:
            click.echo(f"Withdrew {legacy.withdrawn} identity key grant(s) that intake handlers "
                       "held before migration 0009; give the identity custodians theirs with "
                       "`candor recover NAME`.")
        if legacy.kept:
            click.echo(f"Kept {legacy.kept} such grant(s): the recovery key holds no identity "
                       "key for their case, so withdrawing them would lose the identity.")
