"""Intake route, staff change and identity request tags.

- category_intake.route_tag: a MAC, under the instance account key, of a route (category,
  case handler; core.categories.intake_routes). New reports are sealed only to routes Candor
  wrote: a database writer who inserted one no longer receives the category's reports.
- identity_requests.approval_tag: the same for an approved identity request (request, case,
  requester, approver; core.cases.identity_access). A custodian who can write the database
  cannot approve their own request with SQL.
- identity_requests.request_tag: the same for a request as it was made (case, requester): a
  request re-addressed by SQL to someone else is not approved.
- staff_changes.change_tag: the same for an admin's change waiting for a second admin (all
  its columns but the decision; core.staff.change_tags): a change written or edited by SQL is
  not applied.
- cases.lead_tag: the same for a case's lead (core.cases.lead_tags): a lead made, or removed,
  by SQL leads nothing.
- `candor db upgrade` tags all of them as they stand when it applies this migration (it
  holds the key; a migration does not), and refuses to apply it without the secrets.
- Downgrading drops the columns.

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
        batch.add_column(sa.Column('request_tag', sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table('staff_changes') as batch:
        batch.add_column(sa.Column('change_tag', sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('lead_tag', sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('lead_tag')
    with op.batch_alter_table('staff_changes') as batch:
        batch.drop_column('change_tag')
    with op.batch_alter_table('identity_requests') as batch:
        batch.drop_column('request_tag')
        batch.drop_column('approval_tag')
    with op.batch_alter_table('category_intake') as batch:
        batch.drop_column('route_tag')
