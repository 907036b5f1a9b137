"""Fixed-window rate limits kept in the database, so every app process shares them.

No limit is keyed by a network address: the portal must not know who is asking. Budgets are
global (all receipt logins per minute) or per account. (The per-case message limit counts the
case's messages instead: core.intake.reporter.)

A bucket stores its window as a keyed hash of the window's number, never as a time: the row
of the submissions budget would otherwise hold the minute of the latest report.
Redis can replace this table when the instance scales out; the interface stays.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import ThrottleBucket


def _window_tag(key: bytes, name: str, number: int) -> bytes:
    """Which window a bucket counts, unreadable without the key (a secrets file)."""
    return hashlib.blake2b(f"{name}\n{number}".encode(), key=key, person=b"candor-window",
                           digest_size=16).digest()


def _locked_bucket(session: Session, name: str, tag: bytes) -> ThrottleBucket:
    query = (select(ThrottleBucket).where(ThrottleBucket.name == name).with_for_update()
             .execution_options(populate_existing=True))
    bucket = session.execute(query).scalar_one_or_none()
    if bucket is not None:
        return bucket
    try:
        with session.begin_nested():
            session.add(ThrottleBucket(name=name, window_tag=tag, count=0))
    except IntegrityError:
        pass  # another process created it first
    return session.execute(query).scalar_one()


def take(session: Session, name: str, *, limit: int, window: timedelta,
         now: datetime, key: bytes) -> int | None:
    """Count one event against bucket `name`; `key` keeps the window's time out of the row.

    Returns None when allowed, otherwise the whole seconds until the window ends (for a
    "try again in N seconds" page). Commit the session promptly: the bucket row stays locked
    until then.
    """
    seconds = window.total_seconds()
    number = math.floor(now.timestamp() / seconds)
    tag = _window_tag(key, name, number)
    bucket = _locked_bucket(session, name, tag)
    if bucket.window_tag != tag:
        bucket.window_tag = tag
        bucket.count = 0
    if bucket.count >= limit:
        return max(1, math.ceil((number + 1) * seconds - now.timestamp()))
    bucket.count += 1
    session.flush()
    return None
