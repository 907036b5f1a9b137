"""Random row ids for cases, grants, messages and attachments; thread order by position.

Sequential ids numbered these rows in the order they were written, shared by reporters and
staff. Staff rows can be matched to audit events with exact times, so a reporter's message,
file or submission grant whose id fell between two staff rows was dated between their times,
whatever the date precision. New rows take random 63-bit ids (core.models.base.random_row_id);
the order of a case's messages and files, which the thread needs, is kept in a `position`
counted within the case. Existing rows keep their ids and get positions in id order.

PostgreSQL: the ids and every column holding one become BIGINT, and the id sequences go.
SQLite: INTEGER already holds 64 bits (and stays the rowid).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Tables whose id is now random.
RANDOM_ID_TABLES = ('cases', 'case_grants', 'messages', 'attachments')
#: Columns that hold one of those ids (besides the ids themselves).
ID_COLUMNS = (
    ('case_grants', 'case_id'), ('case_members', 'case_id'), ('messages', 'case_id'),
    ('attachments', 'case_id'), ('attachments', 'message_id'),
    ('audit_events', 'case_id'), ('audit_pending_events', 'case_id'),
)
#: Tables ordered within their case by the new position column.
POSITIONED = ('messages', 'attachments')


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    if _postgresql():
        for table, column in ID_COLUMNS:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
        for table in RANDOM_ID_TABLES:
            sequence = op.get_bind().execute(
                sa.text('SELECT pg_get_serial_sequence(:t, :c)'), {'t': table, 'c': 'id'}
            ).scalar()
            op.alter_column(table, 'id', type_=sa.BigInteger(), existing_type=sa.Integer(),
                            server_default=None, existing_nullable=False)
            if sequence:
                op.execute(f'DROP SEQUENCE {sequence}')
    for table in POSITIONED:
        # Plain ALTER TABLE, also on SQLite: a batch copy of `messages` would have to drop
        # the table that attachments refer to, which its foreign keys forbid.
        op.add_column(table, sa.Column('position', sa.Integer(), nullable=False,
                                       server_default='0'))
        # Existing rows: their order in the case is the order of their (sequential) ids.
        op.execute(f'UPDATE {table} SET position = (SELECT count(*) FROM {table} AS earlier '
                   f'WHERE earlier.case_id = {table}.case_id AND earlier.id <= {table}.id)')
        if _postgresql():
            # Every new row states its position. (SQLite cannot drop a default without
            # copying the table; there the unused default of 0 stays.)
            op.alter_column(table, 'position', server_default=None, existing_type=sa.Integer())


def downgrade() -> None:
    # The code before 0008 orders threads by id and holds case ids as 32-bit integers on
    # PostgreSQL (the inbox): rows with random ids would come out of order, and fail there.
    # Without any, the schema of 0007 comes back exactly, sequences included.
    bind = op.get_bind()
    for table in RANDOM_ID_TABLES:
        random_ids = bind.execute(
            sa.text(f'SELECT count(*) FROM {table} WHERE id >= :low'), {'low': 1 << 31}).scalar()
        if random_ids:
            raise RuntimeError(
                f'{random_ids} rows of {table} have random ids, which the code before revision '
                '0008 cannot order or hold: restore a backup taken before the upgrade instead '
                'of downgrading')
    for table in POSITIONED:
        # SQLite 3.35 and later drop a column in place (see upgrade on batch copies).
        op.execute(f'ALTER TABLE {table} DROP COLUMN position')
    if _postgresql():
        for table in RANDOM_ID_TABLES:
            sequence = f'{table}_id_seq'
            op.execute(f'CREATE SEQUENCE {sequence} OWNED BY {table}.id')
            op.execute(f"SELECT setval('{sequence}', (SELECT coalesce(max(id), 0) + 1 "
                       f"FROM {table}), false)")
            op.alter_column(table, 'id', type_=sa.Integer(), existing_type=sa.BigInteger(),
                            server_default=sa.text(f"nextval('{sequence}')"))
        for table, column in ID_COLUMNS:
            op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
