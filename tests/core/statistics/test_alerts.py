"""Early warnings from the database: months before the first report are no history, the last
complete month is the one tested, and the admins' digest carries the figures and nothing of
a case (sent on the first day of a month only)."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, timedelta

from sqlalchemy import update

from core.db import transaction
from core.models import Case, Reviewer, Role
from core.operations.warning_digest import send_early_warnings
from core.staff.keys import tag_standing
from core.statistics.alerts import last_complete_month, period_alerts, recent_alerts
from core.statistics.figures import dashboard_figures
from core.statistics.periods import parse_period, recent_months
from core.statistics.suppression import HIDDEN
from tests.core.factories import add_reviewer, audit_actions, seed_categories, submit
from tests.core.operations import mail_server

smtp = mail_server.smtp
free_port = mail_server.free_port

TODAY = date(2026, 12, 1)


def _cases(session_factory, services, category: str, count: int, day: date) -> list[str]:
    results = [submit(session_factory, services, category=category) for _ in range(count)]
    with transaction(session_factory) as s:
        s.execute(update(Case).where(Case.id.in_([r.case_id for r in results]))
                  .values(received_on=day))
    return [r.reference for r in results]


def _history(session_factory, services, last: int, per_month: int = 1) -> list[str]:
    """`per_month` reports in each of the 7 months before November 2026 (from May), then
    `last` in November; the references."""
    months = recent_months(last_complete_month(TODAY), 8)
    references = []
    for month in months[:-1]:
        references += _cases(session_factory, services, "security", per_month, month.start)
    references += _cases(session_factory, services, "security", last,
                         months[-1].start + timedelta(days=9))
    return references


def test_a_new_instance_raises_nothing(session_factory, services):
    seed_categories(session_factory)
    # The first report's month, and the months before it, are not history.
    _cases(session_factory, services, "security", 6, date(2026, 10, 20))
    _cases(session_factory, services, "security", 9, date(2026, 11, 5))
    with session_factory() as s:
        assert recent_alerts(s, TODAY) == []


def test_a_jump_in_the_last_complete_month_is_flagged(session_factory, services):
    seed_categories(session_factory)
    # Three a month: every month shows its count (an alert is raised only then).
    _history(session_factory, services, last=15, per_month=3)
    _cases(session_factory, services, "security", 20, TODAY)  # this month: not tested yet
    with session_factory() as s:
        alerts = recent_alerts(s, TODAY)
    assert [(a.kind, a.rise.key, a.rise.latest, a.month.label) for a in alerts] == [
        ("category", "security", 15, "2026-11")]
    assert alerts[0].rise.expected == 3.0 and alerts[0].rise.history == 6


def test_a_steady_month_is_not_flagged(session_factory, services):
    seed_categories(session_factory)
    _history(session_factory, services, last=1)
    with session_factory() as s:
        assert recent_alerts(s, TODAY) == []


def test_the_digest_goes_to_admins_with_figures_and_no_case(session_factory, services, smtp):
    seed_categories(session_factory)
    admin = add_reviewer(session_factory, services, "adam", Role.ADMIN)
    handler = add_reviewer(session_factory, services, "hana")
    # Admins the console would not let in get nothing (second reader): one waiting for a
    # second admin's approval, and one whose record a database writer made an admin.
    waiting = add_reviewer(session_factory, services, "wade", Role.ADMIN)
    written = add_reviewer(session_factory, services, "rita")
    with transaction(session_factory) as s:
        s.get(Reviewer, admin.id).email = "admin@example.org"
        s.get(Reviewer, handler.id).email = "hana@example.org"
        s.get(Reviewer, waiting.id).email = "wade@example.org"
        s.get(Reviewer, written.id).email = "rita@example.org"
        s.get(Reviewer, waiting.id).approved = False
        tag_standing(services.keyring, s.get(Reviewer, waiting.id))  # as Candor leaves it
        s.get(Reviewer, written.id).role = Role.ADMIN  # untagged: a writer's change
    # Three a month: every month's count is shown on its own statistics, so the figures go.
    references = _history(session_factory, services, last=15, per_month=3)
    with transaction(session_factory) as s:
        assert send_early_warnings(s, services, TODAY) == 1
    with transaction(session_factory) as s:  # a second run in the month sends nothing
        assert send_early_warnings(s, services, TODAY) == 0
        assert send_early_warnings(s, services, TODAY + timedelta(days=5)) == 0
    [(recipients, raw)] = smtp.messages
    assert recipients == ["admin@example.org"]
    body = raw.decode()
    assert "15 cases in 2026-11" in body and "Security" in body
    assert not any(reference in body for reference in references)


def test_a_periods_alerts_cover_its_complete_months_only(session_factory, services):
    seed_categories(session_factory)
    _history(session_factory, services, last=15, per_month=3)  # the jump: November 2026
    _cases(session_factory, services, "security", 20, TODAY)  # December: not complete yet
    with session_factory() as s:
        quarter = period_alerts(s, parse_period("2026-Q4"), TODAY)
        earlier = period_alerts(s, parse_period("2026-Q3"), TODAY)
        in_december = period_alerts(s, parse_period("2026-12"), date(2027, 1, 2))
    assert [(a.rise.key, a.month.label) for a in quarter] == [("security", "2026-11")]
    assert earlier == []  # three reports a month: nothing rose
    # Once December is over, its 20 reports stand out against the months before.
    assert [(a.rise.key, a.rise.latest, a.month.label) for a in in_december] == [
        ("security", 20, "2026-12")]


def test_a_period_without_reports_has_no_alerts(session_factory, services):
    seed_categories(session_factory)
    with session_factory() as s:
        assert period_alerts(s, parse_period("2026"), TODAY) == []


def test_an_alert_beside_a_hidden_cell_is_not_raised(session_factory, services, smtp):
    """Outside tester: "security: 8 cases in 2026-11" beside a month grid showing security
    "x" and IT "<3" and a total of 10 gave IT's 2 away. The month's own dashboard hides the
    security count. Shown without its figures, the alert's mere presence, with its rule,
    still narrowed the hidden months down (second reader): it is not raised, on the page or
    in the mail."""
    seed_categories(session_factory)
    admin = add_reviewer(session_factory, services, "adam", Role.ADMIN)
    with transaction(session_factory) as s:
        s.get(Reviewer, admin.id).email = "admin@example.org"
    _history(session_factory, services, last=8)
    _cases(session_factory, services, "it_fault", 2, date(2026, 11, 12))
    with session_factory() as s:
        alerts = recent_alerts(s, TODAY)
        november = dashboard_figures(s, parse_period("2026-11"), today=TODAY)
    # October's 1 beside the quarter's 11: November's 10 is hidden, and its view with it.
    assert november.total.shown == HIDDEN and november.details is None
    assert alerts == []
    with transaction(session_factory) as s:
        assert send_early_warnings(s, services, TODAY) == 0
    assert smtp.messages == []


def test_an_alert_beside_a_shown_cell_keeps_its_figures(session_factory, services):
    seed_categories(session_factory)
    _history(session_factory, services, last=15, per_month=3)
    _cases(session_factory, services, "it_fault", 3, date(2026, 11, 12))  # no small cell
    with session_factory() as s:
        alerts = recent_alerts(s, TODAY)
    assert [(a.rise.key, a.rise.latest) for a in alerts] == [("security", 15)]


def test_a_history_of_hidden_months_raises_nothing(session_factory, services):
    """Outside tester: "8 cases, 0.7 expected from the 6 months before" gave away the sum of
    months each shown as "<3". One case a month: every history month hides its count, so
    the rise is not raised (its presence would narrow them down)."""
    seed_categories(session_factory)
    _history(session_factory, services, last=8)
    _cases(session_factory, services, "it_fault", 3, date(2026, 11, 12))
    with session_factory() as s:
        alerts = recent_alerts(s, TODAY)
    assert alerts == []


def test_a_small_history_raises_nothing(session_factory, services):
    """Two cases in the three months before (expected 0.67, above the floor) would give a
    "<3" of those months away."""
    seed_categories(session_factory)
    _cases(session_factory, services, "security", 3, date(2026, 7, 20))  # the first month
    _cases(session_factory, services, "security", 1, date(2026, 8, 3))
    _cases(session_factory, services, "security", 1, date(2026, 9, 3))
    _cases(session_factory, services, "security", 6, date(2026, 11, 3))
    with session_factory() as s:
        alerts = recent_alerts(s, TODAY)
    assert alerts == []


def test_a_digest_that_reached_nobody_goes_out_on_the_next_run(session_factory, services,
                                                                smtp):
    """Outside tester: with the mail server down on the 1st, the month's warnings were lost
    for good (only the 1st sent them); now the next run sends them, once."""
    seed_categories(session_factory)
    admin = add_reviewer(session_factory, services, "adam", Role.ADMIN)
    with transaction(session_factory) as s:
        s.get(Reviewer, admin.id).email = "admin@example.org"
    _history(session_factory, services, last=15, per_month=3)
    working = services.config
    services.config = dataclasses.replace(working, smtp_port=free_port())  # nothing listens
    with transaction(session_factory) as s:
        assert send_early_warnings(s, services, TODAY) == 0
    assert audit_actions(session_factory).count("notify:warnings") == 0
    services.config = working
    with transaction(session_factory) as s:
        assert send_early_warnings(s, services, TODAY + timedelta(days=1)) == 1
    with transaction(session_factory) as s:
        assert send_early_warnings(s, services, TODAY + timedelta(days=2)) == 0
    assert len(smtp.messages) == 1
    assert audit_actions(session_factory).count("notify:warnings") == 1


def test_two_runs_at_once_send_the_digest_once(session_factory, services, smtp):
    """Outside tester: two `candor remind` at the same moment on PostgreSQL both found the
    month unsent and both mailed it. The second run now waits for the first's record."""
    seed_categories(session_factory)
    admin = add_reviewer(session_factory, services, "adam", Role.ADMIN)
    with transaction(session_factory) as s:
        s.get(Reviewer, admin.id).email = "admin@example.org"
    _history(session_factory, services, last=15, per_month=3)
    second_sent: list[int] = []

    def second_run() -> None:
        with transaction(session_factory) as s:
            second_sent.append(send_early_warnings(s, services, TODAY))

    with transaction(session_factory) as s:
        assert send_early_warnings(s, services, TODAY) == 1
        racer = threading.Thread(target=second_run)
        racer.start()
        racer.join(timeout=1.5)  # time enough to race; it must wait for this commit instead
        assert racer.is_alive()
    racer.join(timeout=30)
    assert second_sent == [0]
    assert len(smtp.messages) == 1
    assert audit_actions(session_factory).count("notify:warnings") == 1
