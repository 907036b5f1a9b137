"""Staff accounts and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UTCDateTime, str_enum
from core.models.enums import Role


class Reviewer(Base):
    """A staff account: reviewer, admin or auditor. Never deleted, only deactivated, so the
    audit log can always name who did what."""

    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(8))
    #: argon2-cffi PasswordHasher string (verifies the passphrase at login).
    passphrase_hash: Mapped[str] = mapped_column(String(255))
    must_change_passphrase: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Shown to reporters as a handler their report reaches (core.staff.readers); the
    #: username (a login factor) is never shown outside the console.
    display_name: Mapped[str | None] = mapped_column(String(120))
    #: X25519 public key: anyone may seal a case key for this reviewer. None until the owner
    #: completes enrolment with a passphrase of their own (core.staff.enrolment): a key pair
    #: made under a passphrase an admin saw would let that admin read what is sealed to it.
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    #: MAC of (account id, public key) under the instance account key (crypto.key_tags):
    #: nothing is sealed to a public key whose tag does not verify.
    public_key_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    #: MAC of the account's standing (role, active, approved, identity custodian, TOTP
    #: enrolled, passphrase hash) under the instance account key (core.staff.keys): an
    #: account whose standing fails it logs in to nothing and has nothing sealed to it.
    standing_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    #: X25519 private key under Argon2id(passphrase) (crypto.reviewer_keys); None until
    #: enrolment.
    wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: A case-handling account created in the console takes effect only once a second admin
    #: approves it (core.staff.approvals): until then it receives no grant and no routing.
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Identity custodians receive the identity keys of confidential reports and approve
    #: reveal requests (core.cases.identity_requests); an admin gives the role, with four eyes.
    identity_custodian: Mapped[bool] = mapped_column(Boolean, default=False)
    #: TOTP secret encrypted under the instance totp_key, bound to this account's id
    #: (core.staff.accounts.totp_secret); None until enrolment.
    totp_secret_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: True once the reviewer proved, with a code, that their authenticator app holds the secret.
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sessions: Mapped[list[ReviewerSession]] = relationship(
        back_populates="reviewer", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Reviewer {self.id} {self.username!r} {self.role}>"


class ReviewerSession(Base):
    """A logged-in reviewer. The private key is stored here sealed under a secret that only
    the reviewer's cookie holds: the row alone, or the cookie alone, opens nothing."""

    __tablename__ = "reviewer_sessions"

    #: SHA-256 of the session id from the cookie (the id itself is not stored).
    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), index=True)
    #: None while the account has no key pair yet (enrolment not completed).
    #: MAC of (account, id hash) under the instance account key: a row a database writer
    #: inserted is no session (core.staff.authentication.load_session).
    session_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    sealed_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Last time the passphrase was re-entered (for sensitive actions).
    reauthenticated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    reviewer: Mapped[Reviewer] = relationship(back_populates="sessions")
