"""Inbox counters and indexes for inbox pages.

The counters are filled from the existing cases and memberships (the same computation as
core.cases.inbox_counts.rebuild_inbox_counts, which can be run again at any time to repair them).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 12:37:19.891051
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbox_counts',
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('assigned', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('received', 'acknowledged', 'referred', 'not_admissible', 'info_needed', 'under_investigation', 'decided', 'feedback_given', 'follow_up', 'closed', name='case_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('category_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], name=op.f('fk_inbox_counts_reviewer_id_reviewers')),
    sa.PrimaryKeyConstraint('reviewer_id', 'assigned', 'status', 'category_id', name=op.f('pk_inbox_counts'))
    )
    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.create_index('ix_case_members_reviewer_visible', ['reviewer_id', 'excluded', 'role', 'case_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_feedback_due'))
        batch_op.drop_index(batch_op.f('ix_cases_received_on'))
        batch_op.drop_index(batch_op.f('ix_cases_status'))
        batch_op.create_index('ix_cases_acknowledge_due_id', ['acknowledge_due', 'id'], unique=False)
        batch_op.create_index('ix_cases_feedback_due_id', ['feedback_due', 'id'], unique=False)
        batch_op.create_index('ix_cases_received_on_id', ['received_on', 'id'], unique=False)
        batch_op.create_index('ix_cases_status_acknowledge_due', ['status', 'acknowledge_due'], unique=False)
        batch_op.create_index('ix_cases_status_feedback_due', ['status', 'feedback_due'], unique=False)

    # Fill the counters: one row per reviewer x assigned x status x category (0: none).
    op.execute(
        "INSERT INTO inbox_counts (reviewer_id, assigned, status, category_id, count) "
        "SELECT m.reviewer_id, m.role IN ('lead', 'investigator'), c.status, "
        "COALESCE(c.category_id, 0), COUNT(*) "
        "FROM case_members m JOIN cases c ON c.id = m.case_id "
        "WHERE NOT m.excluded GROUP BY 1, 2, 3, 4"
    )


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_feedback_due')
        batch_op.drop_index('ix_cases_status_acknowledge_due')
        batch_op.drop_index('ix_cases_received_on_id')
        batch_op.drop_index('ix_cases_feedback_due_id')
        batch_op.drop_index('ix_cases_acknowledge_due_id')
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_received_on'), ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_feedback_due'), ['feedback_due'], unique=False)

    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.drop_index('ix_case_members_reviewer_visible')

    op.drop_table('inbox_counts')