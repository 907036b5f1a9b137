"""Deadline arithmetic: calendar months at month ends and leap days, and the deadlines a
case gets at submission and at acknowledgement (in the organisation's time zone:
tests/core/test_timezone.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from core.audit.log import Actor
from core.cases.casework import change_status
from core.clock import Clock, add_months
from core.db import transaction
from core.models import Case, CaseStatus
from tests.core.factories import add_reviewer, seed_categories, submit


@pytest.mark.parametrize(("start", "months", "due"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),   # clamped to the month's last day
    (date(2028, 1, 31), 1, date(2028, 2, 29)),   # leap year
    (date(2028, 2, 29), 12, date(2029, 2, 28)),  # from a leap day, a year on
    (date(2028, 2, 29), 48, date(2032, 2, 29)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),  # across the year end
    (date(2027, 11, 30), 3, date(2028, 2, 29)),
    (date(2026, 8, 31), 3, date(2026, 11, 30)),
    (date(2026, 3, 15), 3, date(2026, 6, 15)),
    (date(2026, 12, 31), 0, date(2026, 12, 31)),
])
def test_add_months(start: date, months: int, due: date) -> None:
    assert add_months(start, months) == due


def _at(services, moment: datetime):
    return dataclasses.replace(services, clock=Clock(now=lambda: moment))


def test_deadlines_at_submission_and_at_acknowledgement(session_factory, services) -> None:
    handler = add_reviewer(session_factory, services, "hana")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    sent = _at(services, datetime(2027, 11, 23, 9, tzinfo=UTC))
    result = submit(session_factory, sent)
    with session_factory() as s:
        case = s.get(Case, result.case_id)
        assert case.received_on == date(2027, 11, 23)
        assert case.acknowledge_due == date(2027, 11, 30)  # 7 days
        # Provisional until acknowledged: the acknowledgement deadline plus three months.
        assert case.feedback_due == date(2028, 2, 29)
    acknowledged = _at(services, datetime(2027, 12, 1, 16, tzinfo=UTC))  # a day late
    with transaction(session_factory) as s:
        change_status(s, acknowledged, Actor.system(), s.get(Case, result.case_id),
                      CaseStatus.ACKNOWLEDGED)
    with session_factory() as s:
        case = s.get(Case, result.case_id)
        assert case.acknowledged_on == date(2027, 12, 1)
        assert case.feedback_due == date(2028, 3, 1)  # three months from acknowledgement
