"""Key custody: key pairs made at enrolment and authenticated, key epochs, ciphertexts bound
to their row, reporter exclusions, identity requests and four-eyes admin changes.

- reviewers: `public_key` and `wrapped_private_key` may be empty until the owner completes
  enrolment; `public_key_tag` authenticates the public key (set for existing accounts by
  `candor db upgrade`, which holds the instance secret, and checked at every login);
  `approved`, `identity_custodian`, `display_name`.
- cases: `key_epoch` and the reporter's key pair (new reports only).
- case_grants: `epoch` (existing grants are epoch 1), in the unique key.
- messages, attachments: `key_epoch` (1) and `binding` (existing rows: 1, the old binding).
- new tables: reporter_exclusions, identity_requests, identity_request_seals, staff_changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 04:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = sa.Enum('pending', 'approved', 'refused', 'withdrawn', name='request_status',
                  native_enum=False, create_constraint=True, length=32)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _int_column(table: str, column: str, existing: int,
                type_: sa.types.TypeEngine[int]) -> None:
    """Add a NOT NULL integer column whose existing rows hold `existing`."""
    op.add_column(table, sa.Column(column, type_, nullable=False,
                                   server_default=str(existing)))
    if _postgresql():
        op.alter_column(table, column, server_default=None, existing_type=type_)


def upgrade() -> None:
    with op.batch_alter_table('reviewers') as batch:
        batch.add_column(sa.Column('display_name', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('public_key_tag', sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column('approved', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column('identity_custodian', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.alter_column('public_key', existing_type=sa.LargeBinary(length=32),
                           nullable=True)
        batch.alter_column('wrapped_private_key', existing_type=sa.LargeBinary(),
                           nullable=True)
    with op.batch_alter_table('reviewers') as batch:
        batch.alter_column('approved', server_default=None, existing_type=sa.Boolean())
        batch.alter_column('identity_custodian', server_default=None,
                           existing_type=sa.Boolean())
    with op.batch_alter_table('reviewer_sessions') as batch:
        batch.alter_column('sealed_private_key', existing_type=sa.LargeBinary(), nullable=True)

    _int_column('cases', 'key_epoch', 1, sa.Integer())
    op.add_column('cases', sa.Column('reporter_public_key', sa.LargeBinary(length=32),
                                     nullable=True))
    op.add_column('cases', sa.Column('reporter_key_tag', sa.LargeBinary(length=32),
                                     nullable=True))
    op.add_column('cases', sa.Column('reporter_wrapped_private_key', sa.LargeBinary(),
                                     nullable=True))

    _int_column('case_grants', 'epoch', 1, sa.Integer())
    with op.batch_alter_table('case_grants') as batch:
        batch.drop_constraint('uq_case_grants_case_id_key_kind_recipient_reviewer_id',
                              type_='unique')
        batch.create_unique_constraint(
            'uq_case_grants_case_id_epoch_key_kind_recipient_reviewer_id',
            ['case_id', 'epoch', 'key_kind', 'recipient', 'reviewer_id'])

    for table in ('messages', 'attachments'):
        _int_column(table, 'key_epoch', 1, sa.Integer())
        _int_column(table, 'binding', 1, sa.SmallInteger())

    op.create_table(
        'reporter_exclusions',
        sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('tag', sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_reporter_exclusions_case_id_cases')),
        sa.PrimaryKeyConstraint('case_id', 'tag', name=op.f('pk_reporter_exclusions')),
    )
    op.create_table(
        'identity_requests',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=False, nullable=False),
        sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=False),
        sa.Column('status', _STATUS, nullable=False),
        sa.Column('reason_ciphertext', sa.LargeBinary(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_identity_requests_case_id_cases')),
        sa.ForeignKeyConstraint(['decided_by'], ['reviewers.id'],
                                name=op.f('fk_identity_requests_decided_by_reviewers')),
        sa.ForeignKeyConstraint(['requester_id'], ['reviewers.id'],
                                name=op.f('fk_identity_requests_requester_id_reviewers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_requests')),
    )
    op.create_index(op.f('ix_identity_requests_case_id'), 'identity_requests', ['case_id'])
    op.create_table(
        'identity_request_seals',
        sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=False, nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=False),
        sa.Column('sealed_key', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ['request_id'], ['identity_requests.id'],
            name=op.f('fk_identity_request_seals_request_id_identity_requests')),
        sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'],
                                name=op.f('fk_identity_request_seals_reviewer_id_reviewers')),
        sa.PrimaryKeyConstraint('request_id', 'reviewer_id',
                                name=op.f('pk_identity_request_seals')),
    )
    op.create_table(
        'staff_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('account', 'intake', 'custodian', name='change_kind',
                                  native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column('status', _STATUS, nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('intake_ids', sa.String(length=2000), nullable=True),
        sa.Column('previous_ids', sa.String(length=2000), nullable=True),
        sa.Column('custodian', sa.Boolean(), nullable=True),
        sa.Column('requested_by', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f('fk_staff_changes_category_id_categories')),
        sa.ForeignKeyConstraint(['decided_by'], ['reviewers.id'],
                                name=op.f('fk_staff_changes_decided_by_reviewers')),
        sa.ForeignKeyConstraint(['requested_by'], ['reviewers.id'],
                                name=op.f('fk_staff_changes_requested_by_reviewers')),
        sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'],
                                name=op.f('fk_staff_changes_reviewer_id_reviewers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_changes')),
    )
    op.create_index(op.f('ix_staff_changes_status'), 'staff_changes', ['status'])


def downgrade() -> None:
    # Later epochs, bound records and accounts without keys mean nothing to the code before
    # 0009: refuse rather than leave data it would misread.
    bind = op.get_bind()
    checks = {
        'case_grants': 'epoch > 1', 'messages': 'binding > 1', 'attachments': 'binding > 1',
        'reviewers': 'public_key IS NULL',
    }
    for table, condition in checks.items():
        count = bind.execute(sa.text(f'SELECT count(*) FROM {table} WHERE {condition}')).scalar()
        if count:
            raise RuntimeError(
                f'{count} rows of {table} were written for key custody ({condition}), which '
                'the code before revision 0009 cannot read: restore a backup taken before the '
                'upgrade instead of downgrading')
    op.drop_index(op.f('ix_staff_changes_status'), table_name='staff_changes')
    op.drop_table('staff_changes')
    op.drop_table('identity_request_seals')
    op.drop_index(op.f('ix_identity_requests_case_id'), table_name='identity_requests')
    op.drop_table('identity_requests')
    op.drop_table('reporter_exclusions')
    for table in ('messages', 'attachments'):
        op.execute(f'ALTER TABLE {table} DROP COLUMN binding')
        op.execute(f'ALTER TABLE {table} DROP COLUMN key_epoch')
    with op.batch_alter_table('case_grants') as batch:
        batch.drop_constraint('uq_case_grants_case_id_epoch_key_kind_recipient_reviewer_id',
                              type_='unique')
        batch.create_unique_constraint(
            'uq_case_grants_case_id_key_kind_recipient_reviewer_id',
            ['case_id', 'key_kind', 'recipient', 'reviewer_id'])
        batch.drop_column('epoch')
    for column in ('reporter_wrapped_private_key', 'reporter_key_tag', 'reporter_public_key',
                   'key_epoch'):
        op.execute(f'ALTER TABLE cases DROP COLUMN {column}')
    with op.batch_alter_table('reviewer_sessions') as batch:
        batch.alter_column('sealed_private_key', existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table('reviewers') as batch:
        batch.alter_column('wrapped_private_key', existing_type=sa.LargeBinary(),
                           nullable=False)
        batch.alter_column('public_key', existing_type=sa.LargeBinary(length=32),
                           nullable=False)
        batch.drop_column('identity_custodian')
        batch.drop_column('approved')
        batch.drop_column('public_key_tag')
        batch.drop_column('display_name')
