"""Four eyes for a case handler's display name: reporters choose whom to leave out of their
report by it, so a console admin's rename waits for a second admin (core.staff.approvals).

- staff_changes.kind: new kind `display_name`; staff_changes.display_name: the proposed name.
- Downgrading deletes the display-name changes (pending or decided; the access log keeps
  their requests and decisions) and drops the column.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KINDS = ('account', 'intake', 'custodian')
_NEW_KINDS = (*_OLD_KINDS, 'display_name')


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table('staff_changes') as batch:
        batch.add_column(sa.Column('display_name', sa.String(length=120), nullable=True))
        batch.drop_constraint(op.f('ck_staff_changes_change_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_staff_changes_change_kind'),
                                      _in('kind', _NEW_KINDS))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM staff_changes WHERE kind = 'display_name'"))
    with op.batch_alter_table('staff_changes') as batch:
        batch.drop_constraint(op.f('ck_staff_changes_change_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_staff_changes_change_kind'),
                                      _in('kind', _OLD_KINDS))
        batch.drop_column('display_name')
