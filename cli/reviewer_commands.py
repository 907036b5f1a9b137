"""`candor reviewer ...` and `candor recover`: staff accounts from the command line."""

from __future__ import annotations

import sys

import click

from cli.context import CliContext, pass_context
from cli.tables import format_table
from core.cases.recovery import regrant_member_cases
from core.models import Role
from core.staff.accounts import (
    add_reviewer,
    deactivate_reviewer,
    get_reviewer,
    list_reviewers,
    reset_passphrase,
    reset_totp,
    set_custodian,
)
from core.staff.passphrases import one_time_passphrase, prepare_passphrase
from crypto.recovery import import_private_key


def _read_secret_line(prompt: str, from_stdin: bool, confirm: bool = False) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.ClickException("expected the value on standard input, got nothing")
        return line
    value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def _enrolment_text(uri: str, secret: str) -> str:
    return (f"TOTP provisioning URI (scan as a QR code or paste into an authenticator app):\n"
            f"  {uri}\n  secret: {secret}\n"
            "Hand it to the reviewer over a private channel. A new account confirms it at its "
            "first login; an account that already has keys needs a code from it to log in.")


@click.group()
def reviewer() -> None:
    """Add, list, deactivate and reset staff accounts (reviewers, admins, auditors)."""


@reviewer.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="admin: manages accounts and settings, no case access; reviewer: handles "
                   "cases granted to them; auditor: verifies the access log.")
@click.option("--email", default=None, help="Address for notifications (no case content).")
@click.option("--display-name", default=None,
              help="Name shown to reporters as a handler their report reaches (default: the "
                   "username).")
@click.option("--passphrase-stdin", is_flag=True,
              help="Read the initial passphrase from standard input instead of a prompt.")
@pass_context
def reviewer_add(obj: CliContext, username: str, role: str, email: str | None,
                 display_name: str | None, passphrase_stdin: bool) -> None:
    """Create an account, in effect at once (the operator's command; in the console a second
    admin approves). It has no keys until its owner logs in, sets up TOTP and chooses their
    own passphrase, which makes the key pair: the initial passphrase never protects a key."""
    passphrase = _read_secret_line("Initial passphrase", passphrase_stdin, confirm=True)
    # Hashed before the transaction: on SQLite it holds the write lock the apps need.
    hashed = prepare_passphrase(passphrase, obj.services.config.kdf)
    with obj.transaction() as session:
        created = add_reviewer(session, obj.services, username=username, role=Role(role),
                               passphrase=hashed, email=email, display_name=display_name)
        name = created.reviewer.username
    click.echo(f"Added {role} {name!r}.")
    click.echo(_enrolment_text(created.provisioning_uri, created.totp_secret))


@reviewer.command("custodian")
@click.argument("username")
@click.option("--remove", is_flag=True, help="Take the role away instead of giving it.")
@pass_context
def reviewer_custodian(obj: CliContext, username: str, remove: bool) -> None:
    """Make a case handler an identity custodian (or no longer one), at once: the operator's
    command (in the console a second admin approves). Custodians receive the identity key of
    each new confidential report and decide reveal requests; for earlier reports, run
    `candor recover USERNAME` with the recovery key."""
    with obj.transaction() as session:
        set_custodian(session, obj.services, get_reviewer(session, username), not remove)
    click.echo(f"{username!r} is {'no longer ' if remove else ''}an identity custodian.")


@reviewer.command("list")
@pass_context
def reviewer_list(obj: CliContext) -> None:
    """List accounts with their role and state."""
    with obj.transaction() as session:
        rows = [(r.username, str(r.role), "active" if r.active else "deactivated",
                 "yes" if r.totp_confirmed else "no") for r in list_reviewers(session)]
    if not rows:
        click.echo("No accounts yet. Add one with `candor reviewer add NAME --role admin`.")
        return
    for line in format_table(("USERNAME", "ROLE", "STATE", "TOTP"), rows):
        click.echo(line)


@reviewer.command("deactivate")
@click.argument("username")
@pass_context
def reviewer_deactivate(obj: CliContext, username: str) -> None:
    """Deactivate an account and end its sessions at once."""
    with obj.transaction() as session:
        deactivate_reviewer(session, obj.services, username)
    click.echo(f"Deactivated {username!r}; their sessions have ended.")


@reviewer.command("reset-passphrase")
@click.argument("username")
@pass_context
def reviewer_reset_passphrase(obj: CliContext, username: str) -> None:
    """Give an account a one-time passphrase; its key pair and grants are dropped.

    Its owner makes a new key pair by choosing their own passphrase at the next login. Its
    cases stay unreadable to it until a teammate re-grants them in the console or an
    operator runs `candor recover USERNAME` with the organisation recovery key.
    """
    temporary = one_time_passphrase(obj.services.config.kdf)  # hashed before the transaction
    with obj.transaction() as session:
        shown = reset_passphrase(session, obj.services, username, temporary=temporary)
    click.echo(f"One-time passphrase for {username!r}: {shown}")
    click.echo("They must change it at first login. Their cases need re-granting: "
               f"`candor recover {username}` or a teammate in the console.")


@reviewer.command("reset-totp")
@click.argument("username")
@pass_context
def reviewer_reset_totp(obj: CliContext, username: str) -> None:
    """Give an account a new TOTP secret (lost or replaced phone)."""
    with obj.transaction() as session:
        created = reset_totp(session, obj.services, username)
    click.echo(_enrolment_text(created.provisioning_uri, created.totp_secret))


@click.command()
@click.argument("username")
@click.option("--key-stdin", is_flag=True,
              help="Read the recovery key from standard input instead of a prompt.")
@pass_context
def recover(obj: CliContext, username: str, key_stdin: bool) -> None:
    """Re-grant a reviewer's cases with the organisation recovery key.

    Use after `candor reviewer reset-passphrase`: every case the reviewer is a (not excluded)
    team member of is sealed again to their new key. Run it on the server, offline from the web.
    """
    private_key = import_private_key(_read_secret_line("Recovery key", key_stdin))
    with obj.transaction() as session:
        target = get_reviewer(session, username)
        result = regrant_member_cases(session, obj.services, private_key, target)
    click.echo(f"Re-granted {result.regranted} case(s) to {username!r}.")
    if result.without_recovery_grant:
        click.echo(f"{result.without_recovery_grant} case(s) have no recovery grant (created "
                   "before the recovery key existed); a teammate must re-grant those.")
