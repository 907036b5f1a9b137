"""core.statistics.exact_audit: which hidden counts an integer solver pins, against brute force
over small systems, and the remedy it finds for one."""

from __future__ import annotations

import itertools
import logging
import random

import pytest

from core.statistics.exact_audit import Model, Remedies, pinned_counts
from core.statistics.joint import JointSums
from core.statistics.propagation import Terms, narrow

INF = float("inf")


def _audit(constraints: list[Terms], low: list[float], high: list[float],
           sensitive: dict[int, int], free: set[int] | None = None,
           at_most: list[tuple[int, int]] | None = None) -> set[int]:
    """The pinned figures, found with the bounds propagation gives."""
    pairs = at_most or []
    narrowed = narrow(constraints, pairs, low, high)
    return set(pinned_counts(Model(constraints, pairs), (narrowed.low, narrowed.high),
                             sensitive, set() if free is None else free))


def test_a_pin_that_needs_three_sums_added_up() -> None:
    """x + y = 3, y + z = 3, x + z = 2 with x, y, z withheld: bound propagation stalls at
    x, z in 0..2 and y in 1..3, but the three sums together leave x = 1, y = 2, z = 1."""
    constraints: list[Terms] = [[(0, 1), (1, 1), (3, -1)], [(1, 1), (2, 1), (3, -1)],
                                [(0, 1), (2, 1), (4, -1)]]
    low, high = [0, 0, 0, 3, 2], [INF, INF, INF, 3, 2]
    narrowed = narrow(constraints, [], low, high)
    assert not any(narrowed.pinned(i) for i in range(3)), "propagation alone must miss it"
    assert _audit(constraints, low, high, {0: 1, 1: 2, 2: 1}) == {0, 1, 2}


def test_the_remedy_is_a_figure_whose_hiding_frees_the_count() -> None:
    """The three sums above, and a fourth that does not touch x: w + v = 5, both shown.
    Hiding w (first in line, as 3 or more) would not free x; hiding the total 2 of x + z
    would. The remedy says x is pinned and names that total, whichever order they come in."""
    constraints: list[Terms] = [[(0, 1), (1, 1), (3, -1)], [(1, 1), (2, 1), (3, -1)],
                                [(0, 1), (2, 1), (4, -1)], [(5, 1), (6, 1), (7, -1)]]
    low = [0, 0, 0, 3, 2, 3, 2, 5]
    high = [INF, INF, INF, 3, 2, 3, 2, 5]
    options = [(5, 3, INF), (4, 0, INF)]
    remedies = Remedies(Model(constraints), (low, high))
    assert remedies.find(0, 1, options) == (True, 1)
    assert remedies.find(0, 1, options[::-1]) == (True, 0)
    # None frees it alone: the first tried is taken all the same (a later round adds more).
    assert remedies.find(0, 1, options[:1]) == (True, 0)
    assert remedies.find(0, 1, []) == (True, None)
    remedies.hide(4, 0, INF)
    assert remedies.find(0, 1, options) == (False, None), "once hidden, x is free"


def test_counts_with_another_possible_value_are_free() -> None:
    """x + y = 3 with x and y each "<3": 1 + 2 or 2 + 1, neither is pinned."""
    constraints: list[Terms] = [[(0, 1), (1, 1), (2, -1)]]
    assert _audit(constraints, [1, 1, 3], [2, 2, 3], {0: 1, 1: 2}) == set()


def test_a_part_at_most_its_whole_can_pin() -> None:
    """x + y = 4, y "<3", x at most a shown 2: x = 2 and y = 2, by the pair alone."""
    constraints: list[Terms] = [[(0, 1), (1, 1), (2, -1)]]
    assert _audit(constraints, [0, 1, 4, 2], [INF, 2, 4, 2], {1: 2}, at_most=[(0, 3)]) == {1}


def test_figures_proven_free_are_not_asked_again() -> None:
    """`free` is kept across audits (a solution stays one as bounds widen): a figure in it is
    not reported even where it would now be pinned, and the figures proven free join it."""
    constraints: list[Terms] = [[(0, 1), (1, 1), (2, -1)]]
    free: set[int] = {0}
    assert _audit(constraints, [0, 1, 1], [INF, 2, 1], {0: 1}, free) == set()
    free = set()
    assert _audit(constraints, [1, 1, 3], [2, 2, 3], {0: 1, 1: 2}, free) == set()
    assert free == {0, 1}


def _brute_force(constraints: list[Terms], at_most: list[tuple[int, int]], low: list[float],
                 high: list[float]) -> list[set[int]]:
    """Every value each figure takes in some solution (bounds finite)."""
    values: list[set[int]] = [set() for _ in low]
    ranges = [range(int(lo), int(hi) + 1) for lo, hi in zip(low, high, strict=True)]
    for point in itertools.product(*ranges):
        if all(sum(c * point[i] for i, c in terms) == 0 for terms in constraints) and all(
                point[part] <= point[whole] for part, whole in at_most):
            for i, v in enumerate(point):
                values[i].add(v)
    return values


