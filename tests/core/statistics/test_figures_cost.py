"""core.statistics.figures' cost and confidentiality: a constant number of queries from 100
to 100,000 cases, and nothing decrypted (every decrypting function made to fail)."""

from __future__ import annotations

import ast
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from core.models import (
    ActionStatus,
    CaseStatus,
    Channel,
    Finding,
    RootCause,
    Satisfaction,
    ScopeDecision,
    StatisticsCell,
)
from tests.core.statistics.test_figures import figures

S = CaseStatus


def forbid_decryption(monkeypatch) -> None:
    """Every function that opens a key or a ciphertext fails, wherever it was imported."""
    import nacl.public
    import nacl.secret

    import core.cases.grants
    import core.cases.reading
    import core.cases.records
    import crypto.keys
    import crypto.records
    import crypto.stream

    def refuse(*_args, **_kwargs):
        raise AssertionError("the dashboard decrypted something")

    originals = [crypto.records.decrypt_record, crypto.keys.open_sealed, crypto.keys.unwrap,
                 crypto.stream.decrypt_stream, core.cases.reading.decrypt_case,
                 core.cases.records.open_record, core.cases.grants.open_reviewer_grant,
                 core.cases.grants.open_submitter_grant, core.cases.grants.open_recovery_grant]
    for module in list(sys.modules.values()):
        for name, value in list(vars(module).items()) if module else []:
            if any(value is original for original in originals):
                monkeypatch.setattr(module, name, refuse)
    monkeypatch.setattr(nacl.public.SealedBox, "decrypt", refuse)
    monkeypatch.setattr(nacl.secret.SecretBox, "decrypt", refuse)


def test_statistics_modules_import_no_crypto() -> None:
    folder = Path(__file__).resolve().parents[3] / "core" / "statistics"
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("crypto", "core.cases.reading",
                                                   "core.cases.records", "core.cases.grants",
                                                   "core.keyring")), path


def bulk_world(stats_db, n: int) -> None:
    """`n` cases over 2026 (every category, channel, stage and outcome), a decision for one
    in four and a corrective action for one in ten: one executemany per table."""
    categories = list(stats_db.category_ids)
    channels, scopes, stages = list(Channel), [*ScopeDecision, None], list(S)
    answers, findings, causes = [None, *Satisfaction], list(Finding), list(RootCause)
    action_states = list(ActionStatus)
    cases, decisions, actions = [], [], []
    for i in range(n):
        received = date(2026, 1, 1) + timedelta(days=i % 365)
        row = stats_db.case_row(
            received, category=categories[i % len(categories)],
            channel=channels[i % len(channels)], status=stages[i % len(stages)],
            acknowledged=i % 11 if i % 13 else None, feedback=i % 97 if i % 3 else None,
            scope=scopes[i % len(scopes)], satisfaction=answers[i % 3])
        cases.append(row)
        if i % 4 == 0:
            decisions.append(stats_db.decision_row(
                row["id"], findings[i % 4], root_cause=causes[i % 5],
                sanctions="warning,training" if i % 2 else "", recognitions="thanks"))
        if i % 10 == 0:
            state = action_states[i % 3]
            done = received + timedelta(days=i % 90) if state is ActionStatus.DONE else None
            actions.append(stats_db.action_row(row["id"], received + timedelta(days=60),
                                               state, done))
    stats_db.insert(cases, decisions, actions)


@pytest.mark.slow
def test_query_count_is_constant_and_nothing_is_decrypted(stats_db, engine, monkeypatch,
                                                          backend) -> None:
    """At 100 and at 100,000 cases: the view that recounts the year's months reads the cases
    once per kind of fact (three queries, however many cases), and the next view, on clean
    months, runs four statements that read only the cells. Nothing is decrypted."""
    forbid_decryption(monkeypatch)
    statements: list[tuple[str, bool]] = []

    def count(_conn, _cursor, statement, _parameters, _context, executemany) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN IMMEDIATE
            statements.append((statement, executemany))

    def reads(kind: str) -> list[str]:
        return [s for s, _many in statements if s.lstrip().upper().startswith(kind)]

    recount, clean, cells = [], [], []
    for n in (100, 100_000 - 100):
        bulk_world(stats_db, n)
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            figures(stats_db, "2026")
            recount.append(len([s for s in reads("SELECT") if "FROM cases" in s
                                or "JOIN cases" in s]))
            statements.clear()
            result = figures(stats_db, "2026")
            clean.append(len(statements))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert result.details is not None
        assert not reads("INSERT") and not reads("UPDATE") and not reads("DELETE")
        with stats_db.session_factory() as s:
            cells.append(s.query(StatisticsCell).count())
    assert result.total.value == 100_000
    assert recount == [3, 3], recount  # cases, latest decisions, actions: once each
    # The categories, the stale check, the view's cells, the grid's cells.
    assert clean[0] == clean[1] == 4, (clean, statements)
    print(f"\n{backend}: cells stored at 100 and 100k cases: {cells}")
