"""The early-warning digest that `candor remind` mails to admins: the categories and root
causes flagged by core.statistics.alerts, with the figures behind each flag.

Unlike the other notifications (which say only "log in and look"), this one carries figures,
as the process asks: a category's or root cause's monthly count, its expected count and the
test's p-value. They are counts of at least 3 cases (the rule's minimum), never a case's
reference, text, dates or people, and are left out where the dashboard hides what they would
give away (core.statistics.alerts). Sent at most once per flagged month: the month is stored
nowhere, so the digest goes out only in the first `DIGEST_DAYS` days of a month.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Category, Reviewer, Role
from core.operations.notifications import mail_body, send_mail
from core.services import Services
from core.statistics.alerts import Alert, recent_alerts

SUBJECT = "Candor: early warning"
#: `candor remind` runs daily: the digest goes out on the first day of a month only.
DIGEST_DAYS = 1


def digest_text(alerts: list[Alert], names: dict[str, str]) -> str:
    """The digest's lines, one per flagged category or root cause."""
    lines = ["These rose well above their own previous months (one-sided Poisson test, "
             "p < 0.01, at least 3 cases and 1.5 times the expected number):", ""]
    for alert in alerts:
        rise = alert.rise
        what = ("Category " + names.get(rise.key, rise.key) if alert.kind == "category"
                else "Root cause " + rise.key.replace("_", " "))
        if alert.figures_shown:
            lines.append(f"- {what}: {rise.latest} cases in {alert.month.label}, "
                         f"{rise.expected:.1f} expected from the {rise.history} months before "
                         f"(p = {rise.p_value:.4f})")
        else:  # the dashboard hides what the figures would give away (core.statistics.alerts)
            lines.append(f"- {what}: a significant rise in {alert.month.label} (figures not "
                         "shown: they would give away counts smaller than 3)")
    lines += ["", "The statistics page of the console has the details."]
    return "\n".join(lines)


def send_early_warnings(session: Session, services: Services, today: date) -> int:
    """Mail the month's early warnings to the active admins with an address, on the first
    day of a month; returns the emails sent (0 when nothing is flagged)."""
    if today.day > DIGEST_DAYS:
        return 0
    alerts = recent_alerts(session, today)
    if not alerts:
        return 0
    names = {code: name for code, name in session.execute(
        select(Category.code, Category.name_en))}
    admins = session.execute(select(Reviewer.email).where(
        Reviewer.role == Role.ADMIN, Reviewer.active.is_(True),
        Reviewer.email.is_not(None))).scalars()
    return send_mail(services, [a for a in admins if a], SUBJECT,
                     mail_body(services, digest_text(alerts, names)))
