"""Inbox keys on case members: copies of each case's stage, category and dates, and indexes
that lead with (reviewer_id, excluded) so that an inbox page reads one range of the reviewer's
own entries (core.cases.inbox).

The new columns are added nullable, filled from the cases, then made NOT NULL (on SQLite the
last step recreates the table, batch mode). core.cases.inbox_counts.rebuild_inbox_counts repairs
them again at any time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 13:07:19.927640
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = sa.Enum('received', 'acknowledged', 'referred', 'not_admissible', 'info_needed',
                  'under_investigation', 'decided', 'feedback_given', 'follow_up', 'closed',
                  name='case_status', native_enum=False, create_constraint=True, length=32)
_COPIED = ('status', 'category_id', 'received_on', 'acknowledge_due', 'feedback_due')


def upgrade() -> None:
    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', _STATUS, nullable=True))
        batch_op.add_column(sa.Column('category_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('received_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('acknowledge_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('feedback_due', sa.Date(), nullable=True))

    # Fill the copies from the cases (one statement; portable correlated subqueries).
    op.execute(
        "UPDATE case_members SET "
        + ", ".join(f"{c} = (SELECT cases.{c} FROM cases WHERE cases.id = case_members.case_id)"
                    for c in _COPIED)
    )

    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_STATUS, nullable=False)
        batch_op.alter_column('received_on', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('acknowledge_due', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('feedback_due', existing_type=sa.Date(), nullable=False)
        batch_op.drop_index(batch_op.f('ix_case_members_reviewer_visible'))
        batch_op.create_index('ix_case_members_reviewer_acknowledge', ['reviewer_id', 'excluded', 'acknowledge_due', 'case_id'], unique=False)
        batch_op.create_index('ix_case_members_reviewer_category_received', ['reviewer_id', 'excluded', 'category_id', 'received_on', 'case_id'], unique=False)
        batch_op.create_index('ix_case_members_reviewer_feedback', ['reviewer_id', 'excluded', 'feedback_due', 'case_id'], unique=False)
        batch_op.create_index('ix_case_members_reviewer_received', ['reviewer_id', 'excluded', 'received_on', 'case_id'], unique=False)
        batch_op.create_index('ix_case_members_reviewer_role', ['reviewer_id', 'excluded', 'role', 'received_on', 'case_id'], unique=False)
        batch_op.create_index('ix_case_members_reviewer_status_acknowledge', ['reviewer_id', 'excluded', 'status', 'acknowledge_due', 'case_id'], unique=False)
        batch_op.create_index('ix_case_members_reviewer_status_feedback', ['reviewer_id', 'excluded', 'status', 'feedback_due', 'case_id'], unique=False)
        batch_op.create_index('ix_case_members_reviewer_status_received', ['reviewer_id', 'excluded', 'status', 'received_on', 'case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.drop_index('ix_case_members_reviewer_status_received')
        batch_op.drop_index('ix_case_members_reviewer_status_feedback')
        batch_op.drop_index('ix_case_members_reviewer_status_acknowledge')
        batch_op.drop_index('ix_case_members_reviewer_role')
        batch_op.drop_index('ix_case_members_reviewer_received')
        batch_op.drop_index('ix_case_members_reviewer_feedback')
        batch_op.drop_index('ix_case_members_reviewer_category_received')
        batch_op.drop_index('ix_case_members_reviewer_acknowledge')
        batch_op.create_index(batch_op.f('ix_case_members_reviewer_visible'), ['reviewer_id', 'excluded', 'role', 'case_id'], unique=False)
        # The CHECK constraint of the status column first (SQLite recreates the table).
        batch_op.drop_constraint(batch_op.f('ck_case_members_case_status'), type_='check')
        batch_op.drop_column('feedback_due')
        batch_op.drop_column('acknowledge_due')
        batch_op.drop_column('received_on')
        batch_op.drop_column('category_id')
        batch_op.drop_column('status')
