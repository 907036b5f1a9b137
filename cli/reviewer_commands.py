"""`candor reviewer ...` and `candor recover`: staff accounts from the command line."""

from __future__ import annotations

import sys

import click

from cli.context import CliContext, pass_context
from cli.tables import format_table
from core.cases.recovery import regrant_member_cases
from core.models import Reviewer, Role
from core.staff.account_contact import KEEP, Keep, edit_account
from core.staff.account_state import account_state
from core.staff.accounts import (
    add_reviewer,
    deactivate_reviewer,
    get_reviewer,
    list_reviewers,
    reset_passphrase,
    reset_totp,
    set_custodian,
)
from core.staff.approvals import approve_by_operator
from core.staff.enrolment_codes import WrongEnrolmentCode, record_wrong_code
from core.staff.keys import StandingChange, confirm_standing, standing_change
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
            "Hand it to the account's owner over a private channel. A new account confirms it "
            "at its first login; an account that already has keys needs a code from it to log "
            "in.")


@click.group()
def reviewer() -> None:
    """Add, list, edit, deactivate and reset staff accounts (reviewers, admins, auditors)."""


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


@reviewer.command("approve")
@click.argument("username")
@click.option("--code", metavar="DIGITS", required=True,
              help="The twelve-digit enrolment code the account's owner sees once enrolled, "
                   "read to you by the owner themselves (in person, or on a number you know).")
@pass_context
def reviewer_approve(obj: CliContext, username: str, code: str) -> None:
    """Approve an account waiting for a second admin (made, or its passphrase reset, in the
    console): the operator's command, for when no other admin can (an instance with fewer
    than three admins). As in the console, only once its owner has enrolled and with the code
    their screen shows: the admin who made or reset the account saw its one-time passphrase.
    Audited when it approves; a wrong code is refused and logged as a refused access, as in
    the console (a mistyped one, which its check digit catches, is not)."""
    try:
        with obj.transaction() as session:
            approve_by_operator(session, obj.services, username, code)
    except WrongEnrolmentCode as wrong:
        if not wrong.mistyped:
            with obj.transaction() as session:  # the approval's transaction rolled back
                record_wrong_code(session, obj.services, get_reviewer(session, username))
        raise
    click.echo(f"Approved {username!r}: it may now use the console in its role.")


@reviewer.command("confirm")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Confirm without asking.")
@pass_context
def reviewer_confirm(obj: CliContext, username: str, yes: bool) -> None:
    """Vouch for an account whose record failed its check (the admin dashboard's alarm:
    someone changed its role, approval, custodian role or passphrase in the database), as it
    stands now. Says first what was changed: which role or flags, or else the passphrase
    hash. Until then it cannot log in and nothing is sealed to it. Check the account first
    (`candor reviewer list`, the access log); audited."""
    with obj.transaction() as session:
        account = get_reviewer(session, username)
        row, change = _list_row(account), standing_change(obj.services.keyring, account)
    if change is not None:
        click.echo(_changed_outside(change))
    if not yes:  # asked outside any transaction: SQLite's would hold every write meanwhile
        click.echo(f"{username}: role {row[1]}, {row[2]}, enrolment {row[3]}, "
                   f"identity custodian {row[4]}.")
        click.confirm("Is this what the account should be?", abort=True)
    with obj.transaction() as session:
        confirm_standing(session, obj.services, get_reviewer(session, username))
    click.echo(f"Confirmed {username!r}: it may log in and receive case keys again.")


def _changed_outside(change: StandingChange) -> str:
    """What the operator is told was changed in the database, before vouching for it."""
    if change.passphrase_or_tag:
        return ("Changed outside Candor: the passphrase (its stored hash), or the record's "
                "tag itself; no change of role or flags alone explains it. Unless you know "
                "why, stop both services, confirm, and reset the passphrase (`candor "
                "reviewer reset-passphrase`) before you start them again: whoever wrote the "
                "hash may know the passphrase.")
    return "Changed outside Candor: " + "; ".join(
        f"{column.replace('_', ' ')} {was} -> {now}" for column, was, now in change.changed) \
        + "."


def _list_row(account: Reviewer) -> tuple[str, ...]:
    state = account_state(account)
    # Only case handlers can be custodians: "-" says the question does not apply.
    custodian = ("yes" if state.custodian else "no") if account.role is Role.REVIEWER else "-"
    return (account.username, str(account.role), str(state.status), str(state.enrolment),
            custodian, account.email or "-", account.display_name or "-")


@reviewer.command("list")
@pass_context
def reviewer_list(obj: CliContext) -> None:
    """List accounts: role, state (active, awaiting approval, deactivated), enrolment (no
    TOTP yet, no keys yet, complete), identity custodian, email and display name."""
    with obj.transaction() as session:
        rows = [_list_row(r) for r in list_reviewers(session)]
    if not rows:
        click.echo("No accounts yet. Add one with `candor reviewer add NAME --role admin`.")
        return
    header = ("USERNAME", "ROLE", "STATE", "ENROLMENT", "CUSTODIAN", "EMAIL", "DISPLAY-NAME")
    for line in format_table(header, rows):
        click.echo(line)


def _new_value(value: str | None, remove: bool, option: str) -> str | None | Keep:
    """The option's new value, None to remove it, KEEP when neither was given."""
    if remove and value is not None:
        raise click.UsageError(f"give --{option} or --no-{option}, not both")
    if remove:
        return None
    return KEEP if value is None else value


@reviewer.command("edit")
@click.argument("username")
@click.option("--email", default=None, help="New address for notifications (no case content).")
@click.option("--no-email", is_flag=True,
              help="Remove the address: the account gets no more notifications or reminders.")
@click.option("--display-name", default=None,
              help="New name shown to reporters as a handler their report reaches.")
@click.option("--no-display-name", is_flag=True,
              help="Remove the display name: reporters see the username again.")
@pass_context
def reviewer_edit(obj: CliContext, username: str, email: str | None, no_email: bool,
                  display_name: str | None, no_display_name: bool) -> None:
    """Change an account's email address or display name, at once (the operator's command).
    The access log records which changed, never the values."""
    new_email = _new_value(email, no_email, "email")
    new_name = _new_value(display_name, no_display_name, "display-name")
    if new_email is KEEP and new_name is KEEP:
        raise click.UsageError("nothing to change: give --email, --no-email, --display-name "
                               "or --no-display-name")
    with obj.transaction() as session:
        edited = edit_account(session, obj.services, username, email=new_email,
                              display_name=new_name)
        shown = (edited.username, edited.email or "none", edited.display_name or "none")
    click.echo(f"{shown[0]!r}: email {shown[1]}, display name {shown[2]}.")


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
