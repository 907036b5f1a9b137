"""core.statistics.staleness and recount: the month cells follow every change the use cases
make (a view on the next day after each step equals a full recount), a rolled-back change
marks nothing, bulk writes mark every month, and on PostgreSQL a change committed while a
month is recounted leaves it stale for the next view. SQLite and PostgreSQL. (That a change
shows only from the next day: test_figures_as_of_today.)"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from core.cases import actions as case_actions
from core.cases import workflow
from core.cases.recategorise import set_category
from core.db import transaction
from core.models import ActionStatus, Case, Satisfaction, StatisticsCell, StatisticsMonth
from core.statistics.figures import Figures, dashboard_figures
from core.statistics.periods import Period, month_of
from core.statistics.recount import refresh_months
from core.statistics.staleness import mark_all_stale
from tests.core.cases.casework_fixtures import DECISION, accepted_case, stopped_clock
from tests.core.factories import seed_categories, submit


@pytest.fixture
def fixed(services):
    return stopped_clock(services)


def _view(session_factory, period: Period, today: date) -> Figures:
    with transaction(session_factory) as s:
        return dashboard_figures(s, period, today=today)


def _recounted(session_factory, period: Period, today: date) -> Figures:
    """The figures after every month was recounted from the cases."""
    with transaction(session_factory) as s:
        mark_all_stale(s)
    return _view(session_factory, period, today)


def _stale_months(session_factory) -> dict[date, bool]:
    with session_factory() as s:
        return {m.month: m.stale for m in s.execute(select(StatisticsMonth)).scalars()}


def _stale(session_factory) -> set[date]:
    """The months marked stale (a view counts every month of its year, so most are kept)."""
    return {month for month, stale in _stale_months(session_factory).items() if stale}


def _cell(session_factory, measure: str, key: str) -> int:
    """A fact's count over all the stored months, whole-month level."""
    with session_factory() as s:
        return sum(s.execute(select(StatisticsCell.count).where(
            StatisticsCell.level == 0, StatisticsCell.measure == measure,
            StatisticsCell.key == key)).scalars())


def test_every_step_of_a_case_reaches_the_cells(session_factory, services, fixed) -> None:
    """After each use case, the incrementally kept cells give the same figures as a full
    recount, and the step shows in them."""
    today = fixed.clock.today()
    tomorrow = today + timedelta(days=1)  # when today's changes show
    period = month_of(today)
    alice, bob, case_id = accepted_case(session_factory, services, fixed)
    for _ in range(3):
        submit(session_factory, fixed)  # enough cases for the details to show

    def check() -> Figures:
        shown = _view(session_factory, period, tomorrow)
        assert _stale_months(session_factory)[period.start] is False
        assert shown == _recounted(session_factory, period, tomorrow)
        return shown

    first = check()
    assert first.total.value == 4 and first.details is not None
    assert _cell(session_factory, "scope", "accepted") == 1
    with transaction(session_factory) as s:
        workflow.record_decision(s, fixed, bob.unlocked, case_id, DECISION)
    assert _stale_months(session_factory)[period.start] is True
    check()
    assert _cell(session_factory, "finding", "substantiated") == 1
    with transaction(session_factory) as s:
        action = case_actions.add_action(s, fixed, bob.unlocked, case_id, title="Fix",
                                         notes="", owner_id=alice.id,
                                         due_on=today + timedelta(days=3))
        action_id = action.id
    check()
    with transaction(session_factory) as s:
        case_actions.update_action(s, fixed, alice.unlocked, case_id, action_id,
                                   status=ActionStatus.DONE, note="Done.")
    check()
    assert _cell(session_factory, "action", "done_on_time") == 1
    with transaction(session_factory) as s:
        workflow.give_feedback(s, fixed, bob.unlocked, case_id, "Fixed.", "Logs.",
                               grounds_heading="Grounds")
    check()
    assert _cell(session_factory, "feedback", "on_time") == 1
    with transaction(session_factory) as s:
        set_category(s, fixed, bob.unlocked, case_id, "security")
    check()
    with transaction(session_factory) as s:
        s.execute(update(Case).where(Case.id == case_id)
                  .values(satisfaction=Satisfaction.SATISFIED))  # a bulk write: every month
    check()
    assert _cell(session_factory, "answer", "satisfied") == 1


