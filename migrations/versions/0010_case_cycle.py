"""The whole case cycle: priority, scope decision, satisfaction and review, team roles, the
evidence log, decisions and corrective actions.

- cases: `priority` (existing cases: normal), `scope_decision`, `satisfaction`,
  `review_requested`, `actions_due`; case_members copy the last three that the inbox filters
  on (priority, review_requested, actions_due) with their indexes.
- case_members.role: new roles technical, hr and legal; cases.channel: the complaint mailbox.
- attachments: `evidence_id`, the evidence entry a file belongs to.
- new tables: evidence_entries, decisions, corrective_actions, action_updates.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_PRIORITIES = ('low', 'normal', 'high', 'urgent')
_OLD_ROLES = ('intake', 'lead', 'investigator')
_NEW_ROLES = (*_OLD_ROLES, 'technical', 'hr', 'legal')
_ACTION_STATUS = ('open', 'in_progress', 'done')
_CHANNELS = ('web', 'hotline', 'letter_box', 'in_person', 'mailbox')


def _enum(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _record_columns() -> list[sa.Column[object]]:
    """The columns of core.models.casework.EncryptedRecord."""
    return [
        sa.Column('id', _ROW_ID, autoincrement=False, nullable=False),
        sa.Column('case_id', _ROW_ID, nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=False),
        sa.Column('created_on', sa.Date(), nullable=False),
        sa.Column('key_epoch', sa.Integer(), nullable=False),
        sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    ]


def _record_constraints(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f(f'fk_{table}_case_id_cases')),
        sa.ForeignKeyConstraint(['reviewer_id'], ['reviewers.id'],
                                name=op.f(f'fk_{table}_reviewer_id_reviewers')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    ]


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('priority', sa.String(32), nullable=False,
                                   server_default='normal'))
        batch.add_column(sa.Column('scope_decision', sa.String(32), nullable=True))
        batch.add_column(sa.Column('satisfaction', sa.String(32), nullable=True))
        batch.add_column(sa.Column('review_requested', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('actions_due', sa.Date(), nullable=True))
        batch.create_check_constraint(op.f('ck_cases_case_priority'),
                                      _in('priority', _PRIORITIES))
        batch.create_check_constraint(op.f('ck_cases_scope_decision'), _in(
            'scope_decision', ('accepted', 'referred', 'not_admissible')))
        batch.create_check_constraint(op.f('ck_cases_satisfaction'), _in(
            'satisfaction', ('satisfied', 'not_satisfied')))
        batch.drop_constraint(op.f('ck_cases_channel'), type_='check')
        batch.create_check_constraint(op.f('ck_cases_channel'), _in('channel', _CHANNELS))
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('priority', server_default=None, existing_type=sa.String(32))
        batch.alter_column('review_requested', server_default=None,
                           existing_type=sa.Boolean())

    with op.batch_alter_table('case_members') as batch:
        batch.add_column(sa.Column('priority', sa.String(32), nullable=False,
                                   server_default='normal'))
        batch.add_column(sa.Column('review_requested', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('actions_due', sa.Date(), nullable=True))
        batch.create_check_constraint(op.f('ck_case_members_case_priority'),
                                      _in('priority', _PRIORITIES))
        batch.drop_constraint(op.f('ck_case_members_member_role'), type_='check')
        batch.create_check_constraint(op.f('ck_case_members_member_role'),
                                      _in('role', _NEW_ROLES))
    with op.batch_alter_table('case_members') as batch:
        batch.alter_column('priority', server_default=None, existing_type=sa.String(32))
        batch.alter_column('review_requested', server_default=None,
                           existing_type=sa.Boolean())
        batch.create_index('ix_case_members_reviewer_priority_received',
                           ['reviewer_id', 'excluded', 'priority', 'received_on', 'case_id'])
        batch.create_index('ix_case_members_reviewer_review_received',
                           ['reviewer_id', 'excluded', 'review_requested', 'received_on',
                            'case_id'])
        batch.create_index('ix_case_members_reviewer_actions_due',
                           ['reviewer_id', 'excluded', 'actions_due', 'case_id'])

    op.create_table(
        'evidence_entries', *_record_columns(),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('evidence_kind', ('note', 'file', 'interview')),
                  nullable=False),
        sa.Column('corrects_id', _ROW_ID, nullable=True),
        *_record_constraints('evidence_entries'),
        sa.ForeignKeyConstraint(['corrects_id'], ['evidence_entries.id'],
                                name=op.f('fk_evidence_entries_corrects_id_evidence_entries')),
        sa.UniqueConstraint('case_id', 'position',
                            name=op.f('uq_evidence_entries_case_id_position')),
    )
    op.create_index(op.f('ix_evidence_entries_case_id'), 'evidence_entries', ['case_id'])
    op.create_table(
        'decisions', *_record_columns(),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('finding', _enum('finding', ('substantiated', 'partly_substantiated',
                                               'not_substantiated', 'undetermined')),
                  nullable=False),
        sa.Column('root_cause', _enum('root_cause', (
            'management_gap', 'technical_defect', 'process_gap', 'human_error', 'other')),
                  nullable=True),
        sa.Column('sanction_types', sa.String(200), nullable=False),
        sa.Column('recognition_types', sa.String(200), nullable=False),
        *_record_constraints('decisions'),
        sa.UniqueConstraint('case_id', 'version', name=op.f('uq_decisions_case_id_version')),
    )
    op.create_index(op.f('ix_decisions_case_id'), 'decisions', ['case_id'])
    op.create_table(
        'corrective_actions', *_record_columns(),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', _enum('action_status', _ACTION_STATUS), nullable=False),
        sa.Column('done_on', sa.Date(), nullable=True),
        *_record_constraints('corrective_actions'),
        sa.ForeignKeyConstraint(['owner_id'], ['reviewers.id'],
                                name=op.f('fk_corrective_actions_owner_id_reviewers')),
        sa.UniqueConstraint('case_id', 'position',
                            name=op.f('uq_corrective_actions_case_id_position')),
    )
    for column in ('case_id', 'owner_id', 'due_on'):
        op.create_index(op.f(f'ix_corrective_actions_{column}'), 'corrective_actions',
                        [column])
    op.create_table(
        'action_updates', *_record_columns(),
        sa.Column('action_id', _ROW_ID, nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('status', _enum('action_status', _ACTION_STATUS), nullable=False),
        *_record_constraints('action_updates'),
        sa.ForeignKeyConstraint(['action_id'], ['corrective_actions.id'],
                                name=op.f('fk_action_updates_action_id_corrective_actions')),
        sa.UniqueConstraint('action_id', 'position',
                            name=op.f('uq_action_updates_action_id_position')),
    )
    op.create_index(op.f('ix_action_updates_case_id'), 'action_updates', ['case_id'])
    op.create_index(op.f('ix_action_updates_action_id'), 'action_updates', ['action_id'])

    with op.batch_alter_table('attachments') as batch:
        batch.add_column(sa.Column('evidence_id', _ROW_ID, nullable=True))
        batch.create_foreign_key(op.f('fk_attachments_evidence_id_evidence_entries'),
                                 'evidence_entries', ['evidence_id'], ['id'])
        batch.create_index(op.f('ix_attachments_evidence_id'), ['evidence_id'])


def downgrade() -> None:
    # Members in the new roles, and records the code before 0010 does not know: refuse rather
    # than drop them silently.
    bind = op.get_bind()
    checks = {
        'case_members': _in('role', _NEW_ROLES[len(_OLD_ROLES):]),
        'cases': "channel = 'mailbox'",
        'evidence_entries': '1 = 1', 'decisions': '1 = 1', 'corrective_actions': '1 = 1',
    }
    for table, condition in checks.items():
        count = bind.execute(sa.text(f'SELECT count(*) FROM {table} WHERE {condition}')).scalar()
        if count:
            raise RuntimeError(
                f'{count} rows of {table} were written for the case cycle ({condition}), '
                'which the code before revision 0010 cannot keep: restore a backup taken '
                'before the upgrade instead of downgrading')
    with op.batch_alter_table('attachments') as batch:
        batch.drop_index(op.f('ix_attachments_evidence_id'))
        batch.drop_constraint(op.f('fk_attachments_evidence_id_evidence_entries'),
                              type_='foreignkey')
        batch.drop_column('evidence_id')
    op.drop_table('action_updates')
    op.drop_table('corrective_actions')
    op.drop_table('decisions')
    op.drop_table('evidence_entries')
    with op.batch_alter_table('case_members') as batch:
        for index in ('ix_case_members_reviewer_priority_received',
                      'ix_case_members_reviewer_review_received',
                      'ix_case_members_reviewer_actions_due'):
            batch.drop_index(index)
        batch.drop_constraint(op.f('ck_case_members_case_priority'), type_='check')
        batch.drop_constraint(op.f('ck_case_members_member_role'), type_='check')
        batch.create_check_constraint(op.f('ck_case_members_member_role'),
                                      _in('role', _OLD_ROLES))
        for column in ('actions_due', 'review_requested', 'priority'):
            batch.drop_column(column)
    with op.batch_alter_table('cases') as batch:
        for name in ('ck_cases_satisfaction', 'ck_cases_scope_decision',
                     'ck_cases_case_priority'):
            batch.drop_constraint(op.f(name), type_='check')
        for column in ('actions_due', 'review_requested', 'satisfaction', 'scope_decision',
                       'priority'):
            batch.drop_column(column)
        batch.drop_constraint(op.f('ck_cases_channel'), type_='check')
        batch.create_check_constraint(op.f('ck_cases_channel'),
                                      _in('channel', _CHANNELS[:-1]))
