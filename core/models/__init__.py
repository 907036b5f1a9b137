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
from core.models.custody import IdentityRequest, IdentityRequestSeal, StaffChange
from core.models.enums import (
    ActorKind,
    Author,
    CaseStatus,
    ChangeKind,
    Channel,
    Disclosure,
    KeyKind,
    MemberRole,
    MessageKind,
    Recipient,
    RequestStatus,
    Role,
)
from core.models.reviewer import Reviewer, ReviewerSession
from core.models.runtime import PendingNotification, SubmitterSession, ThrottleBucket

__all__ = [
    "ActorKind", "Attachment", "ChangeKind", "IdentityRequest", "IdentityRequestSeal",
    "ReporterExclusion", "RequestStatus", "StaffChange", "AuditCheckpoint", "AuditEvent",
    "AuditHead", "Author", "Base",
    "Case", "CaseGrant", "CaseMember", "CaseStatus", "Category", "Channel", "Disclosure",
    "InboxCount", "KeyKind", "MemberRole", "Message", "MessageKind", "PendingAuditEvent",
    "PendingNotification",
    "Recipient", "Reviewer",
    "ReviewerSession", "Role", "SubmitterSession", "ThrottleBucket", "category_intake",
]
