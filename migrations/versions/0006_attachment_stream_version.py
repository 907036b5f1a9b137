"""Attachments record the secretstream format of their blob (crypto.stream.CHUNK_SIZES).

Blobs written before this revision are format 1 (64 KiB chunks); new ones are format 2
(1 MiB chunks, which let encryption overlap with reading the upload: benches/upload.py).
The column is added with a server default of 1 for the existing rows, and the default is
then dropped, so that every new row must state its format.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 15:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stream_version', sa.SmallInteger(), nullable=False,
                                      server_default='1'))
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.alter_column('stream_version', server_default=None)


def downgrade() -> None:
    # Code before 0006 reads every blob as format 1: format-2 files would no longer open.
    newer = op.get_bind().execute(
        sa.text('SELECT count(*) FROM attachments WHERE stream_version <> 1')).scalar()
    if newer:
        raise RuntimeError(
            f'{newer} attachments are in stream format 2, which the code before revision 0006 '
            'cannot read: restore a backup taken before the upgrade instead of downgrading')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('stream_version')
