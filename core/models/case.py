"""Cases and everything that hangs off them.

Only what staff need for routing, deadlines and statistics is stored in clear: status,
category, channel, disclosure kind, and dates at day precision. Everything the reporter wrote is
ciphertext under a per-case key, which is itself only stored sealed for each reader (grants).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, RowId, random_row_id, str_enum
from core.models.enums import (
    Author,
    CasePriority,
    CaseStatus,
    Channel,
    Disclosure,
    KeyKind,
    MemberRole,
    MessageKind,
    Recipient,
    Satisfaction,
    ScopeDecision,
)
from core.models.reviewer import Reviewer

#: Which reviewers receive new cases of a category (intake routing). `route_tag` is a MAC
#: under the instance account key (core.categories.intake_routes): a route a database writer
#: inserted has none, and new reports are not sealed to it.
category_intake = Table(
    "category_intake",
    Base.metadata,
    Column("category_id", ForeignKey("categories.id"), primary_key=True),
    Column("reviewer_id", ForeignKey("reviewers.id"), primary_key=True),
    Column("route_tag", LargeBinary(32), nullable=True),
)


class Category(Base):
    """An operator-defined kind of report, with names and descriptions in both languages."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    description_en: Mapped[str] = mapped_column(String(1000), default="")
    description_zh: Mapped[str] = mapped_column(String(1000), default="")
    #: The operator's keyword terms for the console's category suggestions, either language,
    #: stored as "term, term, ..." (core.categories.admin.checked_keywords); "" for none.
    keywords: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    intake_reviewers: Mapped[list[Reviewer]] = relationship(secondary=category_intake)


