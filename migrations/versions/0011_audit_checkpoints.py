"""Auditors' proof: checkpoints as signed notes over the log's Merkle tree, and indexes for
the auditor console's filters.

- audit_checkpoints is recreated: a checkpoint now signs the RFC 9162 Merkle root of the log
  (not the hash chain's head) as a C2SP signed note, kept whole in `note`. Nothing signed
  checkpoints before this revision (the function had no caller), so no row is lost.
- audit_events: (action, position), (case_id, position) and (reviewer_id, position) replace the
  single-column indexes, and occurred_at gets one, so that every filter of the auditor console
  pages by position without sorting.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 15:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COMPOSITE = (('action', 'ix_audit_events_action_position'),
              ('case_id', 'ix_audit_events_case_id_position'),
              ('reviewer_id', 'ix_audit_events_reviewer_id_position'))


def upgrade() -> None:
    op.drop_table('audit_checkpoints')
    op.create_table(
        'audit_checkpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('root', sa.LargeBinary(32), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    )
    with op.batch_alter_table('audit_checkpoints') as batch:
        batch.create_index(batch.f('ix_audit_checkpoints_size'), ['size'])
    with op.batch_alter_table('audit_events') as batch:
        for column, name in _COMPOSITE:
            batch.drop_index(batch.f(f'ix_audit_events_{column}'))
            batch.create_index(name, [column, 'position'])
        batch.create_index(batch.f('ix_audit_events_occurred_at'), ['occurred_at'])


def downgrade() -> None:
    with op.batch_alter_table('audit_events') as batch:
        batch.drop_index(batch.f('ix_audit_events_occurred_at'))
        for column, name in _COMPOSITE:
            batch.drop_index(name)
            batch.create_index(batch.f(f'ix_audit_events_{column}'), [column])
    op.drop_table('audit_checkpoints')
    op.create_table(
        'audit_checkpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('head', sa.LargeBinary(length=32), nullable=False),
        sa.Column('issued_at', sa.String(length=40), nullable=False),
        sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    )
