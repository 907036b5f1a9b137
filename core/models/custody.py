"""Requests that need a second person: identity reveals and admin changes (four eyes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, RowId, UTCDateTime, random_row_id, str_enum
from core.models.enums import ChangeKind, RequestStatus
from core.models.reviewer import Reviewer


class IdentityRequest(Base):
    """A case member asks to see a confidential reporter's identity. A custodian other than
    the requester approves (sealing the identity key to the requester) or refuses.

    The reason is encrypted under a key of its own, sealed to the requester and to each
    custodian (IdentityRequestSeal): custodians judge it without holding the case keys."""

    __tablename__ = "identity_requests"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=False,
                                    default=random_row_id)
    case_id: Mapped[int] = mapped_column(RowId, ForeignKey("cases.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"))
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus, "request_status"))
    reason_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when a custodian approves: a MAC under the instance account key over the request,
    #: its requester and approver (core.cases.identity_access.tag_approval). An approval a
    #: database writer set by SQL has none, and opens nothing.
    approval_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    #: Set when the request is made: a MAC over the request, its case and requester
    #: (core.cases.identity_access.tag_request). A request re-addressed by SQL is not approved.
    request_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))

    requester: Mapped[Reviewer] = relationship(foreign_keys=[requester_id])
    seals: Mapped[list[IdentityRequestSeal]] = relationship(cascade="all, delete-orphan")


class IdentityRequestSeal(Base):
    """The key of one request's reason, sealed to one reader (requester or custodian)."""

    __tablename__ = "identity_request_seals"

    request_id: Mapped[int] = mapped_column(RowId, ForeignKey("identity_requests.id"),
                                            primary_key=True, autoincrement=False)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), primary_key=True)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)


class StaffChange(Base):
    """An admin's change that waits for a second admin: a new case-handling account, a
    category's intake, the identity custodian role, or the name reporters see of a case
    handler. Holds no secret and no content."""

    __tablename__ = "staff_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ChangeKind] = mapped_column(str_enum(ChangeKind, "change_kind"))
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus, "request_status"),
                                                  index=True)
    #: The account concerned (ACCOUNT, CUSTODIAN, DISPLAY_NAME).
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"))
    #: The category concerned (INTAKE) and its proposed intake, as comma-separated ids.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    intake_ids: Mapped[str | None] = mapped_column(String(2000))
    #: INTAKE: the intake when the change was asked for (those are told too).
    previous_ids: Mapped[str | None] = mapped_column(String(2000))
    #: CUSTODIAN: give (True) or take away (False) the role.
    custodian: Mapped[bool | None] = mapped_column(Boolean)
    #: DISPLAY_NAME: the proposed display name (None: none, reporters see the username).
    display_name: Mapped[str | None] = mapped_column(String(120))
    requested_by: Mapped[int] = mapped_column(ForeignKey("reviewers.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("reviewers.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A MAC under the instance account key over everything above but the decider
    #: (core.staff.change_tags): a change written or edited by SQL is not applied.
    change_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))

    reviewer: Mapped[Reviewer | None] = relationship(foreign_keys=[reviewer_id])
    requester: Mapped[Reviewer] = relationship(foreign_keys=[requested_by])