class Case(Base):
    """One report and its handling.

    Indexes for the inbox (core.cases.inbox): (received_on, id), (feedback_due, id) and
    (acknowledge_due, id) let a page sorted by those columns walk the index and stop after
    OFFSET + LIMIT visible rows; (status, acknowledge_due) and (status, feedback_due) find the
    cases still owing a deadline that is past or near without touching finished cases.
    (content_destroyed_on, closed_on) lets retention (core.cases.retention) find the finished
    cases whose content is due for destruction as one range of the index (NULL, <= day).
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_received_on_id", "received_on", "id"),
        Index("ix_cases_feedback_due_id", "feedback_due", "id"),
        Index("ix_cases_acknowledge_due_id", "acknowledge_due", "id"),
        Index("ix_cases_status_acknowledge_due", "status", "acknowledge_due"),
        Index("ix_cases_status_feedback_due", "status", "feedback_due"),
        Index("ix_cases_content_destroyed_on_closed_on", "content_destroyed_on", "closed_on"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False,
                                    default=random_row_id)
    #: Random staff-facing reference (not sequential: numbers would leak order and volume).
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    #: BLAKE2b(Argon2id(receipt), key=pepper): the only link from a receipt code to its case.
    lookup_id: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    disclosure: Mapped[Disclosure] = mapped_column(str_enum(Disclosure, "disclosure"))
    #: Day precision on purpose: an exact time could identify the reporter.
    received_on: Mapped[date] = mapped_column(Date)
    acknowledge_due: Mapped[date] = mapped_column(Date)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    feedback_due: Mapped[date] = mapped_column(Date)
    feedback_given_on: Mapped[date | None] = mapped_column(Date)
    #: The day the case entered a final stage (closed, referred, not admissible); None while
    #: it is open. Retention counts from it (core.cases.retention).
    closed_on: Mapped[date | None] = mapped_column(Date)
    #: A legal hold stops retention from destroying the case's content (core.cases.retention).
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The day retention destroyed the case's keys and ciphertexts (core.cases.shredding);
    #: None while the content exists. The clear columns stay, for statistics.
    content_destroyed_on: Mapped[date | None] = mapped_column(Date)
    #: Day of the reporter's latest message, for "new information" filters.
    submitter_active_on: Mapped[date | None] = mapped_column(Date)
    #: Set at triage; in clear so that the inbox can filter and sort on it.
    priority: Mapped[CasePriority] = mapped_column(str_enum(CasePriority, "case_priority"),
                                                   default=CasePriority.NORMAL)
    #: The acceptance decision (None until made), in clear for statistics.
    scope_decision: Mapped[ScopeDecision | None] = mapped_column(
        str_enum(ScopeDecision, "scope_decision"))
    #: The reporter's latest answer to the outcome (None: not given).
    satisfaction: Mapped[Satisfaction | None] = mapped_column(
        str_enum(Satisfaction, "satisfaction"))
    #: The reporter is not satisfied and asked for a review the team has not answered yet.
    review_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The earliest due date of the case's corrective actions not done (None: none open),
    #: kept in step by core.cases.actions so that the inbox can find due actions.
    actions_due: Mapped[date | None] = mapped_column(Date)
    #: The report (JSON) encrypted under the case key.
    report_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    #: The reporter's identity (JSON) under the identity key; confidential reports only.
    identity_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The key epoch new content is encrypted in (core.cases.epochs): 1 at submission, one
    #: more each time a member leaves the team. Older records keep the keys of their epoch.
    key_epoch: Mapped[int] = mapped_column(Integer, default=1)
    #: The reporter's X25519 public key, so that a new epoch's case key can be sealed to them
    #: while they are away; its private half is wrapped under the receipt key. None for
    #: reports from before key epochs (their case key does not rotate; SECURITY.md).
    reporter_public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    #: MAC of (case reference, reporter public key) under the instance account key.
    reporter_key_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    #: MAC of the case's lead (core.cases.lead_tags): a lead made, or removed, by SQL leads
    #: nothing.
    lead_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    reporter_wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)

    category: Mapped[Category | None] = relationship()
    grants: Mapped[list[CaseGrant]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    members: Mapped[list[CaseMember]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="case", cascade="all, delete-orphan",
        order_by=lambda: [Message.position, Message.id]
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan",
        order_by=lambda: [Attachment.position, Attachment.id]
    )
    reporter_exclusions: Mapped[list[ReporterExclusion]] = relationship(
        cascade="all, delete-orphan"
    )


class ReporterExclusion(Base):
    """A handler the reporter chose, on the form, not to receive the report. Stored as a
    keyed hash of (case, account) under the instance account key: the team and the database
    see how many were excluded, not who; the use cases can still refuse to grant them."""

    __tablename__ = "reporter_exclusions"

    case_id: Mapped[int] = mapped_column(RowId, ForeignKey("cases.id"), primary_key=True,
                                         autoincrement=False)
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)


class CaseGrant(Base):
    """One per-case key of one epoch sealed for one reader: a reviewer (SealedBox to their
    public key), the recovery key (SealedBox), or the submitter (epoch 1: SecretBox under the
    receipt key; later epochs: SealedBox to the reporter's public key)."""

    __tablename__ = "case_grants"
    __table_args__ = (
        UniqueConstraint("case_id", "epoch", "key_kind", "recipient", "reviewer_id"),
        Index("ix_case_grants_reviewer_kind", "reviewer_id", "key_kind"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False,
                                    default=random_row_id)
    case_id: Mapped[int] = mapped_column(RowId, ForeignKey("cases.id"), index=True)
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    key_kind: Mapped[KeyKind] = mapped_column(str_enum(KeyKind, "key_kind"))
    recipient: Mapped[Recipient] = mapped_column(str_enum(Recipient, "recipient"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"))
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)

    case: Mapped[Case] = relationship(back_populates="grants")
    reviewer: Mapped[Reviewer | None] = relationship()


class CaseMember(Base):
    """A reviewer's place on a case team. An excluded member (conflict of interest) holds no
    grant, and the use cases refuse to grant them one.

    The primary key (case_id, reviewer_id) answers "is this reviewer on this case?".

    Inbox keys. `status`, `category_id`, `received_on`, `acknowledge_due` and `feedback_due`
    are copies of the case's columns (the clear columns the inbox filters and sorts on), so
    that every inbox query reads only the reviewer's own index entries (core.cases.inbox):
    each index below leads with (reviewer_id, excluded), then the filter column, then the sort
    column and case_id, so a page is one contiguous range of it. The copies are written when
    the membership is created (`for_case`) and whenever the case's stage or dates change
    (core.cases.inbox_counts.sync_member_keys, in the same transaction, under the case row lock);
    they are NOT NULL without defaults so that a membership cannot be created without them,
    and core.cases.inbox_counts.rebuild_inbox_counts repairs them after writes that bypass the use
    cases.
    """

    __tablename__ = "case_members"
    __table_args__ = (
        # Also "the reviewer's visible cases" (core.cases.recovery) and "Assigned to me".
        Index("ix_case_members_reviewer_role", "reviewer_id", "excluded", "role", "received_on",
              "case_id"),
        Index("ix_case_members_reviewer_received", "reviewer_id", "excluded", "received_on",
              "case_id"),
        Index("ix_case_members_reviewer_feedback", "reviewer_id", "excluded", "feedback_due",
              "case_id"),
        Index("ix_case_members_reviewer_acknowledge", "reviewer_id", "excluded",
              "acknowledge_due", "case_id"),
        Index("ix_case_members_reviewer_status_received", "reviewer_id", "excluded", "status",
              "received_on", "case_id"),
        # Also the deadline counts: (status, date) ranges of the stages that owe a deadline.
        Index("ix_case_members_reviewer_status_feedback", "reviewer_id", "excluded", "status",
              "feedback_due", "case_id"),
        Index("ix_case_members_reviewer_status_acknowledge", "reviewer_id", "excluded",
              "status", "acknowledge_due", "case_id"),
        Index("ix_case_members_reviewer_category_received", "reviewer_id", "excluded",
              "category_id", "received_on", "case_id"),
        Index("ix_case_members_reviewer_priority_received", "reviewer_id", "excluded",
              "priority", "received_on", "case_id"),
        Index("ix_case_members_reviewer_review_received", "reviewer_id", "excluded",
              "review_requested", "received_on", "case_id"),
        Index("ix_case_members_reviewer_actions_due", "reviewer_id", "excluded",
              "actions_due", "case_id"),
    )

    case_id: Mapped[int] = mapped_column(RowId, ForeignKey("cases.id"), primary_key=True,
                                         autoincrement=False)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), primary_key=True)
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole, "member_role"))
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    #: MAC of (case, account, excluded) under the instance account key
    #: (core.cases.membership_tags): a new key epoch is sealed only to memberships Candor wrote.
    member_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # Inbox keys: copies of the case's columns (see the class docstring).
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"))
    category_id: Mapped[int | None] = mapped_column(Integer)
    received_on: Mapped[date] = mapped_column(Date)
    acknowledge_due: Mapped[date] = mapped_column(Date)
    feedback_due: Mapped[date] = mapped_column(Date)
    priority: Mapped[CasePriority] = mapped_column(str_enum(CasePriority, "case_priority"))
    review_requested: Mapped[bool] = mapped_column(Boolean)
    actions_due: Mapped[date | None] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="members")
    reviewer: Mapped[Reviewer] = relationship()

    @classmethod
    def for_case(cls, case: Case, *, reviewer_id: int, role: MemberRole,
                 excluded: bool = False) -> CaseMember:
        """A new membership of `case` carrying the case's inbox keys (not yet attached: append
        it to `case.members` or set `case_id`)."""
        return cls(reviewer_id=reviewer_id, role=role, excluded=excluded,
                   **member_inbox_keys(case))


