"""Account standing and membership tags, and re-approval after a console passphrase reset.

- reviewers.standing_tag: a MAC, under the instance account key, of what decides whether an
  account may log in and what may be sealed to it (role, active, approved, identity
  custodian, TOTP enrolled, passphrase hash; core.staff.keys). A database writer who flips
  one of them, or copies a known passphrase hash, leaves an account that logs in to nothing
  and receives nothing. `candor db upgrade` tags the accounts as they stand when it applies
  this migration (it holds the key; a migration does not).
- case_members.member_tag: the same for a membership of a case team (case, account,
  excluded; core.cases.membership_tags): a new key epoch is sealed only to memberships
  Candor wrote. Tagged by `candor db upgrade` too.
- reviewer_sessions.session_tag: the same for a console session (account, id hash): a row a
  database writer inserted is no session. Sessions from before end (everyone logs in again).
- staff_changes.kind: new kind `reset`: a case handler's passphrase reset by a console
  admin waits for a second admin before anything is sealed to the account again.
- Downgrading drops the column and deletes the reset changes (the access log keeps them).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 00:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KINDS = ('account', 'intake', 'custodian', 'display_name')
_NEW_KINDS = (*_OLD_KINDS, 'reset')


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table('reviewers') as batch:
        batch.add_column(sa.Column('standing_tag', sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table('case_members') as batch:
        batch.add_column(sa.Column('member_tag', sa.LargeBinary(length=32), nullable=True))
    # Sessions from before carry no tag: everyone logs in again.
    op.execute(sa.text("DELETE FROM reviewer_sessions"))
    with op.batch_alter_table('reviewer_sessions') as batch:
        batch.add_column(sa.Column('session_tag', sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table('staff_changes') as batch:
        batch.drop_constraint(op.f('ck_staff_changes_change_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_staff_changes_change_kind'),
                                      _in('kind', _NEW_KINDS))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM staff_changes WHERE kind = 'reset'"))
    with op.batch_alter_table('staff_changes') as batch:
        batch.drop_constraint(op.f('ck_staff_changes_change_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_staff_changes_change_kind'),
                                      _in('kind', _OLD_KINDS))
    with op.batch_alter_table('reviewer_sessions') as batch:
        batch.drop_column('session_tag')
    with op.batch_alter_table('case_members') as batch:
        batch.drop_column('member_tag')
    with op.batch_alter_table('reviewers') as batch:
        batch.drop_column('standing_tag')
