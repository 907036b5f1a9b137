"""Reporter timing: nothing in the database dates a reporter's action finer than its day.

- Reporters' audit events wait in a queue until their day (or week) has ended. Appended at
  once, an event sat between staff events with exact times, which dated the action to the
  minute (core.audit.log). The log takes the queue a whole period at a time, shuffled.
- Throttle buckets store a keyed hash of their window instead of its start time: the row of
  the submissions budget held the minute of the latest report (core.operations.throttle). Counters are
  short-lived state: existing rows are dropped, which only resets the current windows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 23:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_pending_events',
    sa.Column('token', sa.LargeBinary(length=16), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_audit_pending_events')),
    # No rowid: it would number the queued events in the order they happened.
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('audit_pending_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_pending_events_occurred_on'), ['occurred_on'],
                              unique=False)
    op.execute('DELETE FROM throttle_buckets')
    with op.batch_alter_table('throttle_buckets', schema=None) as batch_op:
        batch_op.drop_column('window_start')
        batch_op.add_column(sa.Column('window_tag', sa.LargeBinary(length=16), nullable=False))


def downgrade() -> None:
    # Dropping the queue would drop audit events: they must reach the log first.
    queued = op.get_bind().execute(sa.text('SELECT count(*) FROM audit_pending_events')).scalar()
    if queued:
        raise RuntimeError(
            f'{queued} reporter audit events are still queued. They enter the log once their '
            'day (or week) has ended, at the next staff action or `candor cleanup`; downgrade '
            'after that, or restore a backup taken before the upgrade')
    op.execute('DELETE FROM throttle_buckets')
    with op.batch_alter_table('throttle_buckets', schema=None) as batch_op:
        batch_op.drop_column('window_tag')
        batch_op.add_column(sa.Column('window_start', sa.DateTime(timezone=True), nullable=False))
    with op.batch_alter_table('audit_pending_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_pending_events_occurred_on'))
    op.drop_table('audit_pending_events')
