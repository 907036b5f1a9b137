"""`candor db ...`: schema migrations."""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import CliContext, pass_context
from core.cases.identity_access import tag_untagged_requests
from core.cases.lead_tags import tag_untagged_leads
from core.cases.membership_tags import tag_untagged_memberships
from core.cases.recovery import withdraw_legacy_identity_grants
from core.categories.intake_routes import tag_untagged_routes
from core.schema import database_revision, missing_revisions
from core.staff.accounts import bind_accounts_after_upgrade
from core.staff.change_tags import tag_untagged_changes
from migrations.runner import upgrade

#: Migrations after which `candor db upgrade` tags rows with the instance account key, as
#: they stand: they are applied only where the secrets are.
TAGGED_BY_UPGRADE = ("0018", "0019")
#: In the data directory: the tagging migrations applied whose tagging has not committed
#: yet (a crash, or a lost connection, between the two). A database writer cannot write it.
_TAGGING_DUE = "tagging-due"


def upgrade_database(obj: CliContext) -> list[str]:
    """Run the migrations (after checking the database answers, for a clear error); return
    the revisions applied. An existing database is not taken past a migration of
    TAGGED_BY_UPGRADE without the secrets: its rows would stay untagged for good (second
    reader: every route lost, silently)."""
    obj.check_database()
    with obj.engine.connect() as connection:
        before = database_revision(connection)
    tagged = [r for r in missing_revisions(before) if r in TAGGED_BY_UPGRADE]
    if before is not None and tagged:
        if not _has_secrets(obj):
            raise click.ClickException(
                f"migration {', '.join(tagged)} tags the accounts, teams and routing with the "
                f"instance key, and {obj.config.secrets_dir} holds no secrets: run "
                "`candor db upgrade` where the data directory's secrets are (after a restore, "
                "copy secrets/ back first)")
        _note_tagging_due(obj, tagged)
    upgrade(obj.config.database_url)
    with obj.engine.connect() as connection:
        after = database_revision(connection)
    if after == before:
        return []
    return [r for r in missing_revisions(before) if after is None or int(r) <= int(after)]


def _has_secrets(obj: CliContext) -> bool:
    secrets = obj.config.secrets_dir
    return secrets.is_dir() and any(secrets.iterdir())


def _due_path(obj: CliContext) -> Path:
    return obj.config.data_dir / _TAGGING_DUE


def _tagging_due(obj: CliContext) -> set[str]:
    path = _due_path(obj)
    return set(path.read_text("utf-8").split()) if path.exists() else set()


def _note_tagging_due(obj: CliContext, revisions: list[str]) -> None:
    _due_path(obj).write_text(" ".join(sorted(_tagging_due(obj) | set(revisions))) + "\n",
                              encoding="utf-8")


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
        # What this run applied, and what an earlier run applied but could not tag.
        due = set(applied) | _tagging_due(obj)
        with obj.transaction() as session:
            bound = bind_accounts_after_upgrade(session, obj.services,
                                                standings="0018" in due)
            if "0018" in due:  # memberships as they stand, like the accounts
                tag_untagged_memberships(session, obj.services.keyring)
            if "0019" in due:  # routes, identity requests and staff changes as they stand
                tag_untagged_routes(session, obj.services.keyring)
                tag_untagged_requests(session, obj.services.keyring)
                tag_untagged_changes(session, obj.services.keyring)
                tag_untagged_leads(session, obj.services.keyring)
            legacy = withdraw_legacy_identity_grants(session, obj.services)
        _due_path(obj).unlink(missing_ok=True)  # tagged and committed
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
