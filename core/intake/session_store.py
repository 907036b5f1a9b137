"""Where reporters' follow-up sessions are kept: the table submitter_sessions, or Redis when
the instance scales out (`redis_url`; core.services picks one). The use cases are in
core.intake.reporter_sessions; a store only keeps sealed bytes under the session id's hash.

Neither store holds anything readable but what the use cases give it: the state sealed under
the cookie's secret, and in the database the reporter's day (or week), for clean-up. Redis
needs no such date: a session's key expires when its idle (or absolute) deadline passes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol, cast

from redis import Redis
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from core.models import SubmitterSession

#: Prefix of the sessions' Redis keys; the rest is the hex of the session id's hash.
REDIS_PREFIX = "candor:submitter-session:"


class SubmitterSessionStore(Protocol):
    """Sealed session states by id hash. The database store works in the session it is
    given (the caller's transaction); the Redis store ignores it and writes at once."""

    def add(self, session: Session, id_hash: bytes, sealed_state: bytes, *, day: date,
            lifetime: timedelta) -> None:
        """Keep a new session; `day` dates the row (database), `lifetime` is how long it may
        go unused (Redis: the key's TTL)."""
        ...

    def get(self, session: Session, id_hash: bytes) -> bytes | None:
        """The sealed state, or None if there is no such session."""
        ...

    def update(self, session: Session, id_hash: bytes, sealed_state: bytes, *,
               lifetime: timedelta) -> None:
        """Replace the sealed state of a session that still exists (one ended meanwhile
        stays ended)."""
        ...

    def delete(self, session: Session, id_hash: bytes) -> None:
        """End a session (nothing happens if there is none)."""
        ...

    def purge(self, session: Session, before: date) -> int:
        """Delete sessions dated before `before`; how many went (Redis: none, its keys
        expire by themselves)."""
        ...


class DatabaseSubmitterSessions:
    """Sessions as rows of submitter_sessions, in the caller's transaction."""

    def add(self, session: Session, id_hash: bytes, sealed_state: bytes, *, day: date,
            lifetime: timedelta) -> None:
        session.add(SubmitterSession(id_hash=id_hash, sealed_state=sealed_state, created_on=day))
        session.flush()

    def get(self, session: Session, id_hash: bytes) -> bytes | None:
        row = session.get(SubmitterSession, id_hash)
        return None if row is None else bytes(row.sealed_state)

    def update(self, session: Session, id_hash: bytes, sealed_state: bytes, *,
               lifetime: timedelta) -> None:
        # A statement, not the loaded row: a row deleted meanwhile updates nothing.
        session.execute(update(SubmitterSession).where(SubmitterSession.id_hash == id_hash)
                        .values(sealed_state=sealed_state))

    def delete(self, session: Session, id_hash: bytes) -> None:
        session.execute(delete(SubmitterSession).where(SubmitterSession.id_hash == id_hash))

    def purge(self, session: Session, before: date) -> int:
        result = session.execute(delete(SubmitterSession)
                                 .where(SubmitterSession.created_on < before))
        return int(getattr(result, "rowcount", 0) or 0)


def _milliseconds(lifetime: timedelta) -> int:
    return max(1, int(lifetime.total_seconds() * 1000))


class RedisSubmitterSessions:
    """Sessions as Redis keys (the id hash) holding the sealed state, expiring after
    `lifetime` unused. Shared at once by every app server; nothing reaches a disk when Redis
    runs without persistence."""

    def __init__(self, client: Redis, *, prefix: str = REDIS_PREFIX) -> None:
        self._client = client
        self._prefix = prefix

    def redis_key(self, id_hash: bytes) -> str:
        """The key of a session."""
        return self._prefix + id_hash.hex()

    def add(self, session: Session, id_hash: bytes, sealed_state: bytes, *, day: date,
            lifetime: timedelta) -> None:
        self._client.set(self.redis_key(id_hash), sealed_state, px=_milliseconds(lifetime))

    def get(self, session: Session, id_hash: bytes) -> bytes | None:
        value = cast(bytes | None, self._client.get(self.redis_key(id_hash)))
        return None if value is None else bytes(value)

    def update(self, session: Session, id_hash: bytes, sealed_state: bytes, *,
               lifetime: timedelta) -> None:
        # XX: only if it still exists, so that a logout between get and update holds.
        self._client.set(self.redis_key(id_hash), sealed_state, px=_milliseconds(lifetime),
                         xx=True)

    def delete(self, session: Session, id_hash: bytes) -> None:
        self._client.delete(self.redis_key(id_hash))

    def purge(self, session: Session, before: date) -> int:
        return 0
