"""core.cases.transitions: every pair of stages is legal exactly when the table says so, and
"information needed" may go where the stage it came from could."""

from __future__ import annotations

from itertools import product

import pytest

from core.cases.transitions import (
    TRANSITIONS,
    IllegalTransition,
    check_transition,
    legal_targets,
)
from core.models import CaseStatus

S = CaseStatus
#: The table, written out independently: a change to the process must change both.
EXPECTED = {
    S.RECEIVED: {S.ACKNOWLEDGED, S.INFO_NEEDED, S.UNDER_INVESTIGATION, S.REFERRED,
                 S.NOT_ADMISSIBLE},
    S.ACKNOWLEDGED: {S.INFO_NEEDED, S.UNDER_INVESTIGATION, S.REFERRED, S.NOT_ADMISSIBLE},
    S.INFO_NEEDED: set(),
    S.UNDER_INVESTIGATION: {S.INFO_NEEDED, S.DECIDED},
    S.DECIDED: {S.FEEDBACK_GIVEN},
    S.FEEDBACK_GIVEN: {S.FOLLOW_UP, S.CLOSED, S.UNDER_INVESTIGATION},
    S.FOLLOW_UP: {S.CLOSED, S.UNDER_INVESTIGATION},
    S.REFERRED: {S.CLOSED, S.ACKNOWLEDGED},
    S.NOT_ADMISSIBLE: {S.CLOSED, S.ACKNOWLEDGED},
    S.CLOSED: {S.UNDER_INVESTIGATION, S.ACKNOWLEDGED},
}
#: Stages a request for information can be made in (core.cases.kinds).
ASKED_IN = (S.ACKNOWLEDGED, S.UNDER_INVESTIGATION)


def test_the_table_is_the_process() -> None:
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("current", "target"), [
    (c, t) for c, t in product(CaseStatus, CaseStatus) if c is not S.INFO_NEEDED])
def test_every_pair_outside_information_needed(current: CaseStatus,
                                               target: CaseStatus) -> None:
    if target in EXPECTED[current]:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition) as refused:
            check_transition(current, target)
        assert str(current) in str(refused.value) and str(target) in str(refused.value)


@pytest.mark.parametrize(("before", "target"), list(product(ASKED_IN, CaseStatus)))
def test_information_needed_goes_back_or_where_its_stage_could(before: CaseStatus,
                                                              target: CaseStatus) -> None:
    allowed = ({before} | EXPECTED[before]) - {S.INFO_NEEDED}
    assert legal_targets(S.INFO_NEEDED, before) == allowed
    if target in allowed:
        check_transition(S.INFO_NEEDED, target, before)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(S.INFO_NEEDED, target, before)


def test_no_stage_leads_back_to_received() -> None:
    assert all(S.RECEIVED not in targets for targets in TRANSITIONS.values())
    assert all(S.RECEIVED not in legal_targets(S.INFO_NEEDED, b) for b in ASKED_IN)


def _reachable(start: CaseStatus) -> set[CaseStatus]:
    seen, frontier = {start}, [(start, None)]
    while frontier:
        stage, before = frontier.pop()
        for nxt in legal_targets(stage, before):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append((nxt, stage if nxt is S.INFO_NEEDED else None))
    return seen


def test_every_stage_is_reachable_and_every_case_can_close() -> None:
    assert _reachable(S.RECEIVED) == set(CaseStatus)
    for stage in CaseStatus:
        if stage is not S.INFO_NEEDED:
            assert S.CLOSED in _reachable(stage), stage


def test_an_outcome_needs_a_decision_first() -> None:
    for stage in CaseStatus:
        if stage is not S.DECIDED:
            assert S.FEEDBACK_GIVEN not in TRANSITIONS[stage]
    assert TRANSITIONS[S.DECIDED] == {S.FEEDBACK_GIVEN}
