"""What the admin dashboard shows: accounts per role, the number of cases, and the routing
problems (categories and cases that reach nobody). Counts and references only: admins see no
case content."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.audit.log import AuditAction
from core.cases.unreached import UnreachedCases, unreached_cases
from core.categories.intake_routes import (
    TamperedRoute,
    read_routes,
    receiving_intake,
    tampered_routes,
)
from core.categories.lookup import active_categories
from core.keyring import Keyring
from core.models import AuditEvent, Case, Category, Reviewer, Role
from core.staff.keys import public_key_trusted, standing_trusted


@dataclass(frozen=True)
class AdminOverview:
    """The dashboard's figures."""

    #: Accounts that can work: active, approved and enrolled (TOTP and a key pair of their own).
    active_accounts: dict[Role, int]
    #: Active accounts that cannot work yet: waiting for a second admin's approval, or for
    #: their owner to enrol. Counted apart so that "active case handlers" means people who
    #: can receive reports.
    waiting_accounts: int
    total_cases: int
    #: Active categories whose new reports reach no case handler.
    unrouted: list[Category]
    #: Intake routes a database writer wrote (core.categories.intake_routes): they receive
    #: nothing until an admin routes the category again.
    tampered_routes: list[TamperedRoute]
    #: Open cases that reach nobody (core.cases.unreached).
    unreached: UnreachedCases


def admin_overview(session: Session, keyring: Keyring) -> AdminOverview:
    """Counts for the admin dashboard (nothing is decrypted)."""
    ready = and_(Reviewer.approved.is_(True), Reviewer.totp_confirmed.is_(True),
                 Reviewer.public_key.is_not(None))
    counts: dict[Role, int] = {}
    waiting = 0
    for role, is_ready, n in session.execute(
            select(Reviewer.role, ready, func.count()).where(Reviewer.active.is_(True))
            .group_by(Reviewer.role, ready)).all():
        if is_ready:
            counts[Role(role)] = int(n)
        else:
            waiting += int(n)
    total = int(session.execute(select(func.count(Case.id))).scalar_one())
    routes = read_routes(session, keyring)
    return AdminOverview(active_accounts=counts, waiting_accounts=waiting, total_cases=total,
                         unrouted=[c for c in active_categories(session)
                                   if not receiving_intake(c, routes)],
                         tampered_routes=tampered_routes(session, routes),
                         unreached=unreached_cases(session))


#: How long the dashboard lists a key alarm after it was raised.
KEY_ALARM_DAYS = 30


@dataclass(frozen=True)
class KeyAlarm:
    """One rejected public key, from the access log: the day, the account, where found."""

    day: date
    account: str
    where: str


def recent_key_alarms(session: Session, today: date) -> list[KeyAlarm]:
    """The key alarms of the last KEY_ALARM_DAYS days, newest first. The stored key is put
    right at its owner's next login, and untrusted_keys then lists nothing: without this the
    alarm could come and go between two looks at the dashboard (outside tester)."""
    since = datetime.combine(today - timedelta(days=KEY_ALARM_DAYS), time.min, tzinfo=UTC)
    names = {rid: name for rid, name in session.execute(select(Reviewer.id, Reviewer.username))}
    alarms = []
    for occurred, detail in session.execute(
            select(AuditEvent.occurred_at, AuditEvent.detail)
            .where(AuditEvent.action == AuditAction.KEY_REJECTED.value,
                   AuditEvent.occurred_at >= since)
            .order_by(AuditEvent.position.desc())):
        facts = json.loads(detail)
        account = facts.get("account") or names.get(facts.get("reviewer_id"), "?")
        alarms.append(KeyAlarm(occurred.date(), str(account), str(facts.get("where", ""))))
    return alarms


def untrusted_keys(session: Session, keyring: Keyring) -> list[Reviewer]:
    """Accounts whose stored public key or standing fails its check: someone wrote to the
    database (nothing is sealed to them; a key is restored at its owner's next login, a
    standing by an operator: core.staff.keys)."""
    return [r for r in session.execute(select(Reviewer).order_by(Reviewer.username)).scalars()
            if (r.public_key is not None and r.active and not public_key_trusted(keyring, r))
            or not standing_trusted(keyring, r)]
