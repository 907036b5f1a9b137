"""Candor's SQLAlchemy models. Models hold data; behaviour lives in the domain packages
(`core.intake`, `core.cases`, `core.staff`, ...)."""

from core.models.audit import AuditCheckpoint, AuditEvent, AuditHead, PendingAuditEvent
from core.models.base import Base
from core.models.case import (
    Attachment,
    Case,
    CaseGrant,
    CaseMember,
    Category,
    InboxCount,
    Message,
    ReporterExclusion,
    category_intake,
)
from core.models.casework import ActionUpdate, CorrectiveAction, Decision, EvidenceEntry
from core.models.custody import IdentityRequest, IdentityRequestSeal, StaffChange
from core.models.enums import (
    ActionStatus,
    ActorKind,
    Author,
    CasePriority,
    CaseStatus,
    ChangeKind,
    Channel,
    Disclosure,
    EvidenceKind,
    Finding,
    KeyKind,
    MemberRole,
    MessageKind,
    Recipient,
    RecognitionType,
    RequestStatus,
    Role,
    RootCause,
    SanctionType,
    Satisfaction,
    ScopeDecision,
)
from core.models.examples import CategoryExample
from core.models.reviewer import Reviewer, ReviewerSession
from core.models.runtime import (
    PendingNotification,
    SubmissionToken,
    SubmitterSession,
    ThrottleBucket,
)
from core.models.statistics import StatisticsCell, StatisticsMonth

__all__ = [
    "ActionStatus", "ActionUpdate", "CasePriority", "CorrectiveAction", "Decision",
    "EvidenceEntry", "EvidenceKind", "Finding", "RecognitionType", "RootCause",
    "SanctionType", "Satisfaction", "ScopeDecision",
    "ActorKind", "Attachment", "ChangeKind", "IdentityRequest", "IdentityRequestSeal",
    "ReporterExclusion", "RequestStatus", "StaffChange", "SubmissionToken", "AuditCheckpoint",
    "AuditEvent",
    "AuditHead", "Author", "Base",
    "Case", "CaseGrant", "CaseMember", "CaseStatus", "Category", "CategoryExample", "Channel",
    "Disclosure",
    "InboxCount", "KeyKind", "MemberRole", "Message", "MessageKind", "PendingAuditEvent",
    "PendingNotification",
    "Recipient", "Reviewer",
    "ReviewerSession", "Role", "StatisticsCell", "StatisticsMonth", "SubmitterSession",
    "ThrottleBucket", "category_intake",
]
