"""Initial schema: cases, grants, messages, attachments, reviewers, sessions, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 12:07:25.598301
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('head', sa.LargeBinary(length=32), nullable=False),
    sa.Column('issued_at', sa.String(length=40), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints'))
    )
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('head', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('name_zh', sa.String(length=120), nullable=False),
    sa.Column('description_en', sa.String(length=1000), nullable=False),
    sa.Column('description_zh', sa.String(length=1000), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_categories_code'))
    )
    op.create_table('reviewers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.Enum('admin', 'reviewer', 'auditor', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('passphrase_hash', sa.String(length=255), nullable=False),
    sa.Column('must_change_passphrase', sa.Boolean(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('wrapped_private_key', sa.LargeBinary(), nullable=False),
    sa.Column('totp_secret_wrapped', sa.LargeBinary(), nullable=True),
    sa.Column('totp_confirmed', sa.Boolean(), nullable=False),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviewers')),
    sa.UniqueConstraint('username', name=op.f('uq_reviewers_username'))
    )
    op.create_table('audit_events',
    sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.Enum('submitter', 'reviewer', 'system', name='actor_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('chain_hash', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], name=op.f('fk_audit_events_reviewer_id_reviewers')),
    sa.PrimaryKeyConstraint('position', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('lookup_id', sa.LargeBinary(length=32), nullable=False),
    sa.Column('status', sa.Enum('received', 'acknowledged', 'referred', 'not_admissible', 'info_needed', 'under_investigation', 'decided', 'feedback_given', 'follow_up', 'closed', name='case_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('web', 'hotline', 'letter_box', 'in_person', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('disclosure', sa.Enum('anonymous', 'confidential', name='disclosure', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('acknowledge_due', sa.Date(), nullable=False),
    sa.Column('acknowledged_on', sa.Date(), nullable=True),
    sa.Column('feedback_due', sa.Date(), nullable=False),
    sa.Column('feedback_given_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('submitter_active_on', sa.Date(), nullable=True),
    sa.Column('report_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('identity_ciphertext', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_cases_category_id_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('lookup_id', name=op.f('uq_cases_lookup_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_feedback_due'), ['feedback_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_received_on'), ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)

    op.create_table('category_intake',
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_category_intake_category_id_categories')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], name=op.f('fk_category_intake_reviewer_id_reviewers')),
    sa.PrimaryKeyConstraint('category_id', 'reviewer_id', name=op.f('pk_category_intake'))
    )
    op.create_table('reviewer_sessions',
    sa.Column('id_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('sealed_private_key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reauthenticated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], name=op.f('fk_reviewer_sessions_reviewer_id_reviewers')),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_reviewer_sessions'))
    )
    with op.batch_alter_table('reviewer_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewer_sessions_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('case_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('key_kind', sa.Enum('case', 'team', 'identity', name='key_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recipient', sa.Enum('submitter', 'reviewer', 'recovery', name='recipient', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('sealed_key', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_grants_case_id_cases')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], name=op.f('fk_case_grants_reviewer_id_reviewers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_grants')),
    sa.UniqueConstraint('case_id', 'key_kind', 'recipient', 'reviewer_id', name=op.f('uq_case_grants_case_id_key_kind_recipient_reviewer_id'))
    )
    with op.batch_alter_table('case_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_grants_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_grants_reviewer_kind', ['reviewer_id', 'key_kind'], unique=False)

    op.create_table('case_members',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('intake', 'lead', 'investigator', name='member_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_members_case_id_cases')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], name=op.f('fk_case_members_reviewer_id_reviewers')),
    sa.PrimaryKeyConstraint('case_id', 'reviewer_id', name=op.f('pk_case_members'))
    )
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.Enum('submitter', 'reviewer', 'system', name='author', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('reporter_message', 'clarification_request', 'information', 'feedback', 'internal_note', name='message_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('key_kind', sa.Enum('case', 'team', 'identity', name='key_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('body_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_messages_case_id_cases')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'], name=op.f('fk_messages_reviewer_id_reviewers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_case_id'), ['case_id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('key_kind', sa.Enum('case', 'team', 'identity', name='key_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('blob_id', sa.String(length=64), nullable=False),
    sa.Column('wrapped_file_key', sa.LargeBinary(), nullable=False),
    sa.Column('meta_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('stored_size', sa.BigInteger(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_attachments_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('blob_id', name=op.f('uq_attachments_blob_id'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_message_id'), ['message_id'], unique=False)


    # The audit log starts empty: size 0, head = 32 zero bytes (crypto.audit_chain.GENESIS).
    audit_head = sa.table('audit_head', sa.column('id', sa.Integer), sa.column('size', sa.BigInteger),
                          sa.column('head', sa.LargeBinary))
    op.bulk_insert(audit_head, [{'id': 1, 'size': 0, 'head': bytes(32)}])

def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_message_id'))
        batch_op.drop_index(batch_op.f('ix_attachments_case_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_case_id'))

    op.drop_table('messages')
    op.drop_table('case_members')
    with op.batch_alter_table('case_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_case_grants_reviewer_kind')
        batch_op.drop_index(batch_op.f('ix_case_grants_case_id'))

    op.drop_table('case_grants')
    with op.batch_alter_table('reviewer_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewer_sessions_reviewer_id'))

    op.drop_table('reviewer_sessions')
    op.drop_table('category_intake')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_status'))
        batch_op.drop_index(batch_op.f('ix_cases_received_on'))
        batch_op.drop_index(batch_op.f('ix_cases_feedback_due'))
        batch_op.drop_index(batch_op.f('ix_cases_category_id'))

    op.drop_table('cases')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_case_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('reviewers')
    op.drop_table('categories')
    op.drop_table('audit_head')
    op.drop_table('audit_checkpoints')
