"""A case handler changes (or confirms) a case's category, e.g. after the console's category
suggestion. The category is a clear column, used for statistics, inbox filters and counts:
the case keeps its team and its keys (the new category's intake handlers are not added; a
member adds a colleague if needed)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import UnlockedReviewer, case_keys_of
from core.cases.inbox_counts import case_changed, lock_case, sync_member_keys
from core.cases.team import get_case
from core.categories.lookup import get_category
from core.errors import InvalidInput, NotFound
from core.services import Services


def set_category(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                 code: str) -> None:
    """Move the case to the active category `code` (any member; audited with the old and
    the new code). InvalidInput for an unknown or retired category. Confirming the category
    the case is in already changes nothing and records nothing."""
    case = get_case(session, case_id)
    lock_case(session, case)
    case_keys_of(session, case, who)  # members only (AccessDenied otherwise)
    try:
        category = get_category(session, code)
    except NotFound:
        raise InvalidInput("Choose a category from the list.", field="category") from None
    if not category.active:
        raise InvalidInput("Choose a category from the list.", field="category")
    if category.id == case.category_id:
        return
    old_code = case.category.code if case.category is not None else None
    old_category_id = case.category_id
    record_event(session, services.clock, AuditAction.CASE_CATEGORY_CHANGED, who.actor,
                 case_id=case.id, detail={"from": old_code, "to": category.code})
    case.category_id = category.id
    case.category = category
    case_changed(session, case, old_status=case.status, old_category_id=old_category_id)
    sync_member_keys(session, case)
