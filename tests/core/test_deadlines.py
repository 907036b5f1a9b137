"""Deadlines: core.clock.add_months at month ends and leap days, the deadlines a case gets at
submission (core.intake.submission: acknowledgement in `acknowledge_days` from the reporter's
day, a provisional feedback date `feedback_months` after that), and the feedback date set
again from the day the case leaves "received" (core.cases.casework.change_status), once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from core.cases import workflow
from core.cases.casework import answer_received, post_reviewer_message
from core.clock import Clock, DatePrecision, add_months
from core.db import transaction
from core.models import Case, CaseMember, CaseStatus, Finding, MessageKind, ScopeDecision
from tests.core.factories import add_reviewer, seed_categories, submit

# --- add_months -----------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),    # clamped to February's last day
    (date(2028, 1, 31), 1, date(2028, 2, 29)),    # a leap year's February
    (date(2028, 2, 29), 12, date(2029, 2, 28)),   # a leap day, one year on
    (date(2028, 2, 29), 48, date(2032, 2, 29)),   # four years on: a leap day again
    (date(2026, 11, 30), 3, date(2027, 2, 28)),   # across the year end
    (date(2027, 11, 30), 3, date(2028, 2, 29)),   # across the year end into a leap February
    (date(2026, 3, 31), 1, date(2026, 4, 30)),    # 31 -> 30-day month
    (date(2026, 8, 31), 1, date(2026, 9, 30)),
    (date(2026, 1, 30), 1, date(2026, 2, 28)),
    (date(2026, 1, 28), 1, date(2026, 2, 28)),    # no clamping needed
    (date(2026, 2, 28), 1, date(2026, 3, 28)),    # not pushed to the month's end
    (date(2026, 12, 15), 1, date(2027, 1, 15)),   # December -> January
    (date(2026, 12, 31), 12, date(2027, 12, 31)),
    (date(2026, 5, 17), 0, date(2026, 5, 17)),
    (date(2026, 10, 31), 3, date(2027, 1, 31)),
    (date(2100, 1, 31), 1, date(2100, 2, 28)),    # 2100 is not a leap year
    (date(2000, 1, 31), 1, date(2000, 2, 29)),    # 2000 is
    (date(2026, 3, 31), -1, date(2026, 2, 28)),   # backwards, clamped as well
    (date(2026, 1, 15), -1, date(2025, 12, 15)),
])
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


_DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(9000, 12, 31))


@given(day=_DATES, months=st.integers(min_value=0, max_value=240))
def test_add_months_lands_in_the_right_month_never_past_its_end(day: date,
                                                                 months: int) -> None:
    due = add_months(day, months)
    assert due.year * 12 + due.month == day.year * 12 + day.month + months
    assert due.day <= day.day
    if due.day < day.day:  # clamped: to the month's last day
        assert (due + timedelta(days=1)).day == 1


@given(first=_DATES, second=_DATES, months=st.integers(min_value=0, max_value=240))
def test_add_months_keeps_the_order_of_dates(first: date, second: date, months: int) -> None:
    if first <= second:
        assert add_months(first, months) <= add_months(second, months)


# --- deadlines of a case --------------------------------------------------------------------


def _at(services, moment: datetime, **clock):
    """The services with the clock stopped at `moment`."""
    return dataclasses.replace(services, clock=Clock(now=lambda: moment, **clock))


@pytest.fixture
def handler(session_factory, services):
    hana = add_reviewer(session_factory, services, "hana")
    seed_categories(session_factory, {"it_fault": [hana.id]}, services=services)
    return hana


def _dates(session_factory, case_id: int) -> dict[str, date | None]:
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        members = s.execute(select(CaseMember.acknowledge_due, CaseMember.feedback_due)
                            .where(CaseMember.case_id == case_id)).all()
        assert members, "the case has a team"
        # The members' inbox copies follow the case's deadlines.
        assert set(members) == {(case.acknowledge_due, case.feedback_due)}
        return {"received_on": case.received_on, "acknowledge_due": case.acknowledge_due,
                "acknowledged_on": case.acknowledged_on, "feedback_due": case.feedback_due,
                "feedback_given_on": case.feedback_given_on}


@pytest.mark.parametrize(("moment", "received", "acknowledge_due", "feedback_due"), [
    # Seven days to acknowledge; the provisional feedback date is three months after that.
    (datetime(2027, 3, 10, 9, tzinfo=UTC), date(2027, 3, 10), date(2027, 3, 17),
     date(2027, 6, 17)),
    # 24 Jan + 7 = 31 Jan; + 3 months = 30 April (clamped).
    (datetime(2027, 1, 24, 23, 59, tzinfo=UTC), date(2027, 1, 24), date(2027, 1, 31),
     date(2027, 4, 30)),
    # Across the year end into a leap February.
    (datetime(2027, 11, 23, 0, 1, tzinfo=UTC), date(2027, 11, 23), date(2027, 11, 30),
     date(2028, 2, 29)),
    (datetime(2027, 12, 28, 12, tzinfo=UTC), date(2027, 12, 28), date(2028, 1, 4),
     date(2028, 4, 4)),
])
def test_deadlines_at_submission(session_factory, services, handler, moment, received,
                                 acknowledge_due, feedback_due) -> None:
    result = submit(session_factory, _at(services, moment))
    assert _dates(session_factory, result.case_id) == {
        "received_on": received, "acknowledge_due": acknowledge_due,
        "acknowledged_on": None, "feedback_due": feedback_due, "feedback_given_on": None}
    assert acknowledge_due - received == timedelta(days=services.config.acknowledge_days)
    assert feedback_due == add_months(acknowledge_due, services.config.feedback_months)


def test_the_settings_drive_the_deadlines(session_factory, services, handler) -> None:
    config = dataclasses.replace(services.config, acknowledge_days=10, feedback_months=2)
    sent = dataclasses.replace(_at(services, datetime(2027, 12, 22, 8, tzinfo=UTC)),
                               config=config)
    result = submit(session_factory, sent)
    dates = _dates(session_factory, result.case_id)
    assert dates["acknowledge_due"] == date(2028, 1, 1)
    assert dates["feedback_due"] == date(2028, 3, 1)
    with transaction(session_factory) as s:
        workflow.acknowledge(s, dataclasses.replace(
            _at(services, datetime(2027, 12, 31, 8, tzinfo=UTC)), config=config),
            handler.unlocked, result.case_id, "Received.")
    assert _dates(session_factory, result.case_id)["feedback_due"] == date(2028, 2, 29)


def test_week_precision_counts_from_the_monday(session_factory, services, handler) -> None:
    """At week precision the reporter's day is the Monday of the week: the deadlines run
    from it, so they fall early, never late."""
    sunday = datetime(2027, 11, 28, 20, tzinfo=UTC)
    result = submit(session_factory, _at(services, sunday, precision=DatePrecision.WEEK))
    dates = _dates(session_factory, result.case_id)
    assert dates["received_on"] == date(2027, 11, 22)  # Monday
    assert dates["acknowledge_due"] == date(2027, 11, 29)  # the next day: never later
    assert dates["feedback_due"] == date(2028, 2, 29)


def _acknowledge(s, services, who, case_id: int) -> None:
    workflow.acknowledge(s, services, who, case_id, "We received your report.")


def _not_admissible(s, services, who, case_id: int) -> None:
    workflow.decide_scope(s, services, who, case_id, ScopeDecision.NOT_ADMISSIBLE,
                          message="This is not a whistleblowing matter.")


def _accept(s, services, who, case_id: int) -> None:
    workflow.decide_scope(s, services, who, case_id, ScopeDecision.ACCEPTED,
                          lead_id=who.reviewer_id)


def _ask(s, services, who, case_id: int) -> None:
    post_reviewer_message(s, services, who, case_id, MessageKind.CLARIFICATION_REQUEST,
                          "Which floor?")


def _note(s, services, who, case_id: int) -> None:
    post_reviewer_message(s, services, who, case_id, MessageKind.INTERNAL_NOTE, "Seen.")


@pytest.mark.parametrize(("leave", "stage"), [
    (_acknowledge, CaseStatus.ACKNOWLEDGED),
    (_not_admissible, CaseStatus.NOT_ADMISSIBLE),
    (_accept, CaseStatus.UNDER_INVESTIGATION),
    (_ask, CaseStatus.INFO_NEEDED),
], ids=["acknowledge", "not-admissible", "accept", "request"])
def test_the_feedback_date_runs_from_the_acknowledgement(session_factory, services, handler,
                                                         leave, stage) -> None:
    result = submit(session_factory, _at(services, datetime(2027, 11, 23, 9, tzinfo=UTC)))
    # Late: acknowledged on 1 December (due 30 November).
    late = _at(services, datetime(2027, 12, 1, 16, tzinfo=UTC))
    with transaction(session_factory) as s:
        leave(s, late, handler.unlocked, result.case_id)
    dates = _dates(session_factory, result.case_id)
    with session_factory() as s:
        assert s.get(Case, result.case_id).status is stage
    assert dates["acknowledged_on"] == date(2027, 12, 1)
    assert dates["feedback_due"] == date(2028, 3, 1)  # 3 months from the acknowledgement
    assert dates["acknowledge_due"] == date(2027, 11, 30)  # kept: it was owed then


def test_an_early_acknowledgement_brings_the_feedback_date_forward(session_factory, services,
                                                                  handler) -> None:
    result = submit(session_factory, _at(services, datetime(2027, 11, 23, 9, tzinfo=UTC)))
    with transaction(session_factory) as s:
        _acknowledge(s, _at(services, datetime(2027, 11, 24, 9, tzinfo=UTC)),
                     handler.unlocked, result.case_id)
    assert _dates(session_factory, result.case_id)["feedback_due"] == date(2028, 2, 24)


def test_an_internal_note_acknowledges_nothing(session_factory, services, handler) -> None:
    result = submit(session_factory, _at(services, datetime(2027, 11, 23, 9, tzinfo=UTC)))
    before = _dates(session_factory, result.case_id)
    with transaction(session_factory) as s:
        _note(s, _at(services, datetime(2027, 11, 25, 9, tzinfo=UTC)), handler.unlocked,
              result.case_id)
    assert _dates(session_factory, result.case_id) == before


def test_later_stage_changes_keep_the_deadlines(session_factory, services, handler) -> None:
    """The feedback date is set once, when the case leaves "received": the investigation,
    a request for information, the decision, the outcome, closing and reopening keep it."""
    who = handler.unlocked
    result = submit(session_factory, _at(services, datetime(2027, 11, 23, 9, tzinfo=UTC)))
    case_id = result.case_id
    with transaction(session_factory) as s:
        _acknowledge(s, _at(services, datetime(2027, 11, 26, 9, tzinfo=UTC)), who, case_id)
    expected = _dates(session_factory, case_id)
    assert expected["feedback_due"] == date(2028, 2, 26)
    day = datetime(2027, 12, 1, 9, tzinfo=UTC)
    steps = [
        _ask,
        _accept,
        lambda s, sv, w, c: workflow.record_decision(s, sv, w, c, workflow.DecisionInput(
            finding=Finding.SUBSTANTIATED, root_cause=None, reasons="Seen.")),
    ]
    for step in steps:
        day += timedelta(days=9)
        with transaction(session_factory) as s:
            # The reporter's answer to the request returns the case to "acknowledged".
            case = s.get(Case, case_id)
            if case.status is CaseStatus.INFO_NEEDED:
                answer_received(s, _at(services, day), case, day.date())
            step(s, _at(services, day), who, case_id)
        assert _dates(session_factory, case_id) == expected
    day += timedelta(days=9)
    with transaction(session_factory) as s:
        workflow.give_feedback(s, _at(services, day), who, case_id, "Fixed.", "Logs.",
                               grounds_heading="Grounds:")
    expected["feedback_given_on"] = day.date()
    assert _dates(session_factory, case_id) == expected
    for later in (lambda s, sv: workflow.close_case(s, sv, who, case_id),
                  lambda s, sv: workflow.reopen_case(s, sv, who, case_id, "Again.")):
        day += timedelta(days=30)
        with transaction(session_factory) as s:
            later(s, _at(services, day))
        assert _dates(session_factory, case_id) == expected
