"""Global fixed-window budgets shared through the database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.throttle import take

WINDOW = timedelta(minutes=1)
T0 = datetime(2026, 11, 28, 12, 0, 10, tzinfo=UTC)


def test_budget_is_enforced_and_resets(session_factory: sessionmaker[Session]) -> None:
    results = []
    for _ in range(4):
        with transaction(session_factory) as s:
            results.append(take(s, "logins", limit=3, window=WINDOW, now=T0))
    assert results[:3] == [None, None, None]
    assert results[3] == 50  # 12:00:10 -> the window ends at 12:01:00
    with transaction(session_factory) as s:
        assert take(s, "logins", limit=3, window=WINDOW, now=T0 + WINDOW) is None
    with transaction(session_factory) as s:
        assert take(s, "other", limit=1, window=WINDOW, now=T0) is None


def test_concurrent_takers_never_exceed_the_budget(
    session_factory: sessionmaker[Session],
) -> None:
    allowed = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            with transaction(session_factory) as s:
                verdict = take(s, "shared", limit=25, window=timedelta(hours=1), now=T0)
            with lock:
                allowed.append(verdict is None)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 40
    assert sum(allowed) == 25
