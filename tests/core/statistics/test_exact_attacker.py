"""Small-cell suppression against an exact attacker: an integer solver (scipy's HiGHS) given
every figure the seventeen views of a year show, and every sum a reader knows holds between
them, asked whether a hidden count of 1 or 2 could be anything else.

The attacker is built here from the views' markers and the structure of the dashboard (each
table adds up to its view's cases, a quarter is its months, the year its quarters, no count is
more than its view's cases), not from the suppression's own list of sums. Before the bounds
were propagated through all sums at once (core.statistics.propagation, 2026-12-07) it pinned
such a count in 24 of 100 random small years; the years below are four of them.

These years have few kinds of figure filled. In richer years (every table filled, busy
months) a second reader's solver still pins a count in some (core.statistics.suppression's
docstring: not yet closed), so this test guards the years it generates, not every year.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from core.statistics.suppression import SMALL
from core.statistics.year_views import ACTION_ROWS, PARTITIONS, YearViews, figure_key
from tests.core.statistics.test_year_views import (
    MONTHS,
    QUARTERS,
    WHOLE,
    kinds_of_figure,
    synthetic_year,
    true_count,
)

Key = tuple[str, str, str]


def _kinds(year: YearViews) -> list[tuple[str, str]]:
    """(measure, row) of every figure a view has."""
    return [("cases", ""), ("actions", ""), *(("category", str(c)) for c in year.category_ids),
            *kinds_of_figure(), *(("action", row) for row in ACTION_ROWS)]


def _sums(year: YearViews) -> Iterator[tuple[list[Key], Key]]:
    """Every sum a reader of the dashboard knows: (parts, whole)."""
    labels = [*MONTHS, *QUARTERS, WHOLE]
    for label in labels:
        cases = (label, "cases", "")
        yield [(label, "category", str(c)) for c in year.category_ids], cases
        for measure, rows in PARTITIONS.items():
            yield [figure_key(label, measure, row) for row in rows], cases
        yield [(label, "action", row) for row in ACTION_ROWS], (label, "actions", "")
    for measure, row in _kinds(year):
        for quarter, months in QUARTERS.items():
            yield [(month, measure, row) for month in months], (quarter, measure, row)
        yield [(quarter, measure, row) for quarter in QUARTERS], (WHOLE, measure, row)


class Attacker:
    """The integer program of everything a year's views show."""

    def __init__(self, year: YearViews, limit: int) -> None:
        labels = [*MONTHS, *QUARTERS, WHOLE]
        keys = list(dict.fromkeys(figure_key(label, measure, row) if measure not in (
            "cases", "actions", "category") else (label, measure, row)
            for label in labels for measure, row in _kinds(year)))
        self.index = {key: i for i, key in enumerate(keys)}
        self.cells = {key: year.figures.cell(key) for key in keys}
        self.low = np.zeros(len(keys))
        self.high = np.full(len(keys), float(limit))
        for key, cell in self.cells.items():
            if not cell.suppressed:
                self.low[self.index[key]] = self.high[self.index[key]] = cell.value
            elif cell.shown == SMALL:
                self.low[self.index[key]], self.high[self.index[key]] = 1, 2
        rows: list[tuple[dict[int, int], float, float]] = []
        for parts, whole in _sums(year):
            terms: dict[int, int] = {}
            for part in parts:
                terms[self.index[part]] = terms.get(self.index[part], 0) + 1
            terms[self.index[whole]] = terms.get(self.index[whole], 0) - 1
            rows.append((terms, 0, 0))
        for key in keys:  # no count is more than its view's cases (or actions)
            label, measure, _row = key
            whole = (label, "actions" if measure == "action" else "cases", "")
            if key != whole and measure != "cases":
                rows.append(({self.index[key]: 1, self.index[whole]: -1}, -np.inf, 0))
        matrix = lil_matrix((len(rows), len(keys)))
        for number, (terms, _low, _high) in enumerate(rows):
            for i, coefficient in terms.items():
                matrix[number, i] = coefficient
        self.constraints = LinearConstraint(matrix.tocsr(), [r[1] for r in rows],
                                            [r[2] for r in rows])

    def feasible(self, key: Key | None = None, low: float = 0, high: float = 0) -> bool:
        """Whether the views allow the figure `key` between `low` and `high` (any: None)."""
        lows, highs = self.low.copy(), self.high.copy()
        if key is not None:
            lows[self.index[key]], highs[self.index[key]] = low, high
        found = milp(np.zeros(len(lows)), constraints=self.constraints,
                     bounds=Bounds(lows, highs), integrality=np.ones(len(lows)))
        return bool(found.status == 0)


def pinned_small_counts(year: YearViews, limit: int) -> list[Key]:
    """The hidden figures of 1 or 2 that the views leave one possible value."""
    attacker = Attacker(year, limit)
    assert attacker.feasible(), "the truth must satisfy what the views show"
    pinned = []
    for key, cell in attacker.cells.items():
        value = true_count(year, *key)
        if not cell.suppressed or not 0 < value < 3:
            continue
        i = attacker.index[key]
        if not any(attacker.feasible(key, low, high)
                   for low, high in ((attacker.low[i], value - 1), (value + 1, attacker.high[i]))
                   if low <= high):
            pinned.append(key)
    return pinned


@pytest.mark.parametrize(("seed", "cases"), [(2724768391, 15), (207388624, 30),
                                             (2428605135, 11), (776213899, 22)])
def test_years_that_leaked_to_a_solver_no_longer_do(seed: int, cases: int) -> None:
    year, limit = synthetic_year(seed, cases)
    assert pinned_small_counts(year, limit) == []


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cases=st.integers(4, 30))
def test_no_solver_pins_a_small_count(seed: int, cases: int) -> None:
    year, limit = synthetic_year(seed, cases)
    assert pinned_small_counts(year, limit) == []
