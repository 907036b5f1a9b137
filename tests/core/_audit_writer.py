"""A separate OS process appending audit events (imported by multiprocessing 'spawn')."""

from __future__ import annotations

import time
from typing import Any


def append_events(database_url: str, writer: str, count: int, barrier: Any) -> None:
    """Open an own engine and append `count` events, one transaction each."""
    from core.audit.log import Actor, AuditAction, record_event
    from core.clock import Clock
    from core.db import make_engine, make_session_factory, transaction

    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    clock = Clock()
    try:
        if barrier is not None:
            barrier.wait(timeout=60)
        for i in range(count):
            with transaction(factory) as s:
                record_event(
                    s,
                    clock,
                    AuditAction.CATEGORY_CHANGED,
                    Actor.system(),
                    detail={"writer": writer, "i": i},
                )
                time.sleep(0.001)  # hold the head a moment: a missing lock would show
    finally:
        engine.dispose()
