"""Writes racing a retention run: a use case that read the case's keys before the run
committed must still refuse to add content once it has."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from core.cases import identity_requests
from core.db import transaction
from core.errors import Conflict
from core.models import Case, IdentityRequest, IdentityRequestSeal
from core.operations.retention_run import run_retention
from tests.core.cases.retention_world import build_full_case, due_day


def test_an_identity_request_racing_the_run_adds_nothing(
        session_factory, services, backend, monkeypatch) -> None:
    """The requester's grants are read, then the run commits (PostgreSQL: the read takes no
    lock), then the request would be written with a fresh reason ciphertext and its seals.
    With the case locked first, the run waits and destroys the new request too."""
    if backend != "postgresql":
        pytest.skip("SQLite allows one writer at a time: no run can commit in between")
    full = build_full_case(session_factory, services)
    with session_factory() as s:
        day = due_day(services, s.get(Case, full.case_id).closed_on)
    real_keys = identity_requests.case_keys_of
    results: list[int] = []

    def run() -> None:
        summary = run_retention(lambda: transaction(session_factory), services, day)
        results.append(len(summary.destroyed))

    runner = threading.Thread(target=run)

    def keys_then_run(*args, **kwargs):
        keys = real_keys(*args, **kwargs)
        runner.start()
        # Without the case's lock the run commits now; with it, it waits for this request,
        # then destroys it with the rest of the case.
        runner.join(timeout=3)
        return keys

    monkeypatch.setattr(identity_requests, "case_keys_of", keys_then_run)
    try:
        with transaction(session_factory) as s:
            identity_requests.request_identity(s, services, full.intake.unlocked,
                                               full.case_id, "CANARY-LATE reason")
    except Conflict:
        pass  # refused (ContentDestroyed if the run committed first; else Alice's pending one)
    runner.join(timeout=30)
    assert results == [1]
    with session_factory() as s:
        reasons = s.execute(select(IdentityRequest.reason_ciphertext)
                            .where(IdentityRequest.case_id == full.case_id)).scalars().all()
        assert set(reasons) == {b""}
        assert s.execute(select(IdentityRequestSeal)).first() is None
