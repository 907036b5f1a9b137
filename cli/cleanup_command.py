"""`candor cleanup`: housekeeping that keeps the stores tidy (run daily)."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from core.audit.log import sequence_reporter_events
from core.intake.reporter_sessions import purge_old_submitter_sessions
from core.operations.cleanup import sweep_orphan_blobs
from core.operations.restamp import restamp_reporter_rows


@click.command()
@click.option("--grace-days", type=int, default=1, show_default=True,
              help="Keep unreferenced blobs until they are this many whole days old "
                   "(uploads still in flight), counted from the Sunday after their date "
                   "(a reporter's blob may be dated by its week).")
@click.option("--restamp-all", is_flag=True,
              help="Rewrite the rows reporters wrote in every ended day, not only the last "
                   "14 (once after upgrading to this version, or after cleanup has not run "
                   "for two weeks).")
@pass_context
def cleanup(obj: CliContext, grace_days: int, restamp_all: bool) -> None:
    """Delete orphaned encrypted blobs and expired reporter sessions; log reporter events.

    Orphans are left by submissions that failed after their files were encrypted; they are
    ciphertext nobody holds a key for. Reporters' audit events wait until their day (or week)
    has ended; staff activity appends them, and this does on a quiet instance. Rows reporters
    wrote in ended days are rewritten unchanged, so that PostgreSQL's transaction ids no
    longer date them. Run daily from cron or a systemd timer.
    """
    services = obj.services
    blobs = services.blobs
    leftovers = blobs.clear_temporary()  # temporary files, or unfinished multipart uploads
    with obj.transaction() as session:
        orphans = sweep_orphan_blobs(session, blobs, services.clock.today(), grace_days)
        sessions = purge_old_submitter_sessions(session, services)
    with obj.transaction() as session:
        logged = sequence_reporter_events(session, services.clock)
    restamped = restamp_reporter_rows(obj.transaction, services.clock,
                                      whole_history=restamp_all)
    click.echo(f"Removed {orphans} orphaned blob(s), {leftovers} interrupted upload(s) and "
               f"{sessions} expired reporter session(s). Appended {logged} reporter event(s) "
               f"to the audit log; re-stamped {restamped} row(s) (see SECURITY.md, xmin).")
