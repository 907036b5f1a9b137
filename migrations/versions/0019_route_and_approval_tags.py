"""Intake route and identity approval tags.

- category_intake.route_tag: a MAC, under the instance account key, of a route (category,
  case handler; core.categories.intake_routes). New reports are sealed only to routes Candor
  wrote: a database writer who inserted one no longer receives the category's reports.
- identity_requests.approval_tag: the same for an approved identity request (request, case,
  requester, approver; core.cases.identity_access). A custodian who can write the database
  cannot approve their own request with SQL.
- `candor db upgrade` tags the routes and approvals as they stand when it applies this
  migration (it holds the key; a migration does not).
- Downgrading drops both columns.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('category_intake') as batch:
        batch.add_column(sa.Column('route_tag', sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table('identity_requests') as batch:
        batch.add_column(sa.Column('approval_tag', sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('identity_requests') as batch:
        batch.drop_column('approval_tag')
    with op.batch_alter_table('category_intake') as batch:
        batch.drop_column('route_tag')
