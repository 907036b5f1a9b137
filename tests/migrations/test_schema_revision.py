"""core.schema.SCHEMA_REVISION, which the apps and commands require, is the newest migration:
a new migration without it would let old databases start and fail later with 500s."""

from __future__ import annotations

from core.schema import SCHEMA_REVISION, missing_revisions
from migrations.runner import current_heads


def test_schema_revision_is_the_newest_migration() -> None:
    assert current_heads() == (SCHEMA_REVISION,)


def test_missing_revisions_count_from_the_database_to_the_code() -> None:
    assert missing_revisions(None)[0] == "0001"
    assert missing_revisions(None)[-1] == SCHEMA_REVISION
    assert missing_revisions(SCHEMA_REVISION) == []
