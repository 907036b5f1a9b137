"""The audit recorder: every decryption and state change appends one event, in the caller's
transaction, to a hash chain that auditors can verify offline.

Appends are serialised by locking the single `audit_head` row (SELECT ... FOR UPDATE on
PostgreSQL; SQLite transactions here start with BEGIN IMMEDIATE, which serialises writers).
A transaction that rolls back takes its events with it, so the log never claims an action that
did not happen, and never misses one that did.

Reporters' events are queued, not appended: their position among staff events, which carry
exact times, would date them to the minute. Four hours after their day (or week, core.clock)
has ended, the next append, or `candor cleanup`, moves the whole period's queue into the chain
in random order, each dated midnight of its day.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.models import ActorKind, AuditEvent, AuditHead, PendingAuditEvent
from crypto.audit_chain import GENESIS, chain_hash, leaf_hash

#: How long after its day (or week) ends a reporter's event may still be committed: a
#: submission's transaction ends after its upload and carries the day the upload began. The
#: largest upload (512 MiB) at 50 KB/s over Tor takes about three hours, and `candor serve`
#: cuts only idle clients, not slow ones. Periods are appended only this long after their end,
#: so that no straggler is appended after staff events of the next day, which would date it
#: to just before midnight.
REPORTER_EVENT_GRACE = timedelta(hours=4)


class AuditAction(StrEnum):
    """Event tags, `area:object:verb`. Never add content to the tag or the detail."""

    CASE_SUBMITTED = "case:submit"
    CASE_OPENED_BY_SUBMITTER = "case:submitter:open"
    SUBMITTER_MESSAGE_POSTED = "case:message:submitter"
    REPORT_DECRYPTED = "case:report:decrypt"
    ATTACHMENT_DECRYPTED = "case:attachment:decrypt"
    IDENTITY_REVEALED = "case:identity:reveal"
    REVIEWER_MESSAGE_POSTED = "case:message:reviewer"
    CASE_GRANTED = "case:grant"
    CASE_MEMBER_EXCLUDED = "case:member:exclude"
    CASE_STATUS_CHANGED = "case:status"
    CASE_RECOVERED = "case:recover"
    REVIEWER_ADDED = "reviewer:add"
    REVIEWER_DEACTIVATED = "reviewer:deactivate"
    REVIEWER_PASSPHRASE_CHANGED = "reviewer:passphrase:change"  # noqa: S105 - a tag
    REVIEWER_PASSPHRASE_RESET = "reviewer:passphrase:reset"  # noqa: S105 - a tag
    REVIEWER_TOTP_ENROLLED = "reviewer:totp:enrol"
    REVIEWER_TOTP_RESET = "reviewer:totp:reset"
    LOGIN_SUCCEEDED = "session:login"
    LOGIN_FAILED = "session:login:fail"
    LOGOUT = "session:logout"
    SESSION_REVOKED = "session:revoke"
    SESSION_REAUTHENTICATED = "session:reauth"
    CATEGORY_CHANGED = "category:change"  # intake routing
    CATEGORY_ADDED = "category:add"
    CATEGORY_EDITED = "category:edit"
    CATEGORY_MOVED = "category:move"
    CATEGORY_DEACTIVATED = "category:deactivate"
    CATEGORY_ACTIVATED = "category:activate"
    CHECKPOINT_SIGNED = "audit:checkpoint"
    KEY_REJECTED = "reviewer:key:reject"  # a stored public key failed its check: an alarm
    REVIEWER_KEYS_CREATED = "reviewer:keys:create"  # enrolment completed with own passphrase
    REVIEWER_CUSTODIAN_CHANGED = "reviewer:custodian"
    STANDING_CONFIRMED = "reviewer:standing:confirm"  # the operator vouched for an account
    REVIEWER_EDITED = "reviewer:edit"  # email or display name (which, never the values)
    WARNING_DIGEST_SENT = "notify:warnings"  # the month's early warnings mailed to admins
    CASE_EPOCH_STARTED = "case:epoch"
    RECORD_TAMPERED = "case:record:tampered"
    IDENTITY_REQUESTED = "case:identity:request"
    IDENTITY_GRANT_WITHDRAWN = "case:identity:withdraw"  # upgrade: pre-0009 intake grants
    IDENTITY_REQUEST_DECIDED = "case:identity:decide"
    IDENTITY_REQUEST_READ = "case:identity:request:read"  # a custodian decrypts the reason
    STAFF_CHANGE_REQUESTED = "admin:change:request"
    STAFF_CHANGE_DECIDED = "admin:change:decide"
    CASE_SCOPE_DECIDED = "case:scope"
    CASE_LEAD_CHANGED = "case:lead"
    CASE_MEMBER_ROLE_CHANGED = "case:member:role"
    CASE_PRIORITY_CHANGED = "case:priority"
    CASE_CATEGORY_CHANGED = "case:category"
    CASE_CATEGORY_CONFIRMED = "case:category:confirm"  # kept as an example for suggestions
    CATEGORY_EXAMPLES_DECRYPTED = "case:category:learn"  # suggestions trained on examples
    CASE_LEGAL_HOLD_CHANGED = "case:hold"  # retention suspended or resumed
    CASE_CONTENT_DESTROYED = "case:destroy"  # retention: keys and ciphertexts shredded
    CASE_FILE_EXPORTED = "case:export"  # a handler took the decrypted case file away
    EVIDENCE_ADDED = "case:evidence:add"
    DECISION_RECORDED = "case:decision"
    ACTION_ADDED = "case:action:add"
    ACTION_UPDATED = "case:action:update"
    OUTCOME_ANSWERED = "case:outcome:answer"  # the reporter: satisfied or not
    REVIEW_ANSWERED = "case:review:answer"
    CASE_REOPENED = "case:reopen"
    CASE_RECORDED_BY_STAFF = "case:intake:staff"  # a report taken by telephone, letter, ...
    SUMMARIES_DECRYPTED = "case:summary:decrypt"  # the inbox page's one-line summaries
    ACCESS_REFUSED = "access:refuse"  # a case, file or page the actor may not see
    AUDIT_LOG_READ = "audit:read"  # an auditor's page of the log (filters in the detail)
    AUDIT_EXPORTED = "audit:export"
    AUDIT_PROOF_MADE = "audit:prove"
    AUDIT_LOG_DAMAGED = "audit:damaged"  # the database no longer matches the checkpoints


@dataclass(frozen=True)
class Actor:
    """Who performs an action. Submitters are never identified, not even by a pseudonym."""

    kind: ActorKind
    reviewer_id: int | None = None

    @classmethod
    def submitter(cls) -> Actor:
        """The (anonymous) reporter."""
        return cls(ActorKind.SUBMITTER)

    @classmethod
    def reviewer(cls, reviewer_id: int) -> Actor:
        """A staff member, by account id."""
        return cls(ActorKind.REVIEWER, reviewer_id)

    @classmethod
    def system(cls) -> Actor:
        """The instance itself or an operator at the command line."""
        return cls(ActorKind.SYSTEM)


#: The columns of an entry, for reading many without building ORM objects (`entry_bytes`
#: and `verify_events` accept the rows these select).
ENTRY_COLUMNS = (AuditEvent.position, AuditEvent.occurred_at, AuditEvent.actor_kind,
                 AuditEvent.reviewer_id, AuditEvent.action, AuditEvent.case_id,
                 AuditEvent.detail, AuditEvent.leaf_hash, AuditEvent.chain_hash)


#: Entries read from the database per round trip when the whole log is walked.
ENTRY_BATCH = 10_000


def entry_batches(session: Session, start: int,
                  end: int) -> Iterator[tuple[int, Sequence[Any]]]:
    """The entries of positions [start, end) as rows of ENTRY_COLUMNS, in position order,
    one range of ENTRY_BATCH positions at a time: (the range's first position, its rows).
    A range with missing entries yields fewer rows; callers decide what that means."""
    for first in range(start, end, ENTRY_BATCH):
        yield first, session.execute(
            select(*ENTRY_COLUMNS).where(AuditEvent.position >= first,
                                         AuditEvent.position < min(end, first + ENTRY_BATCH))
            .order_by(AuditEvent.position)).all()


def entry_bytes(event: Any) -> bytes:
    """The canonical bytes of an event (an AuditEvent, or a row of ENTRY_COLUMNS) that the
    chain and the Merkle tree hash. Auditors recompute these (docs/AUDIT_FORMAT.md)."""
    document = {
        "position": event.position,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_kind": str(event.actor_kind),
        "reviewer_id": event.reviewer_id,
        "action": event.action,
        "case_id": event.case_id,
        "detail": event.detail,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _canonical_detail(detail: Mapping[str, str | int | bool | None] | None) -> str:
    return json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"))


def locked_head(session: Session) -> AuditHead:
    """The log's head row, locked until the end of the transaction (serialises appends)."""
    head = session.execute(
        select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        raise RuntimeError("the audit log is not initialised; run `candor db upgrade`")
    return head


def record_event(
    session: Session,
    clock: Clock,
    action: AuditAction,
    actor: Actor,
    *,
    case_id: int | None = None,
    detail: Mapping[str, str | int | bool | None] | None = None,
    day: date | None = None,
) -> AuditEvent | PendingAuditEvent:
    """Record one event inside the caller's transaction.

    A staff or system event is appended to the log at once, with its exact time. A reporter's
    event is queued with only its day (`day`, default `Clock.submitter_day`: pass the date the
    action's other records carry, so that they agree) and enters the log after that day ends
    (`sequence_reporter_events`). `detail` holds identifiers and flags only (ids, key kinds,
    statuses), never content; a reporter's event names no row but its case (ValueError).
    """
    canonical = _canonical_detail(detail)
    if actor.kind is ActorKind.SUBMITTER:
        if any(key.endswith("_id") for key in detail or {}):
            # Row ids are given out in order, shared with staff rows whose events carry exact
            # times: an id in a reporter's event would place it between those times.
            raise ValueError("a reporter's audit event must not name rows besides its case")
        pending = PendingAuditEvent(token=secrets.token_bytes(16),
                                    occurred_on=day or clock.submitter_day(), action=str(action),
                                    case_id=case_id, detail=canonical)
        session.add(pending)
        session.flush()
        return pending
    head = locked_head(session)
    _append_ended_reporter_events(session, clock, head)
    event = _append(session, head, occurred_at=clock.now(), actor_kind=actor.kind,
                    reviewer_id=actor.reviewer_id, action=str(action), case_id=case_id,
                    detail=canonical)
    session.flush()
    return event


def sequence_reporter_events(session: Session, clock: Clock) -> int:
    """Append the queued reporter events of every ended day (or week) to the log; return how
    many. Staff appends do this on their way, so this only matters on a quiet instance
    (`candor cleanup` calls it)."""
    appended = _append_ended_reporter_events(session, clock, locked_head(session))
    session.flush()
    return appended


def _append_ended_reporter_events(session: Session, clock: Clock, head: AuditHead) -> int:
    """Move the queue of ended periods into the chain (the caller holds the head lock).

    Ordered by day, then by the random token: within a day the order says nothing about when
    each action happened. A period is appended whole, after every staff event of its day,
    once it ended at least REPORTER_EVENT_GRACE ago.
    """
    first_open = clock.first_open_period(REPORTER_EVENT_GRACE)
    ended = session.execute(
        select(PendingAuditEvent)
        .where(PendingAuditEvent.occurred_on < first_open)
        .order_by(PendingAuditEvent.occurred_on, PendingAuditEvent.token)
        .with_for_update()
    ).scalars().all()
    for pending in ended:
        _append(session, head,
                occurred_at=datetime.combine(pending.occurred_on, time.min, tzinfo=UTC),
                actor_kind=ActorKind.SUBMITTER, reviewer_id=None, action=pending.action,
                case_id=pending.case_id, detail=pending.detail)
        session.delete(pending)
    return len(ended)


def _append(session: Session, head: AuditHead, *, occurred_at: datetime, actor_kind: ActorKind,
            reviewer_id: int | None, action: str, case_id: int | None,
            detail: str) -> AuditEvent:
    event = AuditEvent(
        position=head.size,
        occurred_at=occurred_at.astimezone(UTC),
        actor_kind=actor_kind,
        reviewer_id=reviewer_id,
        action=action,
        case_id=case_id,
        detail=detail,
    )
    event.leaf_hash = leaf_hash(entry_bytes(event))
    event.chain_hash = chain_hash(head.head, event.leaf_hash)
    head.size += 1
    head.head = event.chain_hash
    session.add(event)
    return event


class ChainBroken(Exception):
    """The stored log does not hash to what it claims: something was altered or removed.
    `position` is the first entry found wrong."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position


def verify_events(events: Iterable[Any], start: bytes = GENESIS, first: int = 0) -> bytes:
    """Recompute the chain over `events` (in position order) and return the head.

    Raises ChainBroken at the first position that is missing, duplicated, out of order or whose
    hashes do not match its content.
    """
    current = start
    expected_position = first
    for event in events:
        if event.position != expected_position:
            raise ChainBroken(expected_position,
                              f"expected position {expected_position}, found {event.position}")
        leaf = leaf_hash(entry_bytes(event))
        if leaf != event.leaf_hash:
            raise ChainBroken(event.position, f"event {event.position} was altered")
        current = chain_hash(current, leaf)
        if current != event.chain_hash:
            raise ChainBroken(event.position,
                              f"chain hash mismatch at position {event.position}")
        expected_position += 1
    return current
