"""`candor audit ...`: sign checkpoints, print the verifier key, export the log, make proofs,
and verify exports and proofs offline (docs/AUDIT_FORMAT.md)."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import click

from cli.context import CliContext, pass_context
from core.audit.verifier import verify_export
from core.audit.verifier_proofs import PROOF_FORMAT, CheckpointNeeded, verify_proof
from core.audit.verifier_report import Report, Unreadable
from crypto.signed_note import NoteError, VerifierKey

#: Exit statuses of `candor audit verify` (documented in its help and the README).
VERIFIED, FAILED, USAGE, UNREADABLE = 0, 1, 2, 3


@click.group()
def audit() -> None:
    """The access log: checkpoints, exports and proofs for auditors.

    `checkpoint`, `key`, `export` and `prove` run on the server. `verify` runs anywhere: it
    needs neither the database, nor the instance's secrets, nor a network.
    """


@audit.command()
@click.option("--full", is_flag=True,
              help="Also check every earlier entry against its recorded hash (one pass over "
                   "the whole log; daily is enough).")
@pass_context
def checkpoint(obj: CliContext, full: bool) -> None:
    """Sign a checkpoint of the access log now (run it hourly from cron).

    The entries added since the last checkpoint are checked first; a log altered in the
    database is refused with the position found wrong, and nothing is signed. The checkpoint
    is stored in the database, kept in <data dir>/audit/checkpoints/, and mailed to every
    active auditor with an email address when smtp_host is set.
    """
    from core.audit.checkpoints import LogDamaged, mail_checkpoint, sign_checkpoint
    from core.audit.log import Actor, AuditAction, record_event

    try:
        with obj.transaction() as session:
            signed = sign_checkpoint(session, obj.services, full=full)
            note, size = signed.row.note, signed.row.size
    except LogDamaged as damaged:
        with obj.transaction() as session:  # the alarm stays on record
            record_event(session, obj.services.clock, AuditAction.AUDIT_LOG_DAMAGED,
                         Actor.system(), detail={"position": damaged.position})
        raise
    click.echo(f"Signed a checkpoint of {_count(size, 'entry', 'entries')}: {signed.path}")
    click.echo(note, nl=False)
    if obj.config.smtp_host:
        with obj.transaction() as session:
            sent = mail_checkpoint(session, obj.services, note)
        click.echo(f"Mailed it to {_count(sent, 'auditor')}.")


@audit.command()
@pass_context
def key(obj: CliContext) -> None:
    """Print the key auditors verify checkpoints and exports with, and its fingerprint."""
    from core.audit.checkpoints import verifier_key

    obj.require_data_dir()
    verifier = verifier_key(obj.services)
    click.echo(verifier.encode())
    click.echo(f"fingerprint: {verifier.fingerprint}")


@audit.command()
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
def export(obj: CliContext, destination: Path) -> None:
    """Write the signed export of the whole access log to DESTINATION (a ZIP file)."""
    from core.audit.export import write_export

    if destination.exists():
        raise click.ClickException(f"{destination} exists; choose a new file name")
    partial = destination.with_name(destination.name + ".partial")
    try:
        with obj.transaction() as session:
            summary = write_export(session, obj.services, partial)
        partial.rename(destination)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"Exported {_count(summary.size, 'entry', 'entries')} and "
               f"{_count(summary.checkpoints, 'checkpoint')} to {destination}")


@audit.command()
@click.option("--position", type=click.IntRange(min=0),
              help="Prove that the entry at this position is in the newest checkpoint.")
@click.option("--since", "old_size", type=click.IntRange(min=0),
              help="Prove that the log of this many entries (a checkpoint you kept) is a "
                   "prefix of the newest checkpoint.")
@pass_context
def prove(obj: CliContext, position: int | None, old_size: int | None) -> None:
    """Print an inclusion or consistency proof (JSON) against the newest checkpoint."""
    from core.audit.proofs import consistency_proof, inclusion_proof

    if (position is None) == (old_size is None):
        raise click.UsageError("give exactly one of --position and --since")
    with obj.transaction() as session:
        if position is not None:
            document = inclusion_proof(session, obj.services, position)
        else:
            document = consistency_proof(session, obj.services, int(old_size or 0))
    click.echo(document)


@audit.command()
# No exists=True on the paths: click would call a missing file wrong usage (2), where the
# exit statuses below call it unreadable input (3); verify reads them and says which.
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--checkpoint", "kept", multiple=True, type=click.Path(path_type=Path),
              help="A checkpoint you kept (repeatable): the log must extend each of them.")
@click.option("--public-key", "public_key",
              help="The verifier key you were given (the line itself, or a file holding it). "
                   "Without it the key inside the export is trusted, which proves little; "
                   "a proof cannot be checked without it.")
def verify(file: Path, kept: tuple[Path, ...], public_key: str | None) -> None:
    """Verify an export (or a proof from `candor audit prove`) offline.

    Checks every entry, hash, signature and proof, and that the log extends every kept
    checkpoint; names the first bad position and what is wrong there.

    Exit status: 0 verified; 1 the log fails verification (tampering, truncation, a bad
    signature or proof); 2 wrong usage (a proof without --public-key, a consistency proof
    without --checkpoint, a --public-key that is no verifier key); 3 FILE is not an export or
    proof, or FILE, the --public-key file or a --checkpoint file cannot be read.
    """
    try:
        key = _parsed_key(_key_text(public_key)) if public_key else None
        notes = [(path.name, _read_text(path, "checkpoint file")) for path in kept]
        _check_readable(file)
        if zipfile.is_zipfile(file):
            source, report = "export", _verify_with_progress(file, key, notes)
        elif _is_proof(file) and key is not None:
            try:
                source, report = "proof", verify_proof(file, key=key, kept=notes)
            except CheckpointNeeded as exc:
                raise click.UsageError(str(exc)) from None
        elif _is_proof(file):
            raise click.UsageError("a proof is checked against --public-key (the verifier "
                                   "key you were given)")
        else:  # (said in words: a parser's "Expecting value: line 1" told nobody anything)
            # Not a usage slip: no option would make this file verifiable.
            raise Unreadable(f"{file} is neither an export (a ZIP file) nor a proof from "
                             "`candor audit prove`")
    except (Unreadable, NoteError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(UNREADABLE)
    except (OSError, UnicodeDecodeError) as exc:  # FILE failing mid-read (a disk error)
        click.echo(f"Error: {_unreadable(file, 'file', exc)}", err=True)
        sys.exit(UNREADABLE)
    _print_report(report, source)
    sys.exit(VERIFIED if report.ok else FAILED)


def _count(number: int, singular: str, plural: str | None = None) -> str:
    """`number` with the noun it counts, singular for one ("1 checkpoint, 2 entries")."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def _unreadable(path: Path, what: str, exc: OSError | UnicodeDecodeError) -> Unreadable:
    """Why `path` cannot be read, in words (not an errno and a repr)."""
    if isinstance(exc, UnicodeDecodeError):
        reason = "not UTF-8 text"
    elif isinstance(exc, FileNotFoundError):
        reason = "no such file"
    elif isinstance(exc, IsADirectoryError):
        reason = "it is a directory"
    elif isinstance(exc, PermissionError):
        reason = "permission denied"
    else:
        reason = (exc.strerror or str(exc)).lower()
    return Unreadable(f"cannot read the {what} {path}: {reason}")


