"""core.statistics.early_warning: the one-sided Poisson rise rule, checked against figures
computed by hand (the explicit formula), on steady random data and on bad input."""

from __future__ import annotations

import dataclasses
import math
import random

import pytest

from core.statistics.early_warning import (
    DEFAULT_RULE,
    Rise,
    RiseRule,
    detect_rise,
    detect_rises,
    poisson_tail,
)


def explicit_tail(k: int, mean: float) -> float:
    """P(X >= k) = 1 - sum_{i<k} e^-mean mean^i / i!, written out as in the module docstring."""
    return 1.0 - sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k))


def poisson_draw(rng: random.Random, mean: float) -> int:
    """Knuth's method: count uniform draws until their product falls below e^-mean."""
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


# --- the Poisson tail ---------------------------------------------------------------------

def test_tail_of_five_at_mean_one_by_hand() -> None:
    by_hand = 1.0 - math.exp(-1.0) * (1 + 1 + 1 / 2 + 1 / 6 + 1 / 24)
    assert poisson_tail(5, 1.0) == pytest.approx(by_hand, rel=1e-12, abs=0)
    assert by_hand == pytest.approx(0.0036598468, rel=1e-8)


@pytest.mark.parametrize("k, mean", [(1, 0.5), (3, 0.5), (6, 0.5), (8, 14 / 6), (7, 14 / 6),
                                     (2, 3.0), (3, 3.0), (15, 10.0), (25, 10.0), (40, 30.0)])
def test_tail_matches_explicit_formula(k: int, mean: float) -> None:
    assert poisson_tail(k, mean) == pytest.approx(explicit_tail(k, mean), rel=1e-9, abs=0)


def test_tiny_tail_is_summed_not_lost_to_cancellation() -> None:
    # P(X >= 30 | 1) is about 1e-33: 1 - (sum below 30) loses it entirely in floating
    # point; the upper terms themselves do not (those past 80 are below 1e-86 of it).
    upper = math.fsum(math.exp(-1.0) / math.factorial(i) for i in range(30, 80))
    assert upper == pytest.approx(1.4331e-33, rel=1e-4, abs=0)
    assert abs(explicit_tail(30, 1.0)) < 1e-15
    assert poisson_tail(30, 1.0) == pytest.approx(upper, rel=1e-12, abs=0)


def test_tail_edges() -> None:
    assert poisson_tail(0, 4.0) == 1.0
    assert poisson_tail(0, 0.0) == 1.0
    assert poisson_tail(1, 0.0) == 0.0
    assert poisson_tail(1, 2.0) == pytest.approx(1.0 - math.exp(-2.0), rel=1e-12, abs=0)
    assert 0.0 <= poisson_tail(10**6, 1.0) <= 1e-300


# --- the rule ---------------------------------------------------------------------------

@pytest.mark.parametrize("counts", [[5] * 7, [0] * 7, [20] * 12, [2, 3, 1, 2, 4, 2, 3]])
def test_flat_series_raises_nothing(counts: list[int]) -> None:
    assert detect_rise("it_fault", counts) is None


def test_clear_jump_is_flagged_with_the_right_figures() -> None:
    rise = detect_rise("security", [2, 3, 1, 2, 4, 2, 8])
    assert rise is not None
    assert (rise.key, rise.latest, rise.history) == ("security", 8, 6)
    assert rise.expected == pytest.approx(14 / 6)
    assert rise.p_value == pytest.approx(explicit_tail(8, 14 / 6), rel=1e-9, abs=0)
    assert rise.p_value == pytest.approx(0.00282242, rel=1e-5, abs=0)
    assert rise.ratio == pytest.approx(8 / (14 / 6))


def test_the_worked_example_just_below_the_threshold_is_not_flagged() -> None:
    # p = P(X >= 7 | 2.33) = 0.0101: not below alpha = 0.01.
    assert explicit_tail(7, 14 / 6) == pytest.approx(0.0100677, rel=1e-4, abs=0)
    assert detect_rise("security", [2, 3, 1, 2, 4, 2, 7]) is None


def test_only_the_last_history_periods_make_the_expected_count() -> None:
    rise = detect_rise("security", [50, 50, 50, 2, 3, 1, 2, 4, 2, 8])
    assert rise == detect_rise("security", [2, 3, 1, 2, 4, 2, 8])
    shorter = detect_rise("security", [1, 1, 1, 9])
    assert shorter is not None
    assert (shorter.history, shorter.expected) == (3, 1.0)
    assert shorter.p_value == pytest.approx(explicit_tail(9, 1.0), rel=1e-9, abs=0)


@pytest.mark.parametrize("latest", [1, 2])
def test_a_jump_from_nothing_to_one_or_two_cases_is_not_flagged(latest: int) -> None:
    assert detect_rise("roles", [0] * 6 + [latest]) is None
    assert detect_rise("roles", [0] * 24 + [latest]) is None