def member_inbox_keys(case: Case) -> dict[str, object]:
    """The values of a case that its memberships copy (CaseMember's inbox keys)."""
    return {"status": case.status, "category_id": case.category_id,
            "received_on": case.received_on, "acknowledge_due": case.acknowledge_due,
            "feedback_due": case.feedback_due,
            "priority": case.priority if case.priority is not None else CasePriority.NORMAL,
            "review_requested": bool(case.review_requested),
            "actions_due": case.actions_due}


class InboxCount(Base):
    """How many cases one reviewer sees with one (assigned, status, category) combination: the
    inbox's filter counts without scanning the reviewer's cases (core.cases.inbox_counts).

    Derived data, maintained in the same transaction as every change that moves a case in or
    out of a cell (new membership, exclusion, change of stage or category) and rebuildable at
    any time with core.cases.inbox_counts.rebuild_inbox_counts. `assigned` is true for LEAD and
    INVESTIGATOR memberships (explicitly on the team), false for INTAKE (routed by category).
    `category_id` is 0 for a case without a category, so that the primary key never holds a
    NULL (a NULL would defeat the uniqueness that concurrent inserts rely on); it therefore
    carries no foreign key.
    """

    __tablename__ = "inbox_counts"

    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), primary_key=True)
    assigned: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"),
                                               primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    """A message in a case thread. Internal notes are under the team key, the rest under the
    case key. Messages carry only a day; the exact time of staff messages is in the audit
    log, which reporters' messages also reach only at day precision."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False,
                                    default=random_row_id)
    case_id: Mapped[int] = mapped_column(RowId, ForeignKey("cases.id"), index=True)
    #: Order in the case's thread (the id is random): 1, 2, ... (core.cases.ordering).
    position: Mapped[int] = mapped_column(Integer)
    author: Mapped[Author] = mapped_column(str_enum(Author, "author"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"))
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind, "message_kind"))
    key_kind: Mapped[KeyKind] = mapped_column(str_enum(KeyKind, "key_kind"))
    #: The epoch of the key the body is under (core.cases.epochs).
    key_epoch: Mapped[int] = mapped_column(Integer, default=1)
    #: How the ciphertext is bound to its place (core.cases.contexts): 2 binds the row id,
    #: author and epoch; 1 (rows from before migration 0009) only the case and kind.
    binding: Mapped[int] = mapped_column(SmallInteger, default=2)
    body_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[date] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="messages")
    reviewer: Mapped[Reviewer | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by=lambda: [Attachment.position, Attachment.id]
    )


class Attachment(Base):
    """An encrypted file in the blob store. Its name, type and size are a record under the
    case or team key; its content a secretstream under its own file key."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False,
                                    default=random_row_id)
    case_id: Mapped[int] = mapped_column(RowId, ForeignKey("cases.id"), index=True)
    #: Order among the case's files (the id is random): 1, 2, ... (core.cases.ordering).
    position: Mapped[int] = mapped_column(Integer)
    #: None: part of the original report (or of an evidence entry).
    message_id: Mapped[int | None] = mapped_column(RowId, ForeignKey("messages.id"),
                                                   index=True)
    #: The evidence log entry the file belongs to (core.cases.evidence), if any.
    evidence_id: Mapped[int | None] = mapped_column(RowId, ForeignKey("evidence_entries.id"),
                                                    index=True)
    key_kind: Mapped[KeyKind] = mapped_column(str_enum(KeyKind, "key_kind"))
    key_epoch: Mapped[int] = mapped_column(Integer, default=1)
    #: As Message.binding: 2 binds the row id, its message (or the report), author and epoch.
    binding: Mapped[int] = mapped_column(SmallInteger, default=2)
    #: Random id of the blob: never derived from the content or the file name.
    blob_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: The file key, wrapped under the case or team key.
    wrapped_file_key: Mapped[bytes] = mapped_column(LargeBinary)
    #: JSON {name, content_type, size} encrypted under the case or team key.
    meta_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    stored_size: Mapped[int] = mapped_column(BigInteger)
    #: The secretstream format of the blob (crypto.stream.CHUNK_SIZES), needed to decrypt it.
    stream_version: Mapped[int] = mapped_column(SmallInteger)
    created_on: Mapped[date] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="attachments")
    message: Mapped[Message | None] = relationship(back_populates="attachments")
