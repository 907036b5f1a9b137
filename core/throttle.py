"""Fixed-window rate limits kept in the database, so every app process shares them.

No limit is keyed by a network address: the portal must not know who is asking. Budgets are
global (all receipt logins per minute) or per object (messages per case per day).
Redis can replace this table when the instance scales out; the interface stays.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import ThrottleBucket


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = window.total_seconds()
    start = math.floor(now.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(start, UTC)


def _locked_bucket(session: Session, name: str, start: datetime) -> ThrottleBucket:
    query = (select(ThrottleBucket).where(ThrottleBucket.name == name).with_for_update()
             .execution_options(populate_existing=True))
    bucket = session.execute(query).scalar_one_or_none()
    if bucket is not None:
        return bucket
    try:
        with session.begin_nested():
            session.add(ThrottleBucket(name=name, window_start=start, count=0))
    except IntegrityError:
        pass  # another process created it first
    return session.execute(query).scalar_one()


def take(session: Session, name: str, *, limit: int, window: timedelta,
         now: datetime) -> int | None:
    """Count one event against bucket `name`.

    Returns None when allowed, otherwise the whole seconds until the window ends (for a
    "try again in N seconds" page). Commit the session promptly: the bucket row stays locked
    until then.
    """
    start = _window_start(now, window)
    bucket = _locked_bucket(session, name, start)
    if bucket.window_start != start:
        bucket.window_start = start
        bucket.count = 0
    if bucket.count >= limit:
        return max(1, math.ceil((start + window - now).total_seconds()))
    bucket.count += 1
    session.flush()
    return None
