"""Retention: a legal hold per case, the day a case's content was destroyed, and closed_on for
every final stage.

- cases.legal_hold (false for existing cases): a hold stops retention for the case.
- cases.content_destroyed_on (NULL): the day retention crypto-shredded the case's content.
- cases.closed_on now records the day a case entered any final stage (closed, referred, not
  admissible), not only "closed". Cases already referred or found not admissible have none:
  they get the day this migration runs. That is later than the day they really ended, so it
  can only delay their destruction, never bring it forward (the true day is in the audit log,
  but reading it here would make the migration depend on the log's format).
- (content_destroyed_on, closed_on) index: the due cases are one range of it.
- Downgrading is refused while a case is on legal hold or destroyed (the hold would be lost;
  the code before cannot show a destroyed case).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = 'ix_cases_content_destroyed_on_closed_on'


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('legal_hold', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('content_destroyed_on', sa.Date(), nullable=True))
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('legal_hold', server_default=None, existing_type=sa.Boolean())
        batch.create_index(_INDEX, ['content_destroyed_on', 'closed_on'])
    cases = sa.table('cases', sa.column('status', sa.String(32)),
                     sa.column('closed_on', sa.Date()))
    # The day of the upgrade (the server's date): conservative, see the module docstring.
    op.get_bind().execute(
        sa.update(cases)
        .where(cases.c.status.in_(('referred', 'not_admissible')), cases.c.closed_on.is_(None))
        .values(closed_on=date.today()))


def downgrade() -> None:
    # Refused while retention state would be lost: a legal hold dropped here is gone after a
    # new upgrade too, and retention would then destroy the held case; a destroyed case stays
    # destroyed, but code before 0012 does not know it and its pages fail.
    cases = sa.table('cases', sa.column('status', sa.String(32)),
                     sa.column('closed_on', sa.Date()), sa.column('legal_hold', sa.Boolean()),
                     sa.column('content_destroyed_on', sa.Date()))
    bind = op.get_bind()
    held = bind.execute(sa.select(sa.func.count()).select_from(cases)
                        .where(cases.c.legal_hold.is_(True))).scalar()
    if held:
        raise RuntimeError(
            f'{held} cases are on legal hold; the code before 0012 has no legal hold, and the '
            'holds would be lost. Release them (candor retention release) after recording '
            'them elsewhere, or do not downgrade.')
    destroyed = bind.execute(sa.select(sa.func.count()).select_from(cases)
                             .where(cases.c.content_destroyed_on.is_not(None))).scalar()
    if destroyed:
        raise RuntimeError(
            f'retention destroyed the content of {destroyed} cases; the code before 0012 '
            'cannot show them. Do not downgrade.')
    # Before 0012 only "closed" set closed_on.
    bind.execute(sa.update(cases).where(cases.c.status != 'closed').values(closed_on=None))
    with op.batch_alter_table('cases') as batch:
        batch.drop_index(_INDEX)
        batch.drop_column('content_destroyed_on')
        batch.drop_column('legal_hold')
