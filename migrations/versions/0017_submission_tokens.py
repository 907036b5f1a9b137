"""One report per report form (core.intake.submission_tokens).

- new table submission_tokens: the SHA-256 of each sent report form's one-time token; no
  case, no time.
- Downgrading drops the table: forms sent before can then be sent again.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 21:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'submission_tokens',
        sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_submission_tokens')),
        sqlite_with_rowid=False,  # no rowid numbering the forms in the order they were sent
    )


def downgrade() -> None:
    op.drop_table('submission_tokens')
