"""An existing account's email address (for notifications) and display name (what reporters
see of a case handler): change them, and count who can be mailed at all.

Checked as at account creation (core.staff.accounts.checked_email, clean_display_name). The
audit event says which fields changed and whether they were set or removed, never the values:
account creation does not log them either, and the log is read by auditors who need not know
a colleague's private address.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.errors import Conflict
from core.models import Reviewer, Role
from core.services import Services
from core.staff.accounts import (
    check_shown_name_free,
    checked_email,
    clean_display_name,
    get_reviewer,
)


class Keep(Enum):
    """The type of KEEP: a field the caller leaves as it is (None means "remove")."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


def _change(old: str | None, new: str | None) -> str:
    """The audit detail's word for a field's change (no value)."""
    if old == new:
        return "unchanged"
    return "removed" if new is None else "set"


def edit_account(session: Session, services: Services, username: str, *,
                 email: str | None | Keep = KEEP, display_name: str | None | Keep = KEEP,
                 actor: Actor | None = None) -> Reviewer:
    """Set (a string) or remove (None) the account's email address and/or display name; KEEP
    leaves a field alone. Audited in the caller's transaction. InvalidInput for a malformed
    value, Conflict when nothing would change (as the other account changes answer)."""
    # Checked before the row is read: a bad value costs no lock.
    new_email = email if email is KEEP else checked_email(email)
    new_name = display_name if display_name is KEEP else clean_display_name(display_name)
    reviewer = get_reviewer(session, username)
    # Reloaded and locked, as reset_passphrase does: two edits at once end one after the
    # other, and "unchanged" below is judged on the row as committed.
    session.refresh(reviewer, with_for_update={"key_share": True})
    detail = {
        "email": "unchanged" if new_email is KEEP else _change(reviewer.email, new_email),
        "display_name": ("unchanged" if new_name is KEEP
                         else _change(reviewer.display_name, new_name)),
    }
    if set(detail.values()) == {"unchanged"}:
        raise Conflict(f"nothing to change for {reviewer.username!r}")
    if new_name is not KEEP:
        check_shown_name_free(session, new_name or reviewer.username, reviewer_id=reviewer.id)
    if new_email is not KEEP:
        reviewer.email = new_email
    if new_name is not KEEP:
        reviewer.display_name = new_name
    record_event(session, services.clock, AuditAction.REVIEWER_EDITED, actor or Actor.system(),
                 detail={"reviewer_id": reviewer.id, **detail})
    return reviewer


@dataclass(frozen=True)
class MailReach:
    """Active accounts of some roles, with and without an email address."""

    with_email: int
    without_email: int


def mail_reach(session: Session, roles: frozenset[Role]) -> MailReach:
    """How many active accounts of `roles` can be mailed (counts only, no address)."""
    has_email = case((Reviewer.email.is_not(None), 1), else_=0)
    with_email, total = session.execute(
        select(func.coalesce(func.sum(has_email), 0), func.count())
        .where(Reviewer.active.is_(True), Reviewer.role.in_(roles))).one()
    return MailReach(with_email=int(with_email), without_email=int(total) - int(with_email))
