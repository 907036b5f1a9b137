"""Reports taken by a case handler on the reporter's behalf: by telephone, through the letter
box or the complaint mailbox, or in person (docs/PROCESS.md, raising a complaint).

The report goes through the same path as one sent on the web (core.intake.submission): it is
encrypted for the category's intake handlers, the identity custodians and the recovery key,
and it gets a receipt code that the handler hands to the reporter, who follows up in the
portal like anyone else. The channel is kept in clear. The handler who recorded it is named
in the audit log with the time: they took the report themselves, so that names nobody they
do not already know; they get no key to the case unless they are one of its handlers.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import UnlockedReviewer
from core.cases.content import Identity, ReportContent
from core.errors import AccessDenied, InvalidInput
from core.intake.receipts import NewReceipt
from core.intake.submission import SubmissionDraft, SubmissionResult, submit_report
from core.models import Channel, Reviewer, Role
from core.services import Services

#: The channels a handler records a report from (the web form is the reporter's own).
STAFF_CHANNELS = (Channel.HOTLINE, Channel.LETTER_BOX, Channel.MAILBOX, Channel.IN_PERSON)


def record_report(session: Session, services: Services, who: UnlockedReviewer, *,
                  channel: Channel, category_code: str, report: ReportContent,
                  identity: Identity | None = None,
                  receipt: NewReceipt | None = None) -> SubmissionResult:
    """Create the case of a report received outside the web form; returns the receipt code
    to hand over (shown once, never stored). Pass `receipt` made before the transaction
    (core.intake.submission.submit_report says why)."""
    recorder = session.get(Reviewer, who.reviewer_id)
    if recorder is None or not recorder.active or recorder.role is not Role.REVIEWER:
        raise AccessDenied("only an active case handler records reports")
    if channel not in STAFF_CHANNELS:
        raise InvalidInput("Choose how the report was received.", field="channel")
    result = submit_report(session, services, SubmissionDraft(), category_code=category_code,
                           report=report, identity=identity, channel=channel,
                           receipt=receipt)
    record_event(session, services.clock, AuditAction.CASE_RECORDED_BY_STAFF, who.actor,
                 case_id=result.case_id, detail={"channel": str(channel)})
    return result
