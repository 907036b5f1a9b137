"""Corrective actions (整改措施): each with a title and notes (encrypted), an owner on the case
team, a due date and a status; follow-up notes record each change. "Overdue" is derived: not
done and past its due date.

The case keeps the earliest due date of its open actions (`Case.actions_due`, copied to the
memberships) so that the inbox and `candor remind` find due actions without decrypting or
scanning every action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import StageRefused, UnlockedReviewer, case_keys_of
from core.cases.content import MAX_LONG_TEXT, MAX_SHORT_TEXT, clean_text
from core.cases.inbox_counts import lock_case, sync_member_keys
from core.cases.ordering import next_position
from core.cases.records import seal_record
from core.cases.team import get_case
from core.errors import InvalidInput, NotFound
from core.models import (
    ActionStatus,
    ActionUpdate,
    Case,
    CaseStatus,
    CorrectiveAction,
    Reviewer,
)
from core.models.base import random_row_id
from core.services import Services

#: Stages in which corrective actions are assigned and followed up (after the decision).
ACTION_STAGES = frozenset({CaseStatus.DECIDED, CaseStatus.FEEDBACK_GIVEN,
                           CaseStatus.FOLLOW_UP})
#: How far ahead an action counts as "due soon" (inbox and reminders).
DUE_SOON_DAYS = 7
#: Due dates further than this are refused as typing mistakes.
MAX_HORIZON_DAYS = 5 * 366


def is_overdue(action: CorrectiveAction, today: date) -> bool:
    """Not done and past its due date."""
    return action.status is not ActionStatus.DONE and action.due_on < today


def refresh_actions_due(session: Session, case: Case) -> None:
    """Keep `Case.actions_due` (and the memberships' copies) equal to the earliest due date
    of the case's open actions. Call after any change to them, on a locked case."""
    session.flush()
    case.actions_due = session.execute(
        select(func.min(CorrectiveAction.due_on))
        .where(CorrectiveAction.case_id == case.id,
               CorrectiveAction.status != ActionStatus.DONE)).scalar_one_or_none()
    sync_member_keys(session, case)


def _owner(session: Session, case: Case, owner_id: int) -> Reviewer:
    """The owner must be an active member of the team: they read the action and are
    reminded of it."""
    for member in case.members:
        if member.reviewer_id == owner_id and not member.excluded:
            reviewer = session.get(Reviewer, owner_id)
            if reviewer is not None and reviewer.active:
                return reviewer
    raise InvalidInput("Choose an owner from the case team.", field="owner")


def add_action(session: Session, services: Services, who: UnlockedReviewer, case_id: int, *,
               title: str, notes: str, owner_id: int, due_on: date) -> CorrectiveAction:
    """Assign a corrective action; audited with the hash of its ciphertext."""
    case = get_case(session, case_id)
    lock_case(session, case)
    keys = case_keys_of(session, case, who)
    if case.status not in ACTION_STAGES:
        raise StageRefused("corrective actions are assigned once the case is decided")
    title = clean_text(title, field="title", limit=MAX_SHORT_TEXT, required=True)
    notes = clean_text(notes, field="notes", limit=MAX_LONG_TEXT)
    owner = _owner(session, case, owner_id)
    today = services.clock.today()
    if not today <= due_on <= today + timedelta(days=MAX_HORIZON_DAYS):
        raise InvalidInput("Choose a due date from today on, within five years.",
                           field="due_on")
    position = next_position(session, CorrectiveAction, case.id)
    action = CorrectiveAction(id=random_row_id(), case_id=case.id, reviewer_id=who.reviewer_id,
                              created_on=today, position=position, owner_id=owner.id,
                              due_on=due_on, status=ActionStatus.OPEN)
    digest = seal_record(case, action, keys, {"title": title, "notes": notes})
    session.add(action)
    session.flush()
    record_event(session, services.clock, AuditAction.ACTION_ADDED, who.actor, case_id=case.id,
                 detail={"action_id": action.id, "owner_id": owner.id,
                         "due_on": due_on.isoformat(), "sha256": digest})
    refresh_actions_due(session, case)
    return action


def update_action(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                  action_id: int, *, status: ActionStatus, note: str,
                  owner_id: int | None = None) -> ActionUpdate:
    """Record a follow-up note and the status it leaves the action in (immutable); with
    `owner_id`, hand the action to another active member of the team (who is reminded from
    then on). A change of owner is in the update's record ("owner": the new owner's username)
    and in the audit event (both owners' ids)."""
    case = get_case(session, case_id)
    lock_case(session, case)
    keys = case_keys_of(session, case, who)
    action = session.get(CorrectiveAction, action_id)
    if action is None or action.case_id != case.id:
        raise NotFound("no such corrective action")
    if case.status not in ACTION_STAGES:
        raise StageRefused("corrective actions of this case cannot change in this stage")
    note = clean_text(note, field="note", limit=MAX_LONG_TEXT, required=True)
    previous_owner = action.owner_id
    new_owner = (_owner(session, case, owner_id)
                 if owner_id is not None and owner_id != previous_owner else None)
    today = services.clock.today()
    update = ActionUpdate(id=random_row_id(), case_id=case.id, action_id=action.id,
                          reviewer_id=who.reviewer_id, created_on=today,
                          position=len(action.updates) + 1, status=status)
    content = {"note": note, **({"owner": new_owner.username} if new_owner else {})}
    digest = seal_record(case, update, keys, content)
    action.updates.append(update)
    action.status = status
    action.done_on = today if status is ActionStatus.DONE else None
    if new_owner is not None:
        action.owner_id = new_owner.id
    session.flush()
    owners = ({"owner_id": new_owner.id, "previous_owner_id": previous_owner}
              if new_owner is not None else {})
    record_event(session, services.clock, AuditAction.ACTION_UPDATED, who.actor,
                 case_id=case.id, detail={"action_id": action.id, "status": str(status),
                                          "sha256": digest, **owners})
    refresh_actions_due(session, case)
    return update


@dataclass(frozen=True)
class DueAction:
    """An open action due soon or overdue, for reminders (clear columns only)."""

    case_id: int
    reference: str
    position: int
    owner_id: int
    due_on: date
    overdue: bool


def due_actions(session: Session, today: date, *, owner_id: int | None = None,
                days: int = DUE_SOON_DAYS) -> list[DueAction]:
    """Open actions due within `days` or overdue (of one owner, or everyone's), soonest
    first."""
    query = (select(CorrectiveAction.case_id, Case.reference, CorrectiveAction.position,
                    CorrectiveAction.owner_id, CorrectiveAction.due_on)
             .join(Case, Case.id == CorrectiveAction.case_id)
             .where(CorrectiveAction.status != ActionStatus.DONE,
                    CorrectiveAction.due_on <= today + timedelta(days=days),
                    # Retention destroyed the action's title: nothing to remind of.
                    Case.content_destroyed_on.is_(None))
             .order_by(CorrectiveAction.due_on, Case.reference, CorrectiveAction.position))
    if owner_id is not None:
        query = query.where(CorrectiveAction.owner_id == owner_id)
    return [DueAction(case_id, reference, position, owner, due, due < today)
            for case_id, reference, position, owner, due in session.execute(query)]
