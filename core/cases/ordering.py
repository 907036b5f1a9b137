"""The order of a case's messages and files.

Their ids are random (core.models.base.random_row_id), so the order in which they were written
is kept as a position counted within the case: what the thread and the file lists need, and
nothing that places a row among other cases' rows. Two transactions adding to the same case
at the same moment may take the same position; such a tie is ordered by id, which only swaps
two simultaneous entries.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Attachment, CorrectiveAction, EvidenceEntry, Message

Ordered = type[Message] | type[Attachment] | type[EvidenceEntry] | type[CorrectiveAction]


def next_position(session: Session, model: Ordered, case_id: int) -> int:
    """The position for the next message (file, evidence entry, corrective action) of the
    case: 1 for its first. Evidence entries and actions are unique per position: their use
    cases lock the case first."""
    highest = session.scalar(select(func.max(model.position)).where(model.case_id == case_id))
    return (highest or 0) + 1
