"""Rows for the statistics tests, inserted directly (one executemany per table): the
dashboard reads only clear columns, so the ciphertext columns hold dummy bytes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from core.categories.lookup import seed_default_categories
from core.db import transaction
from core.models import (
    ActionStatus,
    Case,
    CasePriority,
    CaseStatus,
    Category,
    Channel,
    CorrectiveAction,
    Decision,
    Disclosure,
    Reviewer,
    Role,
)
from core.statistics.staleness import mark_all_stale

DUMMY = b"\x00" * 16  # never decrypted


@dataclass
class StatsDb:
    """A database with the default categories and one reviewer, and helpers that insert
    cases, decisions and corrective actions as rows."""

    session_factory: sessionmaker[Session]
    category_ids: dict[str, int]
    reviewer_id: int
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def case_row(self, received: date, *, category: str | None = "it_fault",
                 channel: Channel = Channel.WEB, status: CaseStatus = CaseStatus.RECEIVED,
                 acknowledged: int | None = None, feedback: int | None = None,
                 acknowledge_due: date | None = None, feedback_due: date | None = None,
                 scope: Any = None, satisfaction: Any = None) -> dict[str, Any]:
        """A cases row: `acknowledged` and `feedback` are days after receipt (None: not
        yet); the deadlines default to receipt + 7 and receipt + 90 days."""
        n = next(self._ids)
        return {
            "id": (1 << 62) | n, "reference": f"S-{n:09d}",
            "lookup_id": n.to_bytes(32, "big"), "status": status,
            "category_id": self.category_ids[category] if category else None,
            "channel": channel, "disclosure": Disclosure.ANONYMOUS, "received_on": received,
            "acknowledge_due": acknowledge_due or received + timedelta(days=7),
            "acknowledged_on": (received + timedelta(days=acknowledged)
                                if acknowledged is not None else None),
            "feedback_due": feedback_due or received + timedelta(days=90),
            "feedback_given_on": (received + timedelta(days=feedback)
                                  if feedback is not None else None),
            "scope_decision": scope, "satisfaction": satisfaction,
            "report_ciphertext": DUMMY, "priority": CasePriority.NORMAL,
            "review_requested": False, "key_epoch": 1,
        }

    def decision_row(self, case_id: int, finding: Any, *, version: int = 1,
                     root_cause: Any = None, sanctions: str = "",
                     recognitions: str = "") -> dict[str, Any]:
        return {"id": (1 << 62) | next(self._ids), "case_id": case_id,
                "reviewer_id": self.reviewer_id, "created_on": date(2026, 12, 1),
                "key_epoch": 1, "ciphertext": DUMMY, "version": version, "finding": finding,
                "root_cause": root_cause, "sanction_types": sanctions,
                "recognition_types": recognitions}

    def action_row(self, case_id: int, due: date, status: ActionStatus = ActionStatus.OPEN,
                   done: date | None = None, position: int = 1) -> dict[str, Any]:
        return {"id": (1 << 62) | next(self._ids), "case_id": case_id,
                "reviewer_id": self.reviewer_id, "created_on": date(2026, 12, 1),
                "key_epoch": 1, "ciphertext": DUMMY, "position": position,
                "owner_id": self.reviewer_id, "due_on": due, "status": status, "done_on": done}

    def insert(self, cases: Sequence[dict[str, Any]], decisions: Sequence[dict[str, Any]] = (),
               actions: Sequence[dict[str, Any]] = ()) -> None:
        """One executemany per table, in one transaction. Core inserts, not the ORM's bulk
        path: that one splits rows by which of their values are None, one batch each."""
        with transaction(self.session_factory) as s:
            for model, rows in ((Case, cases), (Decision, decisions),
                                (CorrectiveAction, actions)):
                if rows:
                    s.connection().execute(insert(model.__table__), list(rows))
            mark_all_stale(s)  # Core inserts bypass the session's tracking


@pytest.fixture
def stats_db(session_factory: sessionmaker[Session]) -> StatsDb:
    """The default categories and one reviewer (the author of decisions and actions)."""
    with transaction(session_factory) as s:
        seed_default_categories(s)
        s.execute(insert(Reviewer).values(
            username="statistician", role=Role.REVIEWER, passphrase_hash="-",
            created_at=datetime(2026, 1, 1, tzinfo=UTC)))
        reviewer_id = s.execute(select(Reviewer.id)).scalar_one()
        categories = {code: cid for code, cid in s.execute(select(Category.code, Category.id))}
    return StatsDb(session_factory, categories, reviewer_id)
