"""What an attacker can work out from every published sum at once: each figure's bounds,
narrowed by every sum until nothing changes (bound propagation, as integer solvers do before
they branch).

core.statistics.suppression checks each sum on its own. A second reader's exact solver
(2026-12-07) combined several: a month's "<3" narrowed by its quarter's line, which narrowed
another figure of a second line, which then pinned a third. Propagating the bounds through
every line and every derived equation, over and over, finds such chains; JointSums.run
(core.statistics.joint) hides one more figure on a chain while one pins a small count.

It is weaker than an exact solver in one way: it narrows one figure at a time, so a leak that
needs two equations subtracted from each other before either narrows anything can be missed
(tests/core/statistics/test_exact_attacker.py measures what is left with such a solver).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

#: A constraint: sum(coefficient * figure) == 0, as (figure index, coefficient) pairs.
Terms = Sequence[tuple[int, int]]
#: A figure's bound: an integer, or infinity for an upper bound not known.
Bound = float


@dataclass
class Narrowed:
    """Each figure's lowest and highest possible value, and for each bound the constraint that
    set it last (None: the figure's own marker), so that a pin can be traced to its sums."""

    low: list[Bound]
    high: list[Bound]
    low_reason: list[int | None]
    high_reason: list[int | None]
    constraints: Sequence[Terms]
    at_most: Sequence[tuple[int, int]]

    def pinned(self, index: int) -> bool:
        """Whether the figure has one possible value."""
        return self.low[index] == self.high[index]

    def reasons(self, index: int) -> list[int]:
        """The constraints that set the figure's bounds."""
        return [r for r in (self.low_reason[index], self.high_reason[index]) if r is not None]

    def figures_of(self, number: int) -> list[int]:
        """The figures of constraint `number` (a sum, else a pair of `at_most`)."""
        if number < len(self.constraints):
            return [i for i, _c in self.constraints[number]]
        return list(self.at_most[number - len(self.constraints)])

    def chain(self, index: int) -> Iterator[list[int]]:
        """The figures of each constraint that narrowed the figure `index`, nearest first:
        those that set its bounds, then those that set the bounds of their figures, and so
        on (without `index` itself)."""
        seen: set[int] = set()
        queue = deque(self.reasons(index))
        while queue:
            number = queue.popleft()
            if number in seen:
                continue
            seen.add(number)
            figures = [i for i in self.figures_of(number) if i != index]
            yield figures
            for i in figures:
                queue.extend(self.reasons(i))


def equalities(lines: Iterable[tuple[Sequence[int], int]],
               equations: Iterable[tuple[Sequence[int], Sequence[int]]]) -> list[Terms]:
    """Sums (cells add up to a total) and equations (left adds up to right) as constraints."""
    found: list[Terms] = []
    for cells, total in lines:
        if total not in cells and len(set(cells)) == len(cells):  # the usual sum, fast
            found.append([*((i, 1) for i in cells), (total, -1)])
            continue
        terms = Counter(cells)
        terms[total] -= 1
        found.append([(i, c) for i, c in terms.items() if c])
    for left, right in equations:
        terms = Counter(left)
        terms.subtract(right)
        found.append([(i, c) for i, c in terms.items() if c])
    return found


def _ceil_div(a: Bound, b: int) -> Bound:
    return a / b if math.isinf(a) else -(-int(a) // b)


def _floor_div(a: Bound, b: int) -> Bound:
    return a / b if math.isinf(a) else int(a) // b


def narrow(constraints: Sequence[Terms], at_most: Sequence[tuple[int, int]],
           low: Sequence[Bound], high: Sequence[Bound]) -> Narrowed:
    """Bounds of every figure given the constraints (each sums to 0), the pairs (part, whole)
    with part <= whole, and the figures' own bounds (`low` finite and >= 0). Constraint
    number len(constraints) + n is the n-th pair of `at_most`."""
    result = Narrowed(list(low), list(high), [None] * len(low), [None] * len(high),
                      constraints, at_most)
    lo, hi = result.low, result.high
    users: list[list[int]] = [[] for _ in low]
    for number, terms in enumerate(constraints):
        for index, _c in terms:
            users[index].append(number)
    for number, (part, whole) in enumerate(at_most, start=len(constraints)):
        users[part].append(number)
        users[whole].append(number)
    # A constraint of known figures only (most, in a busy year) narrows nothing until one
    # of its figures is narrowed.
    queued = [any(lo[i] != hi[i] for i, _c in terms) for terms in constraints]
    queued += [lo[part] != hi[part] or lo[whole] != hi[whole] for part, whole in at_most]
    queue = deque(number for number, waiting in enumerate(queued) if waiting)

    def tighten(index: int, new_low: Bound, new_high: Bound, reason: int) -> None:
        changed = False
        if new_low > lo[index]:
            lo[index], result.low_reason[index], changed = new_low, reason, True
        if new_high < hi[index]:
            hi[index], result.high_reason[index], changed = new_high, reason, True
        if changed:
            for user in users[index]:
                if not queued[user]:
                    queued[user] = True
                    queue.append(user)

    while queue:
        number = queue.popleft()
        queued[number] = False
        if number >= len(constraints):
            part, whole = at_most[number - len(constraints)]
            tighten(part, lo[part], hi[whole], number)
            tighten(whole, lo[part], hi[whole], number)
            continue
        terms = constraints[number]
        # The least and most each term can add (coefficient * bound), and how many of them
        # are infinite: the least is -inf only for a negative coefficient on an unbounded
        # figure, the most +inf only for a positive one.
        least = [c * lo[i] if c > 0 else c * hi[i] for i, c in terms]
        most = [c * hi[i] if c > 0 else c * lo[i] for i, c in terms]
        least_finite = sum(v for v in least if not math.isinf(v))
        most_finite = sum(v for v in most if not math.isinf(v))
        least_infinite = sum(1 for v in least if math.isinf(v))
        most_infinite = sum(1 for v in most if math.isinf(v))
        for (index, c), own_least, own_most in zip(terms, least, most, strict=True):
            if lo[index] == hi[index]:
                continue  # known already (most figures: those shown)
            others_least = _rest(least_finite, least_infinite, own_least, -math.inf)
            others_most = _rest(most_finite, most_infinite, own_most, math.inf)
            # c * x = -(the others): between -others_most and -others_least.
            if c > 0:
                tighten(index, _ceil_div(-others_most, c), _floor_div(-others_least, c), number)
            else:
                tighten(index, _ceil_div(others_least, -c), _floor_div(others_most, -c),
                        number)
    return result


def _rest(finite: Bound, infinite: int, own: Bound, unbounded: Bound) -> Bound:
    """The others' extreme: the finite sum without this term's, or `unbounded` where another
    term is infinite."""
    if math.isinf(own):
        return finite if infinite == 1 else unbounded
    return finite - own if infinite == 0 else unbounded
