"""An index on the access log's (case, action), for the exclusion check.

Whoever the log records as excluded from a case gets none of its keys and opens none
(core.cases.exclusion_log), so every reading of a case looks up its exclusion entries. By
(case_id, position) alone that scanned every entry of the case, and each reading adds one.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 11:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events') as batch:
        batch.create_index('ix_audit_events_case_id_action', ['case_id', 'action'])


def downgrade() -> None:
    with op.batch_alter_table('audit_events') as batch:
        batch.drop_index('ix_audit_events_case_id_action')