def test_a_rolled_back_change_marks_nothing(session_factory, services, fixed) -> None:
    today = fixed.clock.today()
    tomorrow = today + timedelta(days=1)  # when today's changes show
    period = month_of(today)
    _alice, bob, case_id = accepted_case(session_factory, services, fixed)
    _view(session_factory, period, tomorrow)
    assert period.start in _stale_months(session_factory) and not _stale(session_factory)
    with pytest.raises(RuntimeError), transaction(session_factory) as s:
        workflow.record_decision(s, fixed, bob.unlocked, case_id, DECISION)
        raise RuntimeError("the request failed after the decision")
    assert period.start in _stale_months(session_factory) and not _stale(session_factory)


def test_a_case_moved_to_another_month_marks_both(session_factory, services, fixed) -> None:
    today = fixed.clock.today()
    tomorrow = today + timedelta(days=1)  # when today's changes show
    seed_categories(session_factory)
    case_id = submit(session_factory, fixed).case_id
    earlier = month_of(today.replace(day=1) - timedelta(days=40))
    _view(session_factory, month_of(today), tomorrow)
    _view(session_factory, earlier, tomorrow)
    with transaction(session_factory) as s:
        case = s.get(Case, case_id)
        assert case is not None
        case.received_on = earlier.start + timedelta(days=2)
    assert _stale(session_factory) == {month_of(today).start, earlier.start}
    assert _view(session_factory, earlier, tomorrow).total.shown == "<3"
    assert _view(session_factory, month_of(today), tomorrow).total.shown == "0"


def test_a_change_committed_during_a_recount_leaves_the_month_stale(
        session_factory, services, fixed, backend) -> None:
    """PostgreSQL runs the two at once: the writer's commit waits for the recount's row lock,
    then marks the month stale again, so the next view counts the change."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    today = fixed.clock.today()
    tomorrow = today + timedelta(days=1)  # when today's changes show
    month = month_of(today).start
    seed_categories(session_factory)
    case_id = submit(session_factory, fixed).case_id
    recount = session_factory()
    refresh_months(recount, [month], tomorrow)  # holds the month's row lock until it commits
    committed: list[float] = []

    def writer() -> None:
        with transaction(session_factory) as s:
            s.execute(update(Case).where(Case.id == case_id).values(
                satisfaction=Satisfaction.NOT_SATISFIED))
        committed.append(time.monotonic())

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.5)
    assert committed == []  # waiting for the recount
    released = time.monotonic()
    recount.commit()
    recount.close()
    thread.join(timeout=10)
    assert committed and committed[0] >= released
    assert _stale_months(session_factory)[month] is True
    shown = _view(session_factory, month_of(today), tomorrow)
    assert shown == _recounted(session_factory, month_of(today), tomorrow)


def test_rewriting_rows_unchanged_marks_nothing(session_factory, services, fixed) -> None:
    """`candor cleanup` rewrites reporters' rows unchanged every day (core.operations.restamp):
    that must not make the next view recount every month."""
    from core.operations.restamp import restamp_reporter_rows

    today = fixed.clock.today()
    tomorrow = today + timedelta(days=1)  # when today's changes show
    seed_categories(session_factory)
    submit(session_factory, fixed)
    _view(session_factory, month_of(today), tomorrow)
    assert month_of(today).start in _stale_months(session_factory)
    assert not _stale(session_factory)
    assert restamp_reporter_rows(lambda: transaction(session_factory), fixed.clock,
                                 whole_history=True) > 0
    assert month_of(today).start in _stale_months(session_factory)
    assert not _stale(session_factory)
