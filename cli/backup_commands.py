"""`candor backup DEST`, `candor backup --verify SRC` and `candor restore SRC`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from cli.context import CliContext, pass_context
from core.blobs import BlobStore
from core.config import Config
from core.operations.backup_format import BackupError, Progress, no_progress

#: The files of secrets/ (core.keyring): named so the operator knows what to keep and bring
#: back; the whole folder is what matters.
SECRET_FILES = ("pepper", "receipt_salt", "audit_signing_key", "totp_key", "cookie_key")

SECRETS_REMINDER = """\
NOT in the backup: {secrets} ({files}).
Keep a copy of that folder apart from this backup: offline and separately (another medium,
another place), never beside it. Without it, a restored instance opens nothing: no receipt
code finds its case, no account's authenticator codes are accepted, and the access log can
no longer be signed with the auditors' key. Whoever holds both copies has what the server
has."""


def _progress() -> Progress:
    """Progress bars on a terminal (stderr), nothing otherwise."""
    if not sys.stderr.isatty():
        return no_progress

    @contextmanager
    def bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
        with click.progressbar(length=max(total, 1), label=label.ljust(14),
                               file=sys.stderr) as shown:
            yield shown.update

    return bar


def _blob_store(obj: CliContext) -> BlobStore:
    """The instance's blob store (core.services): it needs no secrets but an object store's
    credentials, if they are kept in secrets/s3-credentials."""
    from core.services import build_blob_store

    obj.require_data_dir()
    return build_blob_store(obj.config)


def _size(count: int) -> str:
    """A byte count for people: 812 bytes, 3.4 MiB."""
    if count < 1024:
        return f"{count} bytes"
    value = count / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--verify", is_flag=True,
              help="Check the backup in PATH instead of making one: every file against its "
                   "manifest, every row and encrypted file (no key needed).")
@click.option("--recovery-key", "recovery_key", type=click.File("r"), metavar="FILE",
              help="With --verify: a file holding the organisation recovery key ('-': "
                   "standard input), to decrypt a random sample of cases in full. Only "
                   "counts are printed.")
@click.option("--sample", type=click.IntRange(min=1), default=20, show_default=True,
              metavar="N",
              help="With --recovery-key: how many random cases to open.")
@pass_context
def backup(obj: CliContext, path: Path, verify: bool, recovery_key: TextIO | None,
           sample: int) -> None:
    """Back up the database, the encrypted files and audit/ into PATH, a new directory.

    The apps keep running: the rows are one consistent snapshot, and every file they
    reference is copied. The secrets (secrets/) are NOT included: keep them apart. With
    --verify, check an existing backup instead; exit status 1 if it fails.
    """
    try:
        if verify:
            _verify(path, recovery_key, sample)
            return
        if recovery_key is not None:
            raise click.UsageError("--recovery-key goes with --verify")
        _backup(obj, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None


def _backup(obj: CliContext, destination: Path) -> None:
    from core.operations.backup import write_backup

    obj.check_schema()
    summary = write_backup(destination, database_url=obj.config.database_url,
                           data_dir=obj.config.data_dir, blobs=_blob_store(obj),
                           progress=_progress())
    manifest = summary.manifest
    rows = sum(table.rows for table in manifest.tables)
    click.echo(f"Backed up {rows} rows of {len(manifest.tables)} tables, "
               f"{manifest.blob_count} encrypted files ({_size(manifest.blob_bytes)}) and "
               f"audit/ into {destination} (schema {manifest.schema_revision}).")
    if summary.deleted_after_snapshot:
        click.echo(f"{summary.deleted_after_snapshot} file(s) were deleted with their case "
                   "after the snapshot and are not in the backup.")
    click.echo(SECRETS_REMINDER.format(secrets=obj.config.secrets_dir,
                                       files=", ".join(SECRET_FILES)))
    if summary.lost:
        raise click.ClickException(
            f"files of case(s) {', '.join(summary.lost)} are missing from the instance's "
            "blob store itself, so the backup lacks them too; everything else was backed up")


def _verify(source: Path, recovery_key: TextIO | None, sample: int) -> None:
    from core.operations.backup_manifest import read_manifest
    from core.operations.backup_verify import check_backup, open_sample
    from crypto.recovery import import_private_key

    private_key = import_private_key(recovery_key.read().strip()) if recovery_key else None
    manifest = read_manifest(source)
    progress = _progress()
    findings = check_backup(source, manifest, progress)
    click.echo(f"Checked {len(manifest.files)} files, {findings.rows} rows of "
               f"{len(manifest.tables)} tables and {findings.blobs} encrypted files "
               f"({_size(findings.blob_bytes)}); schema {manifest.schema_revision}, taken "
               f"{manifest.created_at} from {manifest.source_database}.")
    if private_key is not None:
        open_sample(source, manifest, private_key, findings, sample=sample, progress=progress)
        click.echo(f"Opened {findings.cases_opened} sampled case(s) with the recovery key: "
                   f"the report, {findings.messages_opened} message(s) and "
                   f"{findings.files_opened} file(s) ({_size(findings.file_bytes)}) decrypted "
                   "and authenticated.")
        if findings.cases_without_recovery_grant:
            click.echo(f"{findings.cases_without_recovery_grant} sampled case(s) have no "
                       "recovery grant (made before the recovery key existed).")
        if findings.cases_destroyed:
            click.echo(f"{findings.cases_destroyed} case(s) were not sampled: retention "
                       "destroyed their content.")
    for note in findings.notes:
        click.echo(f"Note: {note}")
    if findings.problems:
        click.echo(f"FAILED: {len(findings.problems)} problem(s).")
        for problem in findings.problems:
            click.echo(f"  {problem}")
        sys.exit(1)
    click.echo("The backup is whole.")


@click.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_context
def restore(obj: CliContext, source: Path) -> None:
    """Restore a backup made by `candor backup` into an empty instance.

    The data directory must hold no instance data and the database must be empty; the
    backup's files are checked against its manifest before anything is written. The schema
    is created by the migrations. secrets/ is not in a backup: copy it back afterwards.
    """
    from core.operations.restore import restore_backup
    from migrations.runner import upgrade

    config = obj.config
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(config.data_dir, 0o700)
    obj.check_database()
    try:
        summary = restore_backup(
            source, database_url=config.database_url, data_dir=config.data_dir,
            blobs=_blob_store(obj), progress=_progress(),
            create_schema=lambda revision: upgrade(config.database_url, revision))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    manifest = summary.manifest
    click.echo(f"Restored {summary.rows} rows, {summary.blobs} encrypted files and "
               f"{summary.audit_files} file(s) of audit/ from {source} (taken "
               f"{manifest.created_at}, schema {manifest.schema_revision}).")
    for note in summary.notes:
        click.echo(f"Note: {note}")
    click.echo(f"The access log is back at {summary.log_size} entries: tell the auditors. "
               "Checkpoints they kept from after the backup will show it cut short.")
    click.echo(_secrets_advice(config))
    if summary.needs_upgrade:
        click.echo(f"The backup is at migration {manifest.schema_revision}: then run "
                   "`candor db upgrade`.")
    click.echo(f"To check: `candor backup --verify {source} --recovery-key FILE` opens a "
               "sample of cases; `candor audit export FILE` and `candor audit verify FILE` "
               "check the access log.")


def _secrets_advice(config: Config) -> str:
    """What to do about secrets/: copy it back, or, if it is there already, whether it
    signed the restored checkpoints (another instance's secrets open nothing here)."""
    from core.audit.checkpoints import verifier_key
    from core.audit.store import checkpoint_files
    from core.keyring import KeyringError
    from core.services import build_services
    from crypto.signed_note import NoteError, open_checkpoint

    folder = config.secrets_dir
    if not folder.is_dir() or not any(folder.iterdir()):
        return (f"Now copy secrets/ back from where you keep it into {folder} (folder 0700, "
                f"files 0600): {', '.join(SECRET_FILES)}. Until then nothing opens: no "
                "receipt code, no staff login, no checkpoint.")
    notes = checkpoint_files(config.data_dir).all()
    try:
        key = verifier_key(build_services(config))
        if notes:
            open_checkpoint(notes[-1], key)
    except (KeyringError, NoteError) as exc:
        return (f"Warning: {folder} is not this backup's (its newest checkpoint does not "
                f"verify: {exc}); put the instance's own secrets there, or nothing opens.")
    checked = "; its key signed the backup's newest checkpoint" if notes else ""
    return f"{folder} is already in place{checked}."
