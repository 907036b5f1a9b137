"""The reporter's answer to the outcome: satisfied or not, with an optional comment. "Not
satisfied" asks the team for a review: the case is flagged in their inbox until they answer
or reopen it (core.cases.workflow)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.inbox_counts import lock_case, sync_member_keys
from core.cases.retention import refuse_if_destroyed
from core.cases.transitions import SATISFACTION_STAGES
from core.errors import Conflict, NotFound
from core.intake.reporter import SubmitterAccess, post_submitter_message
from core.models import Case, Satisfaction
from core.services import Services


class NoOutcomeYet(Conflict):
    """The reporter can answer only once the outcome (or a referral or rejection) is sent."""


def answer_outcome(session: Session, services: Services, access: SubmitterAccess,
                   satisfied: bool, comment: str = "") -> None:
    """Record the reporter's answer (they may change it), with the comment as their message
    in the thread; audited as the reporter's, dated by their day."""
    case = session.get(Case, access.case_id)
    if case is None:
        raise NotFound("this case no longer exists")
    lock_case(session, case)
    refuse_if_destroyed(case)  # its answer is a clear column the statistics keep as it was
    if case.status not in SATISFACTION_STAGES:
        raise NoOutcomeYet("the outcome has not been sent yet")
    day = services.clock.submitter_day()
    if comment.strip():
        post_submitter_message(session, services, access, comment, day=day)
    case.satisfaction = Satisfaction.SATISFIED if satisfied else Satisfaction.NOT_SATISFIED
    case.review_requested = not satisfied
    # The reporter's day, as for a message: the inbox sorts by it, and `candor cleanup`
    # rewrites the case row (its xmin dates this answer) once the day has ended.
    case.submitter_active_on = day
    sync_member_keys(session, case)
    record_event(session, services.clock, AuditAction.OUTCOME_ANSWERED, Actor.submitter(),
                 case_id=case.id, detail={"satisfied": satisfied}, day=day)
