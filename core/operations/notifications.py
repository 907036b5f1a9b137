"""Email notifications to staff through SMTP. They carry no case content at all: no reference,
no category, no text, not even a count. They only say "log in and look". (The admins' monthly
early-warning digest, core.operations.warning_digest, is the one mail with figures.)

New activity is queued (`queue_case_notification`, in the activity's own transaction) and sent
in batches by `candor notify`, so an email's time does not date a reporter's action. Deadline
reminders go out from `candor remind`. Sending never breaks the caller: a failure is logged as
one generic line (without addresses) and swallowed.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.models import (
    ActionStatus,
    Case,
    CaseMember,
    CaseStatus,
    CorrectiveAction,
    PendingNotification,
    Reviewer,
    Role,
)
from core.models.enums import FINAL_STATUSES
from core.services import Services

log = logging.getLogger("candor.notifications")

SUBJECT = "Candor: new activity"
REMINDER_SUBJECT = "Candor: deadlines"
BODY = "There is new activity in Candor. Log in to the console to see it."
REMINDER_BODY = ("Some cases you work on, or corrective actions you own, have deadlines "
                 "coming up or past. Log in to the console to see them.")
#: Remind this many days before a deadline.
REMIND_DAYS = 3
SMTP_TIMEOUT = 10

_AWAITING_FEEDBACK = tuple(
    s for s in CaseStatus
    if s not in FINAL_STATUSES and s not in (CaseStatus.FEEDBACK_GIVEN, CaseStatus.FOLLOW_UP)
)


def mail_body(services: Services, text: str) -> str:
    """`text` and the console's address, if configured."""
    url = services.config.console_url
    return f"{text}\n\n{url}\n" if url else f"{text}\n"


@dataclass(frozen=True)
class MailRun:
    """What a batch reached, for the operator's warnings (counts only, no address): `sent`
    messages accepted of `addressed` recipients; `without_email` accounts that had something
    to be told but no address."""

    sent: int
    addressed: int
    without_email: int


def message_id(sender: str) -> str:
    """A Message-ID under the configured sender's domain ("localhost" if it has none): 128
    random bits, where make_msgid would put the process id, the clock and, without a
    domain, the machine's host name."""
    _local, at, domain = parseaddr(sender)[1].rpartition("@")
    domain = domain.strip() if at else ""
    return f"<{secrets.token_hex(16)}@{domain or 'localhost'}>"


def send_mail(services: Services, recipients: Iterable[str], subject: str, body: str) -> int:
    """Send one message per recipient; return how many were accepted. Never raises.

    Each message is dated when it is sent (staff mail only: no reporter's time is in it)."""
    config = services.config
    addresses = sorted(set(recipients))
    if not config.smtp_host or not addresses:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            for address in addresses:
                message = EmailMessage()
                message["From"] = config.smtp_sender
                message["To"] = address
                message["Subject"] = subject
                message["Date"] = format_datetime(services.clock.now())
                message["Message-ID"] = message_id(config.smtp_sender)
                message.set_content(body)
                try:
                    smtp.send_message(message)
                    sent += 1
                except smtplib.SMTPException:
                    log.warning("a notification email was refused by the mail server")
    except (OSError, smtplib.SMTPException):
        log.warning("notification emails could not be sent (mail server unavailable)")
    return sent


def queue_case_notification(session: Session, case_id: int) -> int:
    """Mark every active, non-excluded team member of a case (with an email address) as having
    new activity. Call it in the transaction that creates the activity; nothing is sent now,
    and the mark holds no time, case or kind of event. Returns how many were marked."""
    members = session.execute(
        select(Reviewer.id).join(CaseMember, CaseMember.reviewer_id == Reviewer.id)
        .where(CaseMember.case_id == case_id, CaseMember.excluded.is_(False))
    ).scalars().all()
    return queue_notifications(session, members)


