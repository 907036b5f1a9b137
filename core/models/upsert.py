"""INSERT ... ON CONFLICT for the two databases Candor runs on.

Why not insert and catch IntegrityError: PostgreSQL writes every unique violation to its own
log with the row's values and a millisecond time (a counter cell created by a new report
would date that report), and a failed statement costs a savepoint. ON CONFLICT raises nothing.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def conflict_insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT for `table` (it has `on_conflict_do_nothing/_do_update`)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no ON CONFLICT insert for {dialect}")


def cast_table(model: Any) -> Table:
    """A mapped class's Table (its ``__table__`` is typed as a FromClause)."""
    return cast(Table, model.__table__)
