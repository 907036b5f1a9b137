"""Small-cell suppression against the exact attacker of test_exact_attacker.py in years whose
reporters answer: referred and rejected cases answer too, and many cases still wait for their
scope decision (so fewer are acknowledged). The attacker knows that a reporter answers only
once the outcome, a referral or a rejection is sent, after the case left "received"; before
the suppression knew that too (2026-12-07), it pinned a count in 2 of 248 such years (seeds
0-247, 4-25 cases): the two below.

The attacker also takes the cases that owe no feedback to be exactly those referred or
rejected: true unless one of them was reopened, which is rare enough to assume. An outside
tester pinned a quarter's counts so (`test_a_reader_who_assumes_no_reopening_pins_nothing`)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.models import Channel, Finding, RootCause, SanctionType, Satisfaction, ScopeDecision
from core.statistics.month_cells import (
    NO_ANSWER,
    NO_DECISION,
    NOT_DUE,
    NOT_OWED,
    ON_TIME,
    PENDING,
    UNSPECIFIED,
    MonthCells,
)
from core.statistics.year_views import YearViews, count_year, link_year
from tests.core.statistics.test_exact_attacker import (
    _rich_deadlines,
    pinned_small_counts,
    rich_year,
)
from tests.core.statistics.test_year_views import MONTHS, TODAY, YEAR

_CLOSED = (ScopeDecision.REFERRED.value, ScopeDecision.NOT_ADMISSIBLE.value)


def _answering_case(rng: random.Random, blocks: defaultdict[str, Counter[str]]) -> None:
    """Count one case into a month's blocks: two in five still without a scope decision;
    half the accepted ones decided; a decided, referred or rejected case answers 7 times in
    10; deadlines as the workflow keeps them."""
    blocks["cases"][""] += 1
    blocks["channel"][rng.choice([c.value for c in Channel])] += 1
    scope = rng.choice([ScopeDecision.ACCEPTED.value, *_CLOSED, PENDING, PENDING])
    blocks["scope"][scope] += 1
    decided = scope == ScopeDecision.ACCEPTED.value and rng.random() < 0.5
    if decided:
        blocks["finding"][rng.choice([f.value for f in Finding])] += 1
        blocks["cause"][UNSPECIFIED] += 1
    else:
        blocks["finding"][NO_DECISION] += 1
        blocks["cause"][NO_DECISION] += 1
    answers = (decided or scope in _CLOSED) and rng.random() < 0.7
    blocks["answer"][rng.choice([a.value for a in Satisfaction]) if answers else NO_ANSWER] += 1
    _rich_deadlines(rng, blocks, scope, decided)


def answering_year(seed: int, cases: int, categories: int = 3) -> tuple[YearViews, int]:
    """A year of `cases` cases in 2 to 6 of its months (`_answering_case`)."""
    return rich_year(seed, cases, categories, busy_months=(2, 6), count_case=_answering_case)


@pytest.mark.parametrize(("seed", "cases"), [(98, 15), (207, 20)])
def test_years_whose_answers_leaked_no_longer_do(seed: int, cases: int) -> None:
    """The answers of a month (98) and the acknowledgements of a quarter (207) were pinned
    by "answers are at most the acknowledged cases" (commit ae2159e and before)."""
    year, limit = answering_year(seed, cases)
    assert pinned_small_counts(year, limit) == []


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cases=st.integers(4, 25))
def test_no_solver_pins_a_small_count_of_an_answering_year(seed: int, cases: int) -> None:
    year, limit = answering_year(seed, cases)
    assert pinned_small_counts(year, limit) == []


def test_a_reader_who_assumes_no_reopening_pins_nothing() -> None:
    """An outside tester's quarter (2026-12-07), seven cases: scope accepted 3, referred 1,
    not admissible 1, no decision yet 2; feedback on time 1, not yet due 4, not owed 2. With
    "not owed = referred + not admissible" every "<3" of it had one possible value (referred
    1, not admissible 1, no scope decision 2, on time 1, not owed 2)."""
    accepted, referred, rejected = (ScopeDecision.ACCEPTED.value, ScopeDecision.REFERRED.value,
                                    ScopeDecision.NOT_ADMISSIBLE.value)
    # (month, scope, finding, cause, sanctions, feedback)
    cases = [
        ("2026-10", PENDING, NO_DECISION, NO_DECISION, (), NOT_DUE),
        ("2026-11", referred, NO_DECISION, NO_DECISION, (), NOT_OWED),
        ("2026-12", accepted, Finding.SUBSTANTIATED.value, RootCause.TECHNICAL_DEFECT.value,
         (SanctionType.TRAINING.value,), ON_TIME),
        ("2026-12", accepted, Finding.SUBSTANTIATED.value, RootCause.OTHER.value,
         (SanctionType.OTHER.value,), NOT_DUE),
        ("2026-12", accepted, NO_DECISION, NO_DECISION, (), NOT_DUE),
        ("2026-12", rejected, NO_DECISION, NO_DECISION, (), NOT_OWED),
        ("2026-12", PENDING, NO_DECISION, NO_DECISION, (), NOT_DUE),
    ]
    blocks: dict[str, defaultdict[str, Counter[str]]] = {m: defaultdict(Counter) for m in MONTHS}
    for month, scope, finding, cause, sanctions, feedback in cases:
        counts = blocks[month]
        for measure, row in (("cases", ""), ("channel", Channel.WEB.value), ("scope", scope),
                             ("finding", finding), ("cause", cause), ("answer", NO_ANSWER),
                             ("ack", ON_TIME), ("feedback", feedback)):
            counts[measure][row] += 1
        for sanction in sanctions:
            counts["sanction"][sanction] += 1
    months = {m: MonthCells(b, Counter({1: sum(b["cases"].values())}) if b["cases"] else
                            Counter()) for m, b in blocks.items()}
    year = link_year(count_year(months, YEAR, TODAY), YEAR, [1, 2])
    assert pinned_small_counts(year, len(cases)) == []
