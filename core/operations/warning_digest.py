"""The early-warning digest that `candor remind` mails to admins: the categories and root
causes flagged by core.statistics.alerts, with the figures behind each flag.

Unlike the other notifications (which say only "log in and look"), this one carries figures,
as the process asks: a category's or root cause's monthly count, its expected count and the
test's p-value. They are counts of at least 3 cases (the rule's minimum), never a case's
reference, text, dates or people, and are left out where the dashboard hides what they would
give away (core.statistics.alerts).

Sent once per month: the first `candor remind` of a month that reaches an admin records it in
the access log (WARNING_DIGEST_SENT, naming the month of the warnings), and later runs of
that month send nothing. A run whose mail reaches nobody (the mail server down) records
nothing, so the next day's run sends it: a month's warnings are not lost to one bad day
(outside tester: a second run sent it twice, a failed first-day run lost it). Two runs at
the same moment take turns (core.db.hold_run_lock): the second sees the first's record.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.db import hold_run_lock
from core.models import AuditEvent, Category, Reviewer, Role
from core.operations.notifications import mail_body, send_mail
from core.services import Services
from core.staff.keys import standing_trusted
from core.statistics.alerts import Alert, last_complete_month, recent_alerts
from core.statistics.periods import month_of

SUBJECT = "Candor: early warning"


def digest_text(alerts: list[Alert], names: dict[str, str]) -> str:
    """The digest's lines, one per flagged category or root cause."""
    lines = ["These rose well above their own previous months (one-sided Poisson test, "
             "p < 0.01, at least 3 cases and 1.5 times the expected number):", ""]
    for alert in alerts:
        rise = alert.rise
        what = ("Category " + names.get(rise.key, rise.key) if alert.kind == "category"
                else "Root cause " + rise.key.replace("_", " "))
        lines.append(f"- {what}: {rise.latest} cases in {alert.month.label}, "
                     f"{rise.expected:.1f} expected from the {rise.history} months before "
                     f"(p = {rise.p_value:.4f})")
    lines += ["", "The statistics page of the console has the details."]
    return "\n".join(lines)


def send_early_warnings(session: Session, services: Services, today: date) -> int:
    """Mail the early warnings of the month before `today`'s to the active admins with an
    address, unless this month's run already did; returns the emails sent (0 when nothing is
    flagged, or already sent). Recorded in the access log in the caller's transaction."""
    month = month_of(last_complete_month(today)).label
    hold_run_lock(session, "warning digest")  # until this run's record is committed
    if _already_sent(session, month):
        return 0
    alerts = recent_alerts(session, today)
    if not alerts:
        return 0
    names = {code: name for code, name in session.execute(
        select(Category.code, Category.name_en))}
    # Only admins the console would let in: approved, and as Candor last set them (an admin
    # waiting for a second admin, or one whose record was written to, gets no figures).
    admins = session.execute(select(Reviewer).where(
        Reviewer.role == Role.ADMIN, Reviewer.active.is_(True), Reviewer.approved.is_(True),
        Reviewer.email.is_not(None))).scalars()
    addresses = [a.email for a in admins
                 if a.email and standing_trusted(services.keyring, a)]
    sent = send_mail(services, addresses, SUBJECT,
                     mail_body(services, digest_text(alerts, names)))
    if sent:
        record_event(session, services.clock, AuditAction.WARNING_DIGEST_SENT, Actor.system(),
                     detail={"month": month, "alerts": len(alerts), "emails": sent})
    return sent


def _already_sent(session: Session, month: str) -> bool:
    """Whether a digest of `month`'s warnings went out (recorded since that month ended)."""
    details = session.execute(select(AuditEvent.detail).where(
        AuditEvent.action == AuditAction.WARNING_DIGEST_SENT.value)
        .order_by(AuditEvent.position.desc()).limit(12)).scalars()
    return any(json.loads(detail).get("month") == month for detail in details)
