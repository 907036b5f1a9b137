"""Admin changes waiting for a second admin, as Candor wrote them: a tag, under the instance
account key, over everything a change says (kind, account, category, proposed and previous
intake, custodian flag, display name, requester and time) and its status.

The second admin approves what the approvals page shows. Without the tag, a database writer
could add their own account to a colleague's pending routing change, or file a change in an
admin's name (second reader: the approver applied it and `set_intake` tagged the planted
route). A change whose tag fails is not applied: approving it closes it as refused, and the
approvals page says why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.keyring import Keyring
from core.models import StaffChange
from crypto.key_tags import key_tag, tag_matches


def _owner(change: StaffChange) -> str:
    return f"staff-change:{change.id}"


def _second(moment: datetime | None) -> int | None:
    """The time to the second, the same however the database returns it."""
    if moment is None:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _facts(change: StaffChange) -> bytes:
    requested_at = _second(change.requested_at)
    facts = [str(change.kind), str(change.status), change.reviewer_id, change.category_id,
             change.intake_ids, change.previous_ids, change.custodian, change.display_name,
             change.requested_by, requested_at]
    return json.dumps(facts, separators=(",", ":")).encode("utf-8")


def tag_change(keyring: Keyring, change: StaffChange) -> None:
    """Authenticate a change as Candor just wrote it (filed, decided or withdrawn)."""
    assert change.id is not None, "flush the new change first: the tag names its id"
    change.change_tag = key_tag(keyring.account_key, _owner(change), _facts(change))


def change_trusted(keyring: Keyring, change: StaffChange) -> bool:
    """Whether the change is as Candor last wrote it."""
    return tag_matches(keyring.account_key, _owner(change), _facts(change), change.change_tag)


def tag_untagged_changes(session: Session, keyring: Keyring) -> int:
    """After migration 0019 (`candor db upgrade`, which holds the key): tag every change as it
    stands then. Returns how many."""
    untagged = session.execute(select(StaffChange).where(
        StaffChange.change_tag.is_(None))).scalars().all()
    for change in untagged:
        tag_change(keyring, change)
    session.flush()
    return len(untagged)