def queue_notifications(session: Session, reviewer_ids: Iterable[int]) -> int:
    """Mark these case handlers (active, with an email address) as having new activity, as
    queue_case_notification does; returns how many were marked."""
    marked = session.execute(
        select(Reviewer.id).where(Reviewer.id.in_(set(reviewer_ids)),
                                  Reviewer.active.is_(True), Reviewer.email.is_not(None),
                                  Reviewer.role == Role.REVIEWER)
    ).scalars().all()
    already = set(session.execute(
        select(PendingNotification.reviewer_id)
        .where(PendingNotification.reviewer_id.in_(marked))).scalars())
    for reviewer_id in marked:
        if reviewer_id not in already:
            session.add(PendingNotification(reviewer_id=reviewer_id))
    session.flush()
    return len(marked)


def send_pending_notifications(session: Session, services: Services) -> int:
    """Send one generic "new activity" email to everyone marked, then clear the marks.

    Run periodically (`candor notify`, e.g. hourly): the emails then carry the time of the
    run, not the time a reporter submitted or wrote. Returns the number of emails sent.
    """
    return run_pending_notifications(session, services).sent


def run_pending_notifications(session: Session, services: Services) -> MailRun:
    """send_pending_notifications, telling also whom it could not reach: marks of accounts
    whose address was removed since are cleared unsent (`without_email`)."""
    rows = session.execute(
        select(PendingNotification, Reviewer.email)
        .join(Reviewer, Reviewer.id == PendingNotification.reviewer_id)
        .with_for_update(of=PendingNotification)
    ).all()
    addresses = [email for _row, email in rows if email]
    sent = send_mail(services, addresses, SUBJECT, mail_body(services, BODY))
    if sent or not addresses:
        for row, _email in rows:
            session.delete(row)
    return MailRun(sent=sent, addressed=len(set(addresses)),
                   without_email=len(rows) - len(addresses))


def send_deadline_reminders(session: Session, services: Services, today: date,
                            within_days: int = REMIND_DAYS) -> int:
    """Email every team member of a case whose acknowledgement or feedback deadline is
    within `within_days` or past, and the owner of every corrective action not done whose
    due date is. One generic email per person. Returns emails sent."""
    return run_deadline_reminders(session, services, today, within_days).sent


def run_deadline_reminders(session: Session, services: Services, today: date,
                           within_days: int = REMIND_DAYS) -> MailRun:
    """send_deadline_reminders, telling also how many of those due have no address."""
    horizon = today + timedelta(days=within_days)
    due = or_(
        and_(Case.status == CaseStatus.RECEIVED, Case.acknowledge_due <= horizon),
        and_(Case.status.in_(_AWAITING_FEEDBACK), Case.feedback_due <= horizon),
    )
    members = session.execute(
        select(Reviewer.id, Reviewer.email).distinct()
        .join(CaseMember, CaseMember.reviewer_id == Reviewer.id)
        .join(Case, Case.id == CaseMember.case_id)
        .where(due, CaseMember.excluded.is_(False), Reviewer.active.is_(True),
               Reviewer.role == Role.REVIEWER)
    ).all()
    owners = session.execute(
        select(Reviewer.id, Reviewer.email).distinct()
        .join(CorrectiveAction, CorrectiveAction.owner_id == Reviewer.id)
        .where(CorrectiveAction.status != ActionStatus.DONE,
               CorrectiveAction.due_on <= horizon, Reviewer.active.is_(True))
    ).all()
    # By account: someone both on a team and owning an action counts once.
    email_of = {reviewer_id: email for reviewer_id, email in [*members, *owners]}
    recipients = sorted({a for a in email_of.values() if a})
    sent = send_mail(services, recipients, REMINDER_SUBJECT,
                     mail_body(services, REMINDER_BODY))
    return MailRun(sent=sent, addressed=len(recipients),
                   without_email=sum(1 for a in email_of.values() if not a))
