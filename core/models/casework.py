"""The records of a case's handling: the evidence log, decisions and corrective actions.

Their content (notes, interview summaries, responsibility, sanction details, action titles)
is encrypted under the case's team key of the epoch it was written in, bound to its row
(core.cases.contexts). Only what statistics, deadlines and reminders need is in clear: kinds,
findings, root causes, sanction and recognition types, owners, due dates and statuses, and
dates at day precision. Evidence entries and decision versions are never updated: a
correction is a new row pointing at the one it corrects.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, RowId, random_row_id, str_enum
from core.models.enums import ActionStatus, EvidenceKind, Finding, RootCause
from core.models.reviewer import Reviewer


class EncryptedRecord:
    """Columns every encrypted casework record has: its case, author, day, key epoch and
    ciphertext (JSON under the case's team key)."""

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False,
                                    default=random_row_id)
    case_id: Mapped[int] = mapped_column(RowId, ForeignKey("cases.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"))
    created_on: Mapped[date] = mapped_column(Date)
    key_epoch: Mapped[int] = mapped_column(Integer)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class EvidenceEntry(EncryptedRecord, Base):
    """One entry of a case's evidence log: a note, a file, or an interview record (who was
    interviewed and a summary). Immutable; `corrects_id` points at the entry it corrects."""

    __tablename__ = "evidence_entries"
    __table_args__ = (UniqueConstraint("case_id", "position"),)

    #: Order in the case's log: 1, 2, ... (core.cases.ordering).
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, "evidence_kind"))
    corrects_id: Mapped[int | None] = mapped_column(RowId, ForeignKey("evidence_entries.id"))

    reviewer: Mapped[Reviewer] = relationship()


class Decision(EncryptedRecord, Base):
    """One version of a case's decision. Version 1 is the decision; an amendment is version
    2, 3, ... and keeps the earlier ones. The finding, root cause and the types of sanction
    and recognition are in clear for statistics; responsibility, reasons and details are in
    the ciphertext."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    version: Mapped[int] = mapped_column(Integer)
    finding: Mapped[Finding] = mapped_column(str_enum(Finding, "finding"))
    root_cause: Mapped[RootCause | None] = mapped_column(str_enum(RootCause, "root_cause"))
    #: Comma-separated SanctionType values ("" for none).
    sanction_types: Mapped[str] = mapped_column(String(200), default="")
    #: Comma-separated RecognitionType values ("" for none).
    recognition_types: Mapped[str] = mapped_column(String(200), default="")

    reviewer: Mapped[Reviewer] = relationship()


class CorrectiveAction(EncryptedRecord, Base):
    """A remediation measure with an owner (a member of the case team, who is reminded) and
    a due date. Title and notes are encrypted; status and dates are in clear."""

    __tablename__ = "corrective_actions"
    __table_args__ = (UniqueConstraint("case_id", "position"),)

    position: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus, "action_status"))
    done_on: Mapped[date | None] = mapped_column(Date)

    owner: Mapped[Reviewer] = relationship(foreign_keys=[owner_id])
    updates: Mapped[list[ActionUpdate]] = relationship(
        back_populates="action", order_by=lambda: [ActionUpdate.position],
        cascade="all, delete-orphan")


class ActionUpdate(EncryptedRecord, Base):
    """A follow-up note on a corrective action, with the status it set (immutable)."""

    __tablename__ = "action_updates"
    __table_args__ = (UniqueConstraint("action_id", "position"),)

    action_id: Mapped[int] = mapped_column(RowId, ForeignKey("corrective_actions.id"),
                                           index=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus, "action_status"))

    action: Mapped[CorrectiveAction] = relationship(back_populates="updates")
