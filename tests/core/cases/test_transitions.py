"""core.cases.transitions, checked pair by pair against its own table and for the properties
the process needs (nothing returns to "received", every stage reachable, every reachable
stage can still end). Pure: no database."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest

from core.cases.stages import DEFAULT_RETURN
from core.cases.transitions import (
    ENDED,
    REOPEN_TARGETS,
    TRANSITIONS,
    IllegalTransition,
    check_transition,
    legal_targets,
)
from core.errors import Conflict
from core.models import CaseStatus

S = CaseStatus
ALL_PAIRS = list(itertools.product(CaseStatus, CaseStatus))
#: The stages a request for information can be made in (they may go to INFO_NEEDED).
REQUEST_ORIGINS = sorted(s for s in CaseStatus if S.INFO_NEEDED in TRANSITIONS[s])


def _id(pair: tuple[CaseStatus, CaseStatus]) -> str:
    return f"{pair[0]}->{pair[1]}"


def test_the_table_names_every_stage_and_only_stages() -> None:
    assert set(TRANSITIONS) == set(CaseStatus)
    for targets in TRANSITIONS.values():
        assert isinstance(targets, frozenset)
        assert targets <= set(CaseStatus)


def test_the_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[S.RECEIVED] = frozenset()  # type: ignore[index]


def test_no_stage_goes_to_itself() -> None:
    for stage, targets in TRANSITIONS.items():
        assert stage not in targets, stage


def _expected(current: CaseStatus) -> frozenset[CaseStatus]:
    """What the table allows from `current` ("information needed" with no origin known:
    as if asked in "acknowledged", core.cases.stages.DEFAULT_RETURN)."""
    if current is S.INFO_NEEDED:
        return frozenset({DEFAULT_RETURN} | TRANSITIONS[DEFAULT_RETURN]) - {S.INFO_NEEDED}
    return TRANSITIONS[current]


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=_id)
def test_a_move_is_legal_exactly_when_the_table_says(pair) -> None:
    current, target = pair
    if target in _expected(current):
        check_transition(current, target)
        assert target in legal_targets(current)
    else:
        with pytest.raises(IllegalTransition) as refused:
            check_transition(current, target)
        assert target not in legal_targets(current)
        _names_both(refused.value, current, target)


def _names_both(error: IllegalTransition, current: CaseStatus, target: CaseStatus) -> None:
    message = str(error)
    assert str(current) in message and str(target) in message
    assert message.index(str(current)) < message.rindex(str(target))
    assert (error.current, error.target) == (current, target)
    assert isinstance(error, Conflict)  # shown to the user as a conflict, not a crash


def _origin(before: CaseStatus) -> CaseStatus:
    """A request made on a received report acknowledged it (and a request while waiting is
    the same wait): both count as made in "acknowledged"."""
    return DEFAULT_RETURN if before in (S.RECEIVED, S.INFO_NEEDED) else before


@pytest.mark.parametrize("before", REQUEST_ORIGINS)
def test_info_needed_goes_back_or_wherever_its_origin_could(before: CaseStatus) -> None:
    origin = _origin(before)
    expected = ({origin} | TRANSITIONS[origin]) - {S.INFO_NEEDED}
    assert legal_targets(S.INFO_NEEDED, before) == expected
    for target in CaseStatus:
        if target in expected:
            check_transition(S.INFO_NEEDED, target, before)
        else:
            with pytest.raises(IllegalTransition) as refused:
                check_transition(S.INFO_NEEDED, target, before)
            _names_both(refused.value, S.INFO_NEEDED, target)


@pytest.mark.parametrize("before", sorted(CaseStatus))
def test_info_needed_formula_holds_for_any_recorded_origin(before: CaseStatus) -> None:
    """Whatever stage the log names as the origin, the rule is the same formula."""
    origin = _origin(before)
    assert legal_targets(S.INFO_NEEDED, before) == (
        ({origin} | TRANSITIONS[origin]) - {S.INFO_NEEDED})
    assert S.RECEIVED not in legal_targets(S.INFO_NEEDED, before)


def test_info_needed_without_a_known_origin_behaves_as_from_acknowledged() -> None:
    assert legal_targets(S.INFO_NEEDED) == legal_targets(S.INFO_NEEDED, S.ACKNOWLEDGED)
    assert legal_targets(S.INFO_NEEDED) == (
        ({S.ACKNOWLEDGED} | TRANSITIONS[S.ACKNOWLEDGED]) - {S.INFO_NEEDED})


def test_the_origin_only_matters_for_info_needed() -> None:
    for current, before in itertools.product(CaseStatus, CaseStatus):
        if current is not S.INFO_NEEDED:
            assert legal_targets(current, before) == TRANSITIONS[current]


def test_info_needed_never_stays_info_needed() -> None:
    for before in CaseStatus:
        assert S.INFO_NEEDED not in legal_targets(S.INFO_NEEDED, before)


def test_a_request_from_received_never_returns_to_received() -> None:
    """A request made on a received report acknowledges it: the reporter's answer cannot
    bring the case back to "received" (the origin recorded for it is ACKNOWLEDGED)."""
    assert S.RECEIVED in REQUEST_ORIGINS
    assert S.RECEIVED not in legal_targets(S.INFO_NEEDED)


def test_nothing_goes_back_to_received() -> None:
    for stage in CaseStatus:
        assert S.RECEIVED not in TRANSITIONS[stage], stage
        if stage is not S.INFO_NEEDED:
            with pytest.raises(IllegalTransition):
                check_transition(stage, S.RECEIVED)
    # From "information needed", for every origin the log can name (core.cases.stages
    # records a request made on a received report as made in "acknowledged").
    for before in _ORIGINS:
        assert S.RECEIVED not in legal_targets(S.INFO_NEEDED, before), before
        with pytest.raises(IllegalTransition):
            check_transition(S.INFO_NEEDED, S.RECEIVED, before)


def test_info_needed_never_offers_received_whatever_origin_it_is_given() -> None:
    for before in CaseStatus:
        assert S.RECEIVED not in legal_targets(S.INFO_NEEDED, before), before


def _origin(stage: CaseStatus) -> CaseStatus:
    """The origin core.cases.stages records for a request made in `stage`."""
    return DEFAULT_RETURN if stage in (S.RECEIVED, S.INFO_NEEDED) else stage


#: Every origin a case in "information needed" can have.
_ORIGINS = sorted({_origin(s) for s in REQUEST_ORIGINS})

State = tuple[CaseStatus, CaseStatus | None]


def _successors(state: State) -> Iterable[State]:
    """Next (stage, origin) states: "information needed" remembers where it was asked."""
    stage, before = state
    for target in legal_targets(stage, before):
        yield target, (_origin(stage) if target is S.INFO_NEEDED else None)


def _reachable_states(start: State) -> set[State]:
    """Every (stage, origin) state reachable from `start`, `start` included (BFS)."""
    seen = {start}
    frontier = [start]
    while frontier:
        for nxt in _successors(frontier.pop(0)):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


_FROM_RECEIVED = _reachable_states((S.RECEIVED, None))


def test_every_stage_is_reachable_from_received() -> None:
    assert {stage for stage, _ in _FROM_RECEIVED} == set(CaseStatus)


def test_received_is_left_for_good() -> None:
    assert [s for s in _FROM_RECEIVED if s[0] is S.RECEIVED] == [(S.RECEIVED, None)]


@pytest.mark.parametrize("state", sorted(_FROM_RECEIVED, key=str),
                         ids=lambda s: f"{s[0]}(from {s[1]})" if s[1] else str(s[0]))
def test_every_reachable_stage_can_still_be_closed(state: State) -> None:
    """No dead end: from any state a case can reach, the process can still close it."""
    assert S.CLOSED in {stage for stage, _ in _reachable_states(state)}


def test_the_usual_path_is_legal_step_by_step() -> None:
    path = [S.RECEIVED, S.ACKNOWLEDGED, S.UNDER_INVESTIGATION, S.DECIDED, S.FEEDBACK_GIVEN,
            S.FOLLOW_UP, S.CLOSED]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


def test_a_decision_needs_an_investigation() -> None:
    """Only an investigated case is decided; the outcome follows a decision."""
    assert [s for s in CaseStatus if S.DECIDED in TRANSITIONS[s]] == [S.UNDER_INVESTIGATION]
    assert [s for s in CaseStatus if S.FEEDBACK_GIVEN in TRANSITIONS[s]] == [S.DECIDED]


def test_reopening_targets_are_legal_from_a_closed_case() -> None:
    for target in REOPEN_TARGETS:
        check_transition(S.CLOSED, target)
    assert {S.CLOSED} == ENDED
