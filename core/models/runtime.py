"""Operational state: throttling counters, sent report forms and reporters' follow-up
sessions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base


class ThrottleBucket(Base):
    """A fixed-window counter shared by every app process (global budgets, never per IP)."""

    __tablename__ = "throttle_buckets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Keyed hash of the window's number (core.operations.throttle): no time of the latest event.
    window_tag: Mapped[bytes] = mapped_column(LargeBinary(16))
    count: Mapped[int] = mapped_column(Integer, default=0)


class SubmissionToken(Base):
    """A report form that was sent: the SHA-256 of its one-time token
    (core.intake.submission_tokens), so that sending the same form again creates no second
    case. Deliberately unlinked: no case, no time, and no order: the key is the hash itself,
    and SQLite keeps no rowid (which would number the forms in the order they were sent), as
    for audit_pending_events."""

    __tablename__ = "submission_tokens"
    __table_args__ = {"sqlite_with_rowid": False}

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)


class SubmitterSession(Base):
    """A reporter's follow-up session after a receipt login.

    The case key and the idle and absolute deadlines are sealed under a secret that only the
    reporter's cookie holds; the row itself shows nothing but the reporter's day (or week) of
    the login (for clean-up), so the database records no precise time of a reporter's visit.
    """

    __tablename__ = "submitter_sessions"

    #: SHA-256 of the session id from the cookie.
    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    sealed_state: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[date] = mapped_column(Date, index=True)


class PendingNotification(Base):
    """"This staff member has new activity to hear about": no time, no case, no event kind.

    Queued in the transaction that creates the activity and sent later, in a batch, by
    `candor notify`, so the time of an email never tells when a reporter acted.
    """

    __tablename__ = "pending_notifications"

    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), primary_key=True)
