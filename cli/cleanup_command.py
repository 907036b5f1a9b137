"""`candor cleanup`: housekeeping that keeps the stores tidy (run daily)."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from core.blobs import FileSystemBlobStore
from core.usecases.maintenance import sweep_orphan_blobs
from core.usecases.submitter_sessions import purge_old_submitter_sessions


@click.command()
@click.option("--grace-days", type=int, default=1, show_default=True,
              help="Keep unreferenced blobs until they are this many whole days old "
                   "(uploads still in flight).")
@pass_context
def cleanup(obj: CliContext, grace_days: int) -> None:
    """Delete orphaned encrypted blobs and expired reporter sessions.

    Orphans are left by submissions that failed after their files were encrypted; they are
    ciphertext nobody holds a key for. Run daily from cron or a systemd timer.
    """
    services = obj.services
    blobs = services.blobs
    leftovers = blobs.clear_temporary() if isinstance(blobs, FileSystemBlobStore) else 0
    with obj.transaction() as session:
        orphans = sweep_orphan_blobs(session, blobs, services.clock.today(), grace_days,
                                     services.clock.precision)
        sessions = purge_old_submitter_sessions(session, services)
    click.echo(f"Removed {orphans} orphaned blob(s), {leftovers} interrupted upload(s) and "
               f"{sessions} expired reporter session(s).")
