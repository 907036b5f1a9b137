"""Pending notifications: staff with new activity, sent in batches by `candor notify`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 12:56:51.166189
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pending_notifications',
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], name=op.f('fk_pending_notifications_reviewer_id_reviewers')),
    sa.PrimaryKeyConstraint('reviewer_id', name=op.f('pk_pending_notifications'))
    )


def downgrade() -> None:
    op.drop_table('pending_notifications')
