"""The day a statistics month last changed, so that the figures stand as of the start of today.

The month cells used to be recounted at the first view after a change, so an admin reloading
the statistics page learnt to within minutes when a report arrived. With the day of the
month's latest change (the organisation's calendar day, as precise as the cases' own dates),
a month changed today keeps the cells counted before its first change of the day, and is
recounted at the first view of a later day (core.statistics.month_cells).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 02:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Months counted before keep no day (NULL): the next view may recount them at once, as
    # before; the first change after the upgrade gives them one.
    with op.batch_alter_table('statistics_months') as batch:
        batch.add_column(sa.Column('changed_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('statistics_months') as batch:
        batch.drop_column('changed_on')
