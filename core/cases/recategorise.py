"""A case handler changes (or confirms) a case's category, e.g. after the console's category
suggestion. The category is a clear column, used for statistics, inbox filters and counts:
the case keeps its team and its keys (the new category's intake handlers are not added; a
member adds a colleague if needed).

Either way the category now counts as confirmed: the report's token counts are kept as an
example for the suggestions, encrypted under the team key (core.cases.category_examples).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import UnlockedReviewer, case_keys_of, record_tampering
from core.cases.category_examples import keep_example
from core.cases.grants import FIRST_EPOCH
from core.cases.inbox_counts import case_changed, lock_case, sync_member_keys
from core.cases.reading import decrypt_report
from core.cases.team import get_case
from core.categories.lookup import get_category
from core.errors import InvalidInput, NotFound
from core.models import KeyKind
from core.services import Services
from crypto.errors import CryptoError


def set_category(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                 code: str) -> None:
    """Move the case to the active category `code`, or confirm the one it is in (any member).

    Audited as `case:category` with the old and the new code, or `case:category:confirm`;
    both decrypt the report to keep its token counts as the case's example (replacing an
    earlier one). A report failing its integrity check keeps no example and is reported as
    tampering; a member holding no key to the report (only later epochs' keys) keeps none
    either; the category is set all the same. InvalidInput for an unknown or retired
    category."""
    case = get_case(session, case_id)
    lock_case(session, case)
    keys = case_keys_of(session, case, who)  # members only (AccessDenied otherwise)
    try:
        category = get_category(session, code)
    except NotFound:
        raise InvalidInput("Choose a category from the list.", field="category") from None
    if not category.active:
        raise InvalidInput("Choose a category from the list.", field="category")
    if category.id == case.category_id:
        record_event(session, services.clock, AuditAction.CASE_CATEGORY_CONFIRMED, who.actor,
                     case_id=case.id, detail={"category": category.code})
    else:
        old_code = case.category.code if case.category is not None else None
        old_category_id = case.category_id
        record_event(session, services.clock, AuditAction.CASE_CATEGORY_CHANGED, who.actor,
                     case_id=case.id, detail={"from": old_code, "to": category.code})
        case.category_id = category.id
        case.category = category
        case_changed(session, case, old_status=case.status, old_category_id=old_category_id)
        sync_member_keys(session, case)
    case_key = keys.get(KeyKind.CASE, FIRST_EPOCH)
    if case_key is None:
        return  # no key to the report (e.g. regranted from a later epoch): nothing to keep
    try:
        report = decrypt_report(case.reference, case.report_ciphertext, case_key)
    except (CryptoError, ValueError):
        record_tampering(session, services, who.actor, case.id, ["report"])
        return
    keep_example(session, case, keys, report, category, services.clock.today())
