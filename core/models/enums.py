"""The vocabulary of the domain (see docs/GLOSSARY.md for UI terms)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a staff account may do. Admins manage; they get no automatic access to cases."""

    ADMIN = "admin"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"


class CaseStatus(StrEnum):
    """Stages of a case (docs/PROCESS.md: raise, accept, investigate, decide, feed back,
    archive)."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    REFERRED = "referred"
    NOT_ADMISSIBLE = "not_admissible"
    INFO_NEEDED = "info_needed"
    UNDER_INVESTIGATION = "under_investigation"
    DECIDED = "decided"
    FEEDBACK_GIVEN = "feedback_given"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


#: Stages in which a case no longer waits for staff.
FINAL_STATUSES = frozenset({CaseStatus.REFERRED, CaseStatus.NOT_ADMISSIBLE, CaseStatus.CLOSED})


class Channel(StrEnum):
    """How a report reached the organisation."""

    WEB = "web"
    HOTLINE = "hotline"
    LETTER_BOX = "letter_box"
    IN_PERSON = "in_person"
    MAILBOX = "mailbox"  # the complaint mailbox (email)


class Disclosure(StrEnum):
    """Whether the reporter stayed anonymous or gave a sealed identity."""

    ANONYMOUS = "anonymous"
    CONFIDENTIAL = "confidential"


class KeyKind(StrEnum):
    """Which per-case key a grant or a ciphertext belongs to (docs/CRYPTO.md, "Keys")."""

    CASE = "case"          # report, messages with the reporter, their attachments
    TEAM = "team"          # internal notes, evidence, decisions: never the submitter's
    IDENTITY = "identity"  # the reporter's identity in a confidential report


class Recipient(StrEnum):
    """Who a grant seals a case key for."""

    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    RECOVERY = "recovery"


class MemberRole(StrEnum):
    """A reviewer's part in one case team (seed: a technical lead, an HR representative and a
    legal adviser). INTAKE: routed by category, not yet put on the team; every other role is
    "assigned". INVESTIGATOR is the "other" role."""

    INTAKE = "intake"
    LEAD = "lead"
    INVESTIGATOR = "investigator"
    TECHNICAL = "technical"
    HR = "hr"
    LEGAL = "legal"


#: Roles of members explicitly put on a case team (not merely routed to it).
ASSIGNED_ROLES = (MemberRole.LEAD, MemberRole.INVESTIGATOR, MemberRole.TECHNICAL,
                  MemberRole.HR, MemberRole.LEGAL)


class CasePriority(StrEnum):
    """How urgently a case is handled, set at triage (in clear: the inbox sorts on it)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


#: Priorities from the most to the least urgent (the inbox's sort order).
PRIORITY_ORDER = (CasePriority.URGENT, CasePriority.HIGH, CasePriority.NORMAL, CasePriority.LOW)


class ScopeDecision(StrEnum):
    """The outcome of acceptance (受理): in clear, for statistics."""

    ACCEPTED = "accepted"
    REFERRED = "referred"
    NOT_ADMISSIBLE = "not_admissible"


class Satisfaction(StrEnum):
    """The reporter's answer to the outcome."""

    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"


class Finding(StrEnum):
    """What the investigation established."""

    SUBSTANTIATED = "substantiated"
    PARTLY_SUBSTANTIATED = "partly_substantiated"
    NOT_SUBSTANTIATED = "not_substantiated"
    UNDETERMINED = "undetermined"


class RootCause(StrEnum):
    """Why it happened (seed: a management gap, a technical defect, human error)."""

    MANAGEMENT_GAP = "management_gap"
    TECHNICAL_DEFECT = "technical_defect"
    PROCESS_GAP = "process_gap"
    HUMAN_ERROR = "human_error"
    OTHER = "other"


class SanctionType(StrEnum):
    """Kinds of sanction a decision records (the details are encrypted)."""

    WARNING = "warning"
    DISCIPLINARY = "disciplinary"
    TRAINING = "training"
    OTHER = "other"


class RecognitionType(StrEnum):
    """Kinds of recognition a decision records (the details are encrypted)."""

    THANKS = "thanks"
    COMMENDATION = "commendation"
    REWARD = "reward"


class ActionStatus(StrEnum):
    """Where a corrective action stands ("overdue" is derived from the due date)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class EvidenceKind(StrEnum):
    """What an evidence log entry holds."""

    NOTE = "note"
    FILE = "file"
    INTERVIEW = "interview"


class Author(StrEnum):
    """Who wrote a message."""

    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    SYSTEM = "system"


class MessageKind(StrEnum):
    """What a message is for. Which key encrypts each kind, whether the reporter sees it and
    which stage it moves the case to: core.cases.kinds, the one table of those rules."""

    REPORTER_MESSAGE = "reporter_message"            # the reporter writes or adds information
    CLARIFICATION_REQUEST = "clarification_request"  # staff ask the reporter for information
    INFORMATION = "information"                      # staff tell the reporter something
    FEEDBACK = "feedback"                            # outcome and reasons
    INTERNAL_NOTE = "internal_note"                  # case team only


class ActorKind(StrEnum):
    """Who did what an audit event records."""

    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    SYSTEM = "system"


class RequestStatus(StrEnum):
    """Where a request that needs a second person's approval stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ChangeKind(StrEnum):
    """Admin changes that take effect only when a second admin approves (four eyes)."""

    ACCOUNT = "account"        # a new case-handling account
    INTAKE = "intake"          # who receives a category's new reports
    CUSTODIAN = "custodian"    # give or take away the identity custodian role
    DISPLAY_NAME = "display_name"  # the name reporters see of a case handler
    RESET = "reset"            # a case handler's account again, after a console reset
