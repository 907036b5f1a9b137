"""What the inbox is asked and what it answers: its filters, sort orders, rows and pages
(clear columns only). The queries are in core.cases.inbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from core.models import CasePriority, CaseStatus

PER_PAGE = 50
MAX_PAGE = 100_000


class Due(StrEnum):
    """Deadline filters."""

    OVERDUE = "overdue"
    SOON = "soon"


class Sort(StrEnum):
    """Sort orders offered in the inbox."""

    NEWEST = "newest"
    OLDEST = "oldest"
    FEEDBACK_DUE = "feedback_due"
    ACKNOWLEDGE_DUE = "acknowledge_due"
    REFERENCE = "reference"
    ACTIVITY = "activity"
    PRIORITY = "priority"


@dataclass(frozen=True)
class InboxFilter:
    """What the reviewer asked to see."""

    status: CaseStatus | None = None
    category_id: int | None = None
    due: Due | None = None
    #: Only cases where the reviewer has an assigned role (not merely INTAKE).
    assigned_to_me: bool = False
    priority: CasePriority | None = None
    #: Only the cases the reviewer leads.
    leading: bool = False
    #: Only cases whose reporter is not satisfied and waits for a review.
    not_satisfied: bool = False
    #: Only cases with corrective actions overdue or due within DUE_SOON_DAYS.
    actions_due: bool = False
    sort: Sort = Sort.NEWEST
    page: int = 1
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox (clear columns only)."""

    id: int
    reference: str
    status: CaseStatus
    category_code: str | None
    received_on: date
    acknowledge_due: date
    feedback_due: date
    submitter_active_on: date | None
    overdue: bool
    due_soon: bool
    priority: CasePriority = CasePriority.NORMAL
    review_requested: bool = False
    #: Earliest due date of the case's open corrective actions.
    actions_due: date | None = None


@dataclass(frozen=True)
class InboxPage:
    """A page of rows with the counts the filter menu shows."""

    rows: list[InboxRow]
    total: int
    page: int
    per_page: int
    by_status: dict[CaseStatus, int] = field(default_factory=dict)
    by_category: dict[int, int] = field(default_factory=dict)
    by_due: dict[Due, int] = field(default_factory=dict)
    #: Cases matching the filters other than the deadline filter.
    all_visible: int = 0
    #: The lead's username of each case on the page that has one.
    leads: dict[int, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))