def _check_readable(path: Path) -> None:
    """Unreadable unless `path` is a file this process can open."""
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise _unreadable(path, "file", exc) from None


def _read_text(path: Path, what: str) -> str:
    """The UTF-8 text of `path`, or Unreadable naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _unreadable(path, what, exc) from None


def _is_proof(file: Path) -> bool:
    """Whether FILE is a proof from `candor audit prove` (only its format is looked at)."""
    try:
        document = json.loads(_read_text(file, "file"))
    except (Unreadable, ValueError):
        return False
    return isinstance(document, dict) and document.get("format") == PROOF_FORMAT


def _parsed_key(text: str) -> VerifierKey:
    """The verifier key; a line that is no key is wrong usage (2), as in the independent
    verifier (docs/verify_audit_export.py): a file that cannot be read is 3."""
    try:
        return VerifierKey.parse(text)
    except NoteError as exc:
        raise click.UsageError(f"--public-key is not a verifier key ({exc}): give the line "
                               "`candor audit key` printed, or its file") from None


def _key_text(value: str) -> str:
    """The key line itself, or the first line of the file named (as `candor audit key`
    writes it, with its fingerprint on the next line)."""
    path = Path(value)
    if "+" not in value or path.is_file():
        try:
            lines = _read_text(path, "--public-key file").strip().splitlines()
        except Unreadable as exc:
            raise Unreadable(f"{exc} (give the key line itself, or the file `candor audit "
                             "key` wrote)") from None
        return lines[0] if lines else ""
    return value


def _verify_with_progress(file: Path, key: VerifierKey | None,
                          notes: list[tuple[str, str]]) -> Report:
    with zipfile.ZipFile(file) as archive:
        try:
            total = archive.getinfo("events.jsonl").file_size
        except KeyError:
            total = 0
    if not sys.stderr.isatty():
        return verify_export(file, key=key, kept=notes)
    # The bar counts entries; the member's size over ~180 bytes an entry is a fair estimate.
    with click.progressbar(length=max(total // 180, 1), label="Verifying",
                           file=sys.stderr) as bar:
        return verify_export(file, key=key, kept=notes, progress=bar.update)


def _print_report(report: Report, source: str) -> None:
    """The verdict on stdout, warnings on stderr; `source` is "export" or "proof"."""
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if report.ok:
        click.echo(f"Verified: {_count(report.entries, 'entry', 'entries')}, "
                   f"{_count(report.checkpoints, 'checkpoint')} in the {source}, "
                   f"{_count(report.kept, 'kept checkpoint')}.")
        return
    first = report.first_bad_position
    where = f" The first bad position is {first}." if first is not None else ""
    click.echo(f"FAILED: {_count(len(report.problems), 'problem')}.{where}")
    for problem in report.ordered():
        click.echo(f"  {problem}")
