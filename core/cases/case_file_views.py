"""The read model of a case file export (core.cases.case_file): the case's clear facts, its
decrypted records and the files to go with them. In memory only, for one request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from core.cases.casework_reading import CaseworkView
from core.cases.content import FileMeta, Identity
from core.cases.views import CaseView
from core.models import (
    CasePriority,
    CaseStatus,
    Channel,
    Disclosure,
    MemberRole,
    Satisfaction,
    ScopeDecision,
)


@dataclass(frozen=True)
class CategoryNames:
    """A category's code and names (what reviewer.labels.category_name reads)."""

    code: str
    name_en: str
    name_zh: str


@dataclass(frozen=True)
class TeamPlace:
    """One place on the case team, as the case page lists it."""

    username: str
    role: MemberRole
    excluded: bool


@dataclass(frozen=True)
class CaseFacts:
    """The case's clear columns, at day precision (as stored), and its team."""

    reference: str
    status: CaseStatus
    category: CategoryNames | None
    channel: Channel
    disclosure: Disclosure
    priority: CasePriority
    scope_decision: ScopeDecision | None
    satisfaction: Satisfaction | None
    review_requested: bool
    received_on: date
    acknowledge_due: date
    acknowledged_on: date | None
    feedback_due: date
    feedback_given_on: date | None
    closed_on: date | None
    team: tuple[TeamPlace, ...]

    @property
    def lead(self) -> str | None:
        """The case lead's username, if there is one."""
        return next((p.username for p in self.team
                     if p.role is MemberRole.LEAD and not p.excluded), None)


@dataclass(frozen=True)
class ExportFile:
    """An attachment that goes into the export, with what it takes to decrypt its blob
    later, without the database (core.cases.files.blob_plaintext)."""

    #: 1, 2, ... in the order the case file lists them: the report's, the thread's, the
    #: evidence log's.
    number: int
    attachment_id: int
    meta: FileMeta
    blob_id: str
    stream_version: int
    file_key: bytes = field(repr=False)


@dataclass(frozen=True)
class CaseFile:
    """Everything of one case that one member of its team may read, decrypted."""

    facts: CaseFacts
    view: CaseView
    casework: CaseworkView
    #: The reporter's identity: only for a member a custodian approved it for.
    identity: Identity | None
    files: tuple[ExportFile, ...]
    exported_by: str
    exported_on: date

    @property
    def identity_withheld(self) -> bool:
        """A confidential report whose identity this export does not carry."""
        return self.facts.disclosure is Disclosure.CONFIDENTIAL and self.identity is None

    def number_of(self, attachment_id: int) -> int | None:
        """The number of an attachment in the export (None: not included)."""
        return next((f.number for f in self.files if f.attachment_id == attachment_id), None)
