"""Throttle buckets (global rate limits) and reporters' follow-up sessions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:10:24.658036
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('submitter_sessions',
    sa.Column('id_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('sealed_state', sa.LargeBinary(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_submitter_sessions'))
    )
    with op.batch_alter_table('submitter_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submitter_sessions_created_on'), ['created_on'], unique=False)

    op.create_table('throttle_buckets',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_throttle_buckets'))
    )


def downgrade() -> None:
    op.drop_table('throttle_buckets')
    with op.batch_alter_table('submitter_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submitter_sessions_created_on'))

    op.drop_table('submitter_sessions')