def _random_system(rng: random.Random) -> tuple[list[int], list[float], list[float],
                                               list[Terms], list[tuple[int, int]]]:
    """Four counts with shown, "<3", "3 or more" and withheld markers (bounded, so that
    every solution can be listed), three sums of some of them (one of the totals perhaps
    withheld) and a few at-most pairs: the truth, the bounds, the sums and the pairs."""
    truth = [rng.choice([0, 1, 1, 2, 2, 3, 4]) for _ in range(4)]
    low: list[float] = []
    high: list[float] = []
    for v in truth:
        marker = rng.choice(["shown", "small", "complement", "withheld"])
        if marker == "small" and v in (1, 2):
            low.append(1)
            high.append(2)
        elif marker == "complement" and v >= 3:
            low.append(3)
            high.append(6)
        elif marker == "withheld":
            low.append(0)
            high.append(6)
        else:
            low.append(v)
            high.append(v)
    constraints: list[Terms] = []
    hidden_total = rng.choice([None, 4, 5, 6])
    for total in (4, 5, 6):
        parts = rng.sample(range(4), rng.randint(2, 4))
        truth.append(sum(truth[i] for i in parts))
        low.append(0 if total == hidden_total else truth[total])
        high.append(16 if total == hidden_total else truth[total])
        constraints.append([*((i, 1) for i in parts), (total, -1)])
    at_most = [(a, b) for a, b in itertools.permutations(range(4), 2)
               if truth[a] <= truth[b] and rng.random() < 0.15]
    return truth, low, high, constraints, at_most


@pytest.mark.parametrize("seed", range(150))
def test_the_audit_agrees_with_brute_force(seed: int) -> None:
    """Random systems (`_random_system`): the audit reports exactly the sensitive counts
    that have one possible value."""
    truth, low, high, constraints, at_most = _random_system(random.Random(seed))
    sensitive = {i: v for i, v in enumerate(truth) if low[i] != high[i] and 0 < v < 3}
    values = _brute_force(constraints, at_most, low, high)
    assert all(v in values[i] for i, v in enumerate(truth)), "the truth is a solution"
    pins = _audit(constraints, low, high, sensitive, at_most=at_most)
    assert pins == {i for i in sensitive if values[i] == {truth[i]}}


@pytest.mark.parametrize("seed", range(100))
def test_remedies_know_which_counts_are_still_pinned(seed: int) -> None:
    """Random systems, each sensitive count in turn, the remedy found for it hidden before
    the next (as a round of JointSums does): `find` says a count is pinned exactly where
    brute force over the bounds of the moment finds it one possible value, whether it
    answers from a solution it kept from an earlier remedy or from a new solve."""
    truth, low, high, constraints, at_most = _random_system(random.Random(seed))
    remedies = Remedies(Model(constraints, at_most), (low, high))
    low, high = list(low), list(high)
    for leak in (i for i, v in enumerate(truth) if low[i] != high[i] and 0 < v < 3):
        options = [(i, 0.0, 6.0) for i in range(4)  # a shown count withheld (the bounds
                   if low[i] == high[i] and i != leak]  # of `_random_system`, for brute force)
        values = _brute_force(constraints, at_most, low, high)
        pinned, found = remedies.find(leak, truth[leak], options)
        assert pinned == (values[leak] == {truth[leak]})
        if found is not None:
            figure, floor, ceiling = options[found]
            remedies.hide(figure, floor, ceiling)
            low[figure], high[figure] = floor, ceiling


def test_a_count_left_pinned_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A count nothing can protect (the other figures of its sum are fixed, as a year's
    total is) stays pinned, and the operator is told how many, nothing more."""
    sums = JointSums()
    small = sums.add(1)
    other = sums.add(5, fixed=True)
    total = sums.add(6, fixed=True)
    sums.line([small, other], total)
    with caplog.at_level(logging.WARNING, logger="candor.statistics"):
        sums.run()
    assert sums.cell(small).suppressed
    assert [r.getMessage() for r in caplog.records] == [
        "small-cell suppression: 1 hidden counts of 1 or 2 are left pinned with nothing more "
        "to hide"]


def test_nothing_is_logged_where_every_count_is_protected(
        caplog: pytest.LogCaptureFixture) -> None:
    sums = JointSums()
    parts = [sums.add(v) for v in (1, 4, 5)]
    total = sums.add(10, fixed=True)
    sums.line(parts, total)
    with caplog.at_level(logging.WARNING, logger="candor.statistics"):
        sums.run()
    assert [sums.cell(i).shown for i in parts] == ["<3", "x", "5"]
    assert caplog.records == []


def test_an_implication_can_pin() -> None:
    """Corrective actions a (month 1) and b (month 2) add up to a shown 2; month 1 shows no
    decided case (d = 0). Without "a month with actions has a decided case" b could be 0, 1
    or 2; with it a = 0, so b = 2."""
    sums: list[Terms] = [[(0, 1), (1, 1), (2, -1)]]
    low, high = [0, 0, 2, 0], [INF, INF, 2, 0]
    assert pinned_counts(Model(sums), (low, high), {1: 2}, set()) == []
    model = Model(sums, implications=[([0], [3])], ceiling=2)
    assert pinned_counts(model, (low, high), {1: 2}, set()) == [1]
    hidden = [INF, INF, 2, 1]  # month 1's decided cases hidden ("<3" or 0): b is free again
    assert pinned_counts(model, (low, hidden), {1: 2}, set()) == []
