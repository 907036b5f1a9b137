"""The statistics page's month cells (core.statistics.month_cells): counts per month of
receipt, so that a view's cost does not grow with its cases.

- statistics_months: the months whose cells exist, and whether a case of the month changed
  since (stale).
- statistics_cells: the counts, per month, filter level, category, channel, measure and key.

Both start empty: a month without a row is computed on its first view.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 03:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'statistics_months',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('stale', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('month', name=op.f('pk_statistics_months')),
    )
    op.create_table(
        'statistics_cells',
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('measure', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('histogram', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('level', 'category_id', 'channel', 'month', 'measure', 'key',
                                name=op.f('pk_statistics_cells')),
    )
    op.create_index('ix_statistics_cells_measure', 'statistics_cells',
                    ['measure', 'level', 'channel', 'month'])
    op.create_index('ix_statistics_cells_month', 'statistics_cells', ['month'])


def downgrade() -> None:
    op.drop_table('statistics_cells')
    op.drop_table('statistics_months')