def test_a_jump_from_nothing_uses_the_floor() -> None:
    assert detect_rise("roles", [0] * 6 + [3]) is None  # p = 0.0144 at 0.5 a period
    rise = detect_rise("roles", [0] * 6 + [6])
    assert rise is not None
    assert rise.expected == 0.5
    assert rise.p_value == pytest.approx(explicit_tail(6, 0.5), rel=1e-9, abs=0)
    assert rise.p_value == pytest.approx(1.41649e-5, rel=1e-4, abs=0)


def test_minimum_applies_even_when_significant() -> None:
    assert detect_rise("roles", [0] * 6 + [4]) is not None  # p = 0.00175
    assert detect_rise("roles", [0] * 6 + [4], RiseRule(minimum=5)) is None


def test_a_significant_but_small_relative_rise_is_not_flagged() -> None:
    counts = [100] * 6 + [130]
    assert poisson_tail(130, 100.0) < DEFAULT_RULE.alpha
    assert detect_rise("other", counts) is None
    assert detect_rise("other", counts, RiseRule(min_ratio=1.2)) is not None


def test_too_little_history_flags_nothing() -> None:
    assert detect_rise("it_fault", []) is None
    assert detect_rise("it_fault", [40]) is None
    assert detect_rise("it_fault", [0, 0, 40]) is None
    assert detect_rise("it_fault", [0, 0, 0, 40]) is not None
    assert detect_rise("it_fault", [0, 0, 0, 40], RiseRule(min_history=4)) is None


def steady_keys(seed: int, keys: int, periods: int) -> dict[str, list[int]]:
    rng = random.Random(seed)
    means = [2.0, 5.0, 10.0, 20.0]
    return {f"k{n}": [poisson_draw(rng, means[n % len(means)]) for _ in range(periods)]
            for n in range(keys)}


def test_noisy_but_stable_series_rarely_raise_anything() -> None:
    # Computed exactly (summing over the latest count and the history's total), a steady key
    # with a mean of 2 to 20 is flagged by chance with probability 1.15% to 1.37% under the
    # default rule (6 periods of history: the expected count is itself noisy), and 0.68% to
    # 0.91% with 24 periods. The bounds leave at least three standard deviations of room.
    keys = 4000
    flagged = detect_rises(steady_keys(1616, keys, 7))
    assert len(flagged) <= 2 * DEFAULT_RULE.alpha * keys
    long_rule = RiseRule(history=24)
    flagged_long = detect_rises(steady_keys(1617, keys, 25), long_rule)
    assert len(flagged_long) <= 1.25 * long_rule.alpha * keys


def test_detect_rises_sorts_strongest_first() -> None:
    series = {
        "security": [2, 3, 1, 2, 4, 2, 8],  # p = 0.0028
        "roles": [0] * 6 + [6],  # p = 1.4e-5
        "it_fault": [5] * 7,  # not flagged
        "misconduct": [1, 1, 1, 1, 1, 1, 9],  # p = 1.1e-6
        "short": [0, 40],  # too little history
    }
    rises = detect_rises(series)
    assert [rise.key for rise in rises] == ["misconduct", "roles", "security"]
    assert all(isinstance(rise, Rise) for rise in rises)
    assert detect_rises({}) == []


def test_equal_p_values_are_ordered_by_ratio_then_key() -> None:
    # Jumps so large that both p-values underflow to 0.0: the larger ratio comes first.
    series = {"b": [2] * 6 + [1000], "c": [1] * 6 + [1000], "a": [1] * 6 + [1000]}
    rises = detect_rises(series)
    assert [rise.key for rise in rises] == ["a", "c", "b"]
    assert {rise.p_value for rise in rises} == {0.0}
    assert [rise.ratio for rise in rises] == [1000.0, 1000.0, 500.0]


def test_a_rise_is_frozen() -> None:
    rise = detect_rise("roles", [0] * 6 + [6])
    assert rise is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        rise.latest = 1  # type: ignore[misc]


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("counts", [[1, 2, 3, -1], [-1, 2, 3, 4], [-5], [1, 2.5, 3, 4],
                                    [1, True, 3, 4], [1, 2, 3, "4"]])
def test_bad_counts_raise_value_error(counts: list[int]) -> None:
    with pytest.raises(ValueError):
        detect_rise("other", counts)
    with pytest.raises(ValueError):
        detect_rises({"fine": [1] * 7, "other": counts})


@pytest.mark.parametrize("k, mean", [(-1, 1.0), (3, -0.5), (3, math.nan), (3, math.inf)])
def test_bad_tail_arguments_raise_value_error(k: int, mean: float) -> None:
    with pytest.raises(ValueError):
        poisson_tail(k, mean)


@pytest.mark.parametrize("changes", [{"history": 2}, {"min_history": 0}, {"alpha": 0.0},
                                     {"alpha": 1.0}, {"minimum": 0}, {"min_ratio": 0.9},
                                     {"floor": 0.0}, {"floor": math.nan}])
def test_bad_rule_raises_value_error(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RiseRule(**changes)  # type: ignore[arg-type]
