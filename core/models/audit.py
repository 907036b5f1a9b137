"""The append-only, hash-chained audit log (docs/CRYPTO.md, "Audit log")."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, RowId, UTCDateTime, str_enum
from core.models.enums import ActorKind


class AuditEvent(Base):
    """One entry of the log. Its canonical bytes (core.audit.log.entry_bytes) are hashed into the
    chain; `chain_hash` of the last entry is the head. Rows are never updated or deleted."""

    __tablename__ = "audit_events"
    # Each filter of the auditor console pages by position: (filter, position) indexes.
    __table_args__ = (
        Index("ix_audit_events_action_position", "action", "position"),
        Index("ix_audit_events_case_id_position", "case_id", "position"),
        # A case's exclusion entries, looked up at each reading (core.cases.exclusion_log).
        Index("ix_audit_events_case_id_action", "case_id", "action"),
        Index("ix_audit_events_reviewer_id_position", "reviewer_id", "position"),
    )

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_kind: Mapped[ActorKind] = mapped_column(str_enum(ActorKind, "actor_kind"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"))
    action: Mapped[str] = mapped_column(String(64))
    #: No foreign key: the log must outlive a case deleted at the end of its retention.
    case_id: Mapped[int | None] = mapped_column(RowId)
    #: Canonical JSON of non-content details (never report text, names or network data).
    detail: Mapped[str] = mapped_column(Text, default="{}")
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class PendingAuditEvent(Base):
    """A reporter's event waiting to enter the log (core.audit.log.sequence_reporter_events).

    Written in the transaction of the reporter's action, like any event, but without a
    position: appended at once, its place between staff events (which carry exact times)
    would date the action to the minute. The key is random and SQLite keeps no rowid, so the
    table numbers nothing in insertion order; the sequencer appends a whole ended day (or
    week) at a time, shuffled. (PostgreSQL's system column xmin still orders rows by
    transaction: SECURITY.md.)
    """

    __tablename__ = "audit_pending_events"
    __table_args__ = {"sqlite_with_rowid": False}

    token: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    #: The reporter's day (core.clock.Clock.submitter_day), never a time.
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(RowId)
    detail: Mapped[str] = mapped_column(Text, default="{}")


class AuditHead(Base):
    """The single row holding the log's size and head hash. Appenders lock it (SELECT ... FOR
    UPDATE) inside their transaction, which serialises appends across processes."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """A signed statement "the log had `size` entries with Merkle root `root` at `issued_at`"
    (core.audit.checkpoints). `note` is the whole signed note, as auditors receive it; a copy
    of each is also written to the data directory, out of a database writer's reach."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
