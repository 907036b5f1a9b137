"""Early warning: a category (or root cause) whose latest count rises well above its own past.

Input, for one key: the number of cases in consecutive periods (e.g. months), oldest first;
the last period is the one under test. The rule flags the key when all three hold:

1. **Significant.** With `expected` = the mean of the previous `history` periods (default 6;
   at least `min_history` = 3 are required, with fewer nothing is ever flagged), the chance
   of seeing at least the latest count if cases kept arriving at that rate is below `alpha`
   (default 0.01). Cases arriving independently at a steady rate follow a Poisson
   distribution, so that chance is the one-sided Poisson tail

       p = P(X >= latest | expected)
         = 1 - sum over i = 0 .. latest-1 of  e^-expected * expected^i / i!

2. **Not a handful.** The latest count is at least `minimum` (default 3): one or two cases
   never raise an alarm, matching the small-cell rule that suppresses counts below 3.
3. **A real rise.** The latest count is at least `min_ratio` (default 1.5) times `expected`:
   with a large baseline a small relative change can be significant without mattering.

A key with no cases in its history would have an expected count of 0, against which any case
is "impossible"; `expected` is therefore at least `floor` (default 0.5 cases a period). From
0 to 6 is then flagged (p = 1.4e-5), from 0 to 1 or 2 is not (minimum), nor is 0 to 3
(p = 0.014).

Why this test: it is well known, needs no fitting, and anyone in the organisation can check
a figure by hand or in a spreadsheet (POISSON.DIST(latest-1, expected, TRUE) gives 1 - p).
Worked example: history 2, 3, 1, 2, 4, 2 gives expected = 14/6 = 2.33; a latest count of 8
gives p = 0.0028 and is flagged; 7 gives p = 0.0101 and is not.

What it does not do: it knows nothing of seasons or trends, and it flags steady keys by
chance. The expected count is itself estimated from few periods, so the chance is a little
above `alpha`: a steady key with 2 to 20 cases a period is flagged in about 1.2% to 1.4% of
periods with 6 periods of history, under 1% with `history=24` (computed exactly, summing
over both counts). Across 30 steady keys that is a false alarm every two or three periods: a
flag is a reason to look, not a finding.

Pure functions over counts; only the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RiseRule:
    """The parameters of the rule (see the module docstring); the defaults are the documented
    ones. Invalid values raise ValueError."""

    history: int = 6
    min_history: int = 3
    alpha: float = 0.01
    minimum: int = 3
    min_ratio: float = 1.5
    floor: float = 0.5

    def __post_init__(self) -> None:
        if not 1 <= self.min_history <= self.history:
            raise ValueError("need 1 <= min_history <= history")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError("alpha must be between 0 and 1")
        if self.minimum < 1:
            raise ValueError("minimum must be at least 1")
        if not (math.isfinite(self.min_ratio) and self.min_ratio >= 1.0):
            raise ValueError("min_ratio must be at least 1")
        if not (math.isfinite(self.floor) and self.floor > 0.0):
            raise ValueError("floor must be a positive number")


DEFAULT_RULE = RiseRule()


@dataclass(frozen=True, slots=True)
class Rise:
    """A flagged key: its latest count, the expected count it was tested against (the mean of
    the history, at least the floor), the one-sided Poisson p-value and how many past
    periods the expected count was taken from."""

    key: str
    latest: int
    expected: float
    p_value: float
    history: int

    @property
    def ratio(self) -> float:
        """How many times the expected count the latest count is."""
        return self.latest / self.expected


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X Poisson-distributed with the given mean, computed exactly (to floating
    point) with the standard library. Raises ValueError for a negative k or mean."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError("k must be a non-negative integer")
    if not (math.isfinite(mean) and mean >= 0.0):
        raise ValueError("mean must be a non-negative number")
    if k == 0:
        return 1.0
    if mean == 0.0:
        return 0.0
    log_mean = math.log(mean)

    def pmf(i: int) -> float:
        return math.exp(i * log_mean - mean - math.lgamma(i + 1))

    if k <= mean:
        # The tail is large (about a half or more): one minus the terms below k.
        return max(0.0, 1.0 - math.fsum(pmf(i) for i in range(k)))
    # The tail may be tiny: sum it directly (no cancellation). Each term is the previous one
    # times mean / i < 1, so the sum stops once a term no longer changes the total.
    total = 0.0
    term = pmf(k)
    i = k
    while term > total * 1e-17:
        total += term
        i += 1
        term *= mean / i
    return min(1.0, total)


def _checked_counts(counts: Sequence[int]) -> list[int]:
    checked = list(counts)
    for count in checked:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("counts must be non-negative integers")
    return checked


def detect_rise(key: str, counts: Sequence[int], rule: RiseRule = DEFAULT_RULE) -> Rise | None:
    """Test the last of `counts` (one per period, oldest first) against the mean of the up to
    `rule.history` periods before it (at least `rule.floor`); a Rise when the rule flags it,
    else None (also when fewer than `rule.min_history` past periods are given). Negative or
    non-integer counts raise ValueError."""
    checked = _checked_counts(counts)
    if len(checked) - 1 < rule.min_history:
        return None
    latest = checked[-1]
    window = checked[-1 - rule.history:-1]
    expected = max(sum(window) / len(window), rule.floor)
    if latest < rule.minimum or latest < rule.min_ratio * expected:
        return None
    p_value = poisson_tail(latest, expected)
    if p_value >= rule.alpha:
        return None
    return Rise(key=key, latest=latest, expected=expected, p_value=p_value,
                history=len(window))


def detect_rises(series: Mapping[str, Sequence[int]],
                 rule: RiseRule = DEFAULT_RULE) -> list[Rise]:
    """Every flagged key of `series` (key -> counts per period, oldest first), strongest
    first: smallest p-value, then largest ratio, then key. Bad counts raise ValueError."""
    rises = [rise for key, counts in series.items()
             if (rise := detect_rise(key, counts, rule)) is not None]
    return sorted(rises, key=lambda rise: (rise.p_value, -rise.ratio, rise.key))
