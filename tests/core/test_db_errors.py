"""core.db's engines keep statement parameters (ciphertexts, keyed hashes, names) out of the
messages of the errors SQLAlchemy raises, which may be logged. (The database's own message
may still quote a key that is in conflict: PostgreSQL's DETAIL line.) SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from core.db import transaction
from core.models import Category


def test_a_failed_statement_names_no_parameter(session_factory) -> None:
    marker = "PARAMETER-CANARY-6f1c"
    row = {"code": "canary", "name_en": marker, "name_zh": marker, "position": 1}
    with transaction(session_factory) as s:
        s.execute(insert(Category).values(**row))
    with pytest.raises(IntegrityError) as failed, transaction(session_factory) as s:
        s.execute(insert(Category).values(**row))  # the same code again
    assert marker not in str(failed.value)  # what a logged traceback shows
