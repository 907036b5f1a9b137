"""Category examples: the confirmed category of a case and its report's token counts,
encrypted under the case's team key, for the console's category suggestions to learn from
(core.cases.category_examples).

- category_examples: one row per case whose category a handler set or confirmed since this
  revision. It starts empty: cases confirmed before were never marked as confirmed, and
  guessing would train on the reporter's own choice of category.
- Downgrading drops the table: what was learned is lost, nothing else (the suggestions fall
  back to the keyword rules).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 06:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'category_examples',
        sa.Column('case_id', _ROW_ID, autoincrement=False, nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('key_epoch', sa.Integer(), nullable=False),
        sa.Column('tokens_version', sa.SmallInteger(), nullable=False),
        sa.Column('confirmed_on', sa.Date(), nullable=False),
        sa.Column('counts_ciphertext', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_category_examples_case_id_cases')),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f('fk_category_examples_category_id_categories')),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_category_examples')),
    )
    op.create_index('ix_category_examples_confirmed', 'category_examples',
                    ['confirmed_on', 'case_id'])


def downgrade() -> None:
    op.drop_table('category_examples')
