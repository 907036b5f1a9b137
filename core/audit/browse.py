"""The auditor console's reading of the log: filter by actor, action, case and period, page by
position (keyset paging: one indexed query a page, however long the log). Each page an auditor
reads is itself logged, with the filters they used.

A page filtered by period is ordered by time, then position: (occurred_at, position) is one
range of the occurred_at index (which holds the position too), so such a page reads about its
own rows however long the log. Ordered by position alone, the database had to read every entry
of the period (SQLite) or walk back from the newest entry to the period (PostgreSQL). The
order differs only for reporters' entries, which carry midnight of their day and are appended
later: in a period they stand at the start of their day. The paging links still name a
position; the entry's time is looked up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, select, tuple_
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.clock import Clock
from core.models import ActorKind, AuditEvent, Case, Reviewer

PAGE_SIZE = 50
#: The actor filter's values besides a staff account's id.
SYSTEM, REPORTER = "system", "reporter"


@dataclass(frozen=True)
class LogFilter:
    """What the auditor asked for; every field optional."""

    actor: str | None = None  # SYSTEM, REPORTER or a staff account's id
    action: str | None = None
    case_id: int | None = None
    since: date | None = None  # the organisation's days, inclusive
    until: date | None = None
    before: int | None = None  # show entries older than this position
    after: int | None = None  # ... or newer than this one


@dataclass(frozen=True)
class LogPage:
    """One page of entries, newest first, and where the neighbouring pages start."""

    events: list[AuditEvent]
    names: dict[int, str]
    references: dict[int, str]  # the staff-facing reference of each case on the page
    older: int | None  # pass as `before` for the next (older) page
    newer: int | None  # pass as `after` for the previous (newer) page


def _filtered(query: Select[Any], wanted: LogFilter, clock: Clock) -> Select[Any]:
    if wanted.actor == SYSTEM:
        query = query.where(AuditEvent.actor_kind == ActorKind.SYSTEM)
    elif wanted.actor == REPORTER:
        query = query.where(AuditEvent.actor_kind == ActorKind.SUBMITTER)
    elif wanted.actor is not None and wanted.actor.isdigit():
        query = query.where(AuditEvent.reviewer_id == int(wanted.actor))
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    if wanted.case_id is not None:
        query = query.where(AuditEvent.case_id == wanted.case_id)
    if wanted.since is not None:
        query = query.where(AuditEvent.occurred_at >= _day_start(clock, wanted.since))
    if wanted.until is not None:
        query = query.where(
            AuditEvent.occurred_at < _day_start(clock, wanted.until + timedelta(days=1)))
    return query


def _day_start(clock: Clock, day: date) -> datetime:
    """Midnight of an organisation's day. Reporters' entries carry midnight UTC of their day:
    in zones east of UTC they may fall on the previous organisation day (SECURITY.md)."""
    return datetime.combine(day, time.min, tzinfo=clock.zone)


def read_log(session: Session, clock: Clock, auditor_id: int, wanted: LogFilter) -> LogPage:
    """A page of the log matching `wanted`, and an AUDIT_LOG_READ entry naming the filters."""
    query = _filtered(select(AuditEvent), wanted, clock)
    by_time = wanted.since is not None or wanted.until is not None
    order = [AuditEvent.occurred_at, AuditEvent.position] if by_time else [AuditEvent.position]
    if wanted.after is not None:
        query = query.where(_beyond(session, wanted.after, by_time, newer=True))
        rows: list[AuditEvent] = list(session.execute(
            query.order_by(*order).limit(PAGE_SIZE + 1)).scalars())
        has_newer = len(rows) > PAGE_SIZE
        events = list(reversed(rows[:PAGE_SIZE]))
        has_older = True
    else:
        if wanted.before is not None:
            query = query.where(_beyond(session, wanted.before, by_time, newer=False))
        rows = list(session.execute(
            query.order_by(*(column.desc() for column in order)).limit(PAGE_SIZE + 1)
        ).scalars())
        has_older = len(rows) > PAGE_SIZE
        events = rows[:PAGE_SIZE]
        has_newer = wanted.before is not None
    ids = {e.reviewer_id for e in events if e.reviewer_id is not None}
    names: dict[int, str] = {}
    if ids:
        accounts = session.execute(select(Reviewer.id, Reviewer.username)
                                   .where(Reviewer.id.in_(ids))).all()
        names = {account.id: account.username for account in accounts}
    record_event(session, clock, AuditAction.AUDIT_LOG_READ, Actor.reviewer(auditor_id),
                 case_id=wanted.case_id, detail=_read_detail(wanted, len(events)))
    return LogPage(
        events=events, names=names, references=_references(session, events),
        older=events[-1].position if events and has_older else None,
        newer=events[0].position if events and has_newer else None)


def _references(session: Session, events: list[AuditEvent]) -> dict[int, str]:
    """The references of the cases `events` name (one query): auditors find cases by the
    reference every other page shows."""
    ids = {e.case_id for e in events if e.case_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Case.id, Case.reference).where(Case.id.in_(ids)))
    return {case_id: reference for case_id, reference in rows}


def _beyond(session: Session, position: int, by_time: bool, *,
            newer: bool) -> ColumnElement[bool]:
    """Entries after (`newer`) or before the entry at `position`: by position, or on a page
    ordered by time by (occurred_at, position). A position with no entry (an edited link)
    pages by position alone."""
    occurred_at = session.scalar(select(AuditEvent.occurred_at)
                                 .where(AuditEvent.position == position)) if by_time else None
    if occurred_at is None:
        return AuditEvent.position > position if newer else AuditEvent.position < position
    key = tuple_(AuditEvent.occurred_at, AuditEvent.position)
    # A plain tuple on the right: its values take the types of the columns (UTCDateTime).
    return key > (occurred_at, position) if newer else key < (occurred_at, position)


def _read_detail(wanted: LogFilter, shown: int) -> dict[str, str | int | None]:
    detail: dict[str, str | int | None] = {"shown": shown}
    for name in ("actor", "action", "before", "after"):
        value = getattr(wanted, name)
        if value is not None and value != "":
            detail[name] = value
    if wanted.since is not None:
        detail["since"] = wanted.since.isoformat()
    if wanted.until is not None:
        detail["until"] = wanted.until.isoformat()
    return detail


def staff_accounts(session: Session) -> list[tuple[int, str]]:
    """Every staff account (id, name) for the actor filter, by name."""
    rows = session.execute(select(Reviewer.id, Reviewer.username)
                           .order_by(Reviewer.username)).all()
    return [(row.id, row.username) for row in rows]
