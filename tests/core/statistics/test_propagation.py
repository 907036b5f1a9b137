"""core.statistics.propagation: bounds narrowed through every sum at once never exclude a
solution, and they find the chains of sums that no single sum shows."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from core.statistics.propagation import narrow

INF = math.inf


def test_a_chain_of_sums_pins_what_no_single_sum_does() -> None:
    # Figures: 0 = x ("<3": 1 or 2), 1 = y (3 or more), 2 = total shown 5, 3 = w shown 3.
    # x + y = 5 alone leaves x 1 or 2; y + 0 = w (y is w's only part) pins y, then x.
    lines = [[(0, 1), (1, 1), (2, -1)], [(1, 1), (3, -1)]]
    found = narrow(lines, [], [1, 3, 5, 3], [2, INF, 5, 3])
    assert (found.low[0], found.high[0]) == (2, 2)
    assert found.high_reason[1] == 1 and found.low_reason[0] == 0


def test_a_part_is_at_most_its_whole() -> None:
    # x + y = z, z at most w = 4 (shown); x shown 3: y is at most 1, and at least 0.
    found = narrow([[(0, 1), (1, 1), (2, -1)]], [(2, 3)], [3, 0, 0, 4], [3, INF, INF, 4])
    assert (found.low[1], found.high[1]) == (0, 1)
    assert found.high[2] == 4 and found.low[2] == 3


def test_unknown_figures_stay_unbounded() -> None:
    found = narrow([[(0, 1), (1, 1), (2, -1)]], [], [0, 0, 0], [INF, INF, INF])
    assert found.high == [INF, INF, INF] and found.low == [0, 0, 0]


@st.composite
def systems(draw: st.DrawFn) -> tuple[int, list[int], list[list[tuple[int, int]]],
                                      list[float], list[float]]:
    """A small system of sums with a known solution, and bounds on each figure that hold for
    it: `free` figures first, then each line's total, a new figure that adds up some of those
    before it (so a total can be a part of a later line: chains)."""
    free = draw(st.integers(2, 4))
    truth = draw(st.lists(st.integers(0, 3), min_size=free, max_size=free))
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        parts = draw(st.lists(st.integers(0, len(truth) - 1), min_size=1, max_size=3,
                              unique=True))
        lines.append([*((i, 1) for i in parts), (len(truth), -1)])
        truth.append(sum(truth[i] for i in parts))
    low: list[float] = []
    high: list[float] = []
    for value in truth:
        kind = draw(st.sampled_from(["shown", "small", "some", "open"]))
        if kind == "shown":
            low.append(value), high.append(value)
        elif kind == "small" and 0 < value < 3:
            low.append(1), high.append(2)
        elif kind == "some":
            low.append(draw(st.integers(0, value))), high.append(INF)
        else:
            low.append(0), high.append(INF)
    return free, truth, lines, low, high


def _solutions(free: int, lines: list[list[tuple[int, int]]], low: list[float],
               high: list[float]) -> list[list[int]]:
    """Every solution whose free figures are at most 4 (the totals follow from them)."""
    found = []
    ranges = [range(int(low[i]), int(min(high[i], 4)) + 1) for i in range(free)]
    for values in itertools.product(*ranges):
        figures = list(values)
        for line in lines:
            figures.append(sum(figures[i] for i, c in line if c > 0))
        if all(low[i] <= v <= high[i] for i, v in enumerate(figures)):
            found.append(figures)
    return found


@settings(max_examples=300, deadline=None)
@given(systems())
def test_no_solution_is_ever_excluded(system) -> None:  # type: ignore[no-untyped-def]
    free, truth, lines, low, high = system
    found = narrow(lines, [], low, high)
    solutions = _solutions(free, lines, low, high)
    assert truth in solutions
    for values in solutions:
        for i, value in enumerate(values):
            assert found.low[i] <= value <= found.high[i], (values, i, found)
