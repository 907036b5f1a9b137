"""core.cases.transitions against the process written out independently: a change to the
process must change both (every pair, origins and reachability: test_transitions.py)."""

from __future__ import annotations

from core.cases.transitions import (
    TRANSITIONS,
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


def test_an_outcome_needs_a_decision_first() -> None:
    for stage in CaseStatus:
        if stage is not S.DECIDED:
            assert S.FEEDBACK_GIVEN not in TRANSITIONS[stage]
    assert TRANSITIONS[S.DECIDED] == {S.FEEDBACK_GIVEN}
