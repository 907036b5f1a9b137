"""Category keywords: an operator's own keyword terms per category for the console's category
suggestions (core.categories.admin, `candor category edit CODE --keywords ...`).

- categories.keywords: "term, term, ..." in either language, "" for none. Existing
  categories start with none, so suggestions are what they were before the upgrade.
- Downgrading drops the column: the operator's terms are lost, nothing else.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 11:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('categories') as batch:
        batch.add_column(sa.Column('keywords', sa.String(length=2000), nullable=False,
                                   server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('categories') as batch:
        batch.drop_column('keywords')
