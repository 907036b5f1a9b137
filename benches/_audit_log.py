"""A large access log for the audit benchmark (benches/audit_verify.py), written fast.

Entries are generated in position order and bulk-inserted into audit_events with the canonical
bytes, leaf hash and chain hash that core.audit.log._append computes (core.audit.log.entry_bytes,
crypto.audit_chain), and audit_head is moved along, so that sign_checkpoint, write_export and
the console read it as a log the instance wrote itself. Checkpoints are signed with the real
sign_checkpoint whenever the log reaches one of the requested sizes.

The log spans the three years before now, the same span at every size (a larger log is a
busier organisation): entry p is dated start + (p + 1/2) / n of the span. The mix (weights in
percent, see MIX): staff reading reports, files and inbox summaries, posting messages,
changing stages and granting access, logging in and out; auditors reading the log; hourly
checkpoints by the system; reporters submitting, opening their case and writing. A reporter's
entry carries midnight of the day before the one it is appended on (the sequencer appends a
day once it has ended). Each report opens a case (a random 63-bit id, as
core.models.base.random_row_id gives); later case entries pick one of the cases opened in the
90 days before, so a case collects about 15 entries at every size.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.audit.checkpoints import sign_checkpoint
from core.audit.log import entry_bytes
from core.db import transaction
from core.models import ActorKind, AuditCheckpoint, AuditEvent, AuditHead
from core.services import Services
from crypto.audit_chain import chain_hash, leaf_hash

SPAN_DAYS = 3 * 365
ACTIVE_DAYS = 90
BATCH = 10_000
R, S, Y = ActorKind.REVIEWER, ActorKind.SUBMITTER, ActorKind.SYSTEM
STAGES = ("received", "acknowledged", "under_investigation", "info_needed", "decided",
          "feedback_given", "closed")


def _id(rng: random.Random) -> int:
    return (1 << 62) | rng.getrandbits(62)


#: (action, actor kind, names a case, detail(rng, position, staff ids), weight in percent).
Detail = Callable[[random.Random, int, list[int]], dict[str, Any]]
MIX: list[tuple[str, ActorKind, bool, Detail, float]] = [
    ("case:report:decrypt", R, True, lambda r, p, s: {} if r.random() < 0.6
     else {"records": "casework"}, 22),
    ("case:summary:decrypt", R, False, lambda r, p, s: {"cases": ",".join(
        str(i) for i in sorted(_id(r) for _ in range(r.randrange(10, 51))))}, 8),
    ("case:attachment:decrypt", R, True, lambda r, p, s: {"attachment_id": _id(r)}, 6),
    ("case:message:reviewer", R, True, lambda r, p, s: {
        "message_id": _id(r), "kind": r.choice(("internal_note", "information", "question")),
        "files": r.choice((0, 0, 0, 1))}, 8),
    ("case:status", R, True, lambda r, p, s: dict(zip(("from", "to"), r.sample(STAGES, 2),
                                                       strict=True)), 5),
    ("case:grant", R, True, lambda r, p, s: {"grantee_id": r.choice(s),
                                             "kinds": "case,team"}, 3),
    ("session:login", R, False, lambda r, p, s: {"totp": True}, 8),
    ("session:logout", R, False, lambda r, p, s: {}, 4),
    ("session:login:fail", R, False, lambda r, p, s: {"reason": "passphrase"}, 1),
    ("access:refuse", R, True, lambda r, p, s: {"endpoint": "cases.case", "status": 403}, 1),
    ("audit:read", R, False, lambda r, p, s: {"shown": 50}, 2),
    ("audit:checkpoint", Y, False, lambda r, p, s: {"size": p}, 3),
    ("case:submit", S, True, lambda r, p, s: {"channel": "web", "files": r.choice((0, 1, 2)),
                                              "routed_to": r.randrange(1, 5),
                                              "left_out": 0}, 4),
    ("case:submitter:open", S, True, lambda r, p, s: {}, 10),
    ("case:message:submitter", S, True, lambda r, p, s: {"files": r.choice((0, 0, 1))}, 5),
    ("case:attachment:decrypt", S, True, lambda r, p, s: {}, 1),
]


@dataclass
class LogFacts:
    """What the generated log holds, for choosing the filters of the measured pages."""

    start: datetime
    span: timedelta
    cases: list[tuple[datetime, int]] = field(default_factory=list)  # (opened, case id)
    case_entries: dict[int, int] = field(default_factory=dict)
    checkpoints: list[str] = field(default_factory=list)  # the signed notes, by size


class LogGenerator:
    """Entries of a log of `total` entries over the span, in position order."""

    def __init__(self, total: int, staff: list[int], auditors: list[int], end: datetime,
                 seed: int = 4711) -> None:
        self.total = total
        self.staff, self.auditors = staff, auditors
        self.rng = random.Random(seed)
        self.facts = LogFacts(start=end - timedelta(days=SPAN_DAYS),
                              span=timedelta(days=SPAN_DAYS))
        self._weights = [w for *_rest, w in MIX]
        self._first_active = 0  # facts.cases[self._first_active:] opened in ACTIVE_DAYS

    def moment(self, position: int) -> datetime:
        """When entry `position` happened."""
        return self.facts.start + self.facts.span * ((position + 0.5) / self.total)

    def _case(self, now: datetime, new: bool) -> int | None:
        facts = self.facts
        if new:
            case_id = _id(self.rng)
            facts.cases.append((now, case_id))
        else:
            horizon = now - timedelta(days=ACTIVE_DAYS)
            while (self._first_active < len(facts.cases)
                   and facts.cases[self._first_active][0] < horizon):
                self._first_active += 1
            if self._first_active == len(facts.cases):
                return None
            case_id = facts.cases[self.rng.randrange(self._first_active, len(facts.cases))][1]
        facts.case_entries[case_id] = facts.case_entries.get(case_id, 0) + 1
        return case_id

    def rows(self, position: int, previous: bytes, count: int) -> Iterator[dict[str, Any]]:
        """`count` rows from `position`, chained on `previous` (the head's hash)."""
        rng = self.rng
        for p in range(position, position + count):
            now = self.moment(p)
            while True:
                action, kind, with_case, detail, _w = rng.choices(MIX, self._weights)[0]
                case_id = self._case(now, action == "case:submit") if with_case else None
                if case_id is not None or not with_case:
                    break
            if kind is S:
                occurred = datetime.combine(now.date() - timedelta(days=1), time.min,
                                            tzinfo=UTC)
                reviewer_id = None
            else:
                occurred = now
                reviewer_id = (None if kind is Y else rng.choice(
                    self.auditors if action == "audit:read" else self.staff))
            row = {"position": p, "occurred_at": occurred, "actor_kind": kind,
                   "reviewer_id": reviewer_id, "action": action, "case_id": case_id,
                   "detail": json.dumps(detail(rng, p, self.staff), sort_keys=True,
                                        separators=(",", ":"))}
            leaf = leaf_hash(entry_bytes(SimpleNamespace(**row)))
            previous = chain_hash(previous, leaf)
            row["leaf_hash"], row["chain_hash"] = leaf, previous
            yield row


def append_generated(session: Session, generator: LogGenerator, count: int) -> None:
    """Append `count` generated entries after the current head, in the caller's
    transaction, and move the head. The rows go in through the driver (SQLite: executemany
    of the values SQLAlchemy's column types would bind; PostgreSQL: COPY), ten times faster
    than an ORM or Core insert here."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    position, previous = head.size, bytes(head.head)
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    columns = [c.name for c in AuditEvent.__table__.columns]
    names = ", ".join(columns)
    dialect = connection.dialect
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        rows = list(generator.rows(position + done, previous, size))
        if dialect.name == "sqlite":
            binders = [c.type._cached_bind_processor(dialect)  # noqa: SLF001
                       for c in AuditEvent.__table__.columns]
            values = [tuple(bind(row[c]) if bind else row[c]
                            for c, bind in zip(columns, binders, strict=True)) for row in rows]
            driver.executemany(f"INSERT INTO audit_events ({names}) VALUES "
                               f"({', '.join('?' * len(columns))})", values)
        else:
            with driver.cursor() as cursor, cursor.copy(
                    f"COPY audit_events ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([str(row[c]) if c == "actor_kind" else row[c]
                                    for c in columns])
        previous = rows[-1]["chain_hash"]
        done += size
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(size=position + count, head=previous))
    session.expire_all()


def build_log(factory: sessionmaker[Session], services: Services, total: int,
              staff: list[int], auditors: list[int], checkpoint_sizes: list[int], end: datetime,
              progress: Callable[[str], None] = print) -> LogFacts:
    """Fill the log up to `total` entries, signing a checkpoint (with the real
    sign_checkpoint, which appends its own entry) when it reaches each of
    `checkpoint_sizes`. The log's span ends at `end`. The services' clock follows the
    generated times meanwhile and is restored afterwards."""
    generator = LogGenerator(total, staff, auditors, end)
    real_now = services.clock.now
    try:
        for target in [*sorted(checkpoint_sizes), total]:
            with factory() as s:
                size = s.execute(select(AuditHead.size)).scalar_one()
            if target > size:
                with transaction(factory) as s:
                    append_generated(s, generator, target - size)
                progress(f"    {target} entries")
            if target in checkpoint_sizes:
                services.clock.now = lambda: generator.moment(target)  # noqa: B023
                with transaction(factory) as s:
                    sign_checkpoint(s, services)
                progress(f"    checkpoint of {target} entries signed")
    finally:
        services.clock.now = real_now
    with factory() as s:
        generator.facts.checkpoints = list(s.execute(
            select(AuditCheckpoint.note).order_by(AuditCheckpoint.size)).scalars())
    return generator.facts
