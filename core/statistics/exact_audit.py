"""Whether an integer solver given everything the dashboard shows can pin a hidden count of 1
or 2, and what to hide when it can: the audit that tools of statistical disclosure control
(τ-ARGUS, sdcTable) run on each sensitive cell, here with scipy's HiGHS.

Bound propagation (core.statistics.propagation) narrows one figure at a time, so a pin that
needs several sums added up first (a column minus its rows minus other rows) escapes it; a
second reader's solver found such pins in 1 of 20 to 13 of 60 richer years (2026-12-07). The
audit asks the solver itself, with what a reader knows besides the markers (`Model`: the
sums, parts at most their whole, the workflow's inequalities and implications). It works on
the hidden figures only (a shown one is a number), and proves most counts free with a few
solves whose solutions move many counts at once, before it asks about each remaining one.

For a count that is pinned, `Remedies.find` looks for a figure whose hiding alone gives it
another possible value, trying first those whose own bound holds the linear relaxation's
least or most of the count (a non-zero marginal): the sums that pin a count name many figures
whose hiding would not help (a second reader saw a hundred rounds, each hiding one of those).
The candidates are first hidden all at once: if even that leaves the count pinned, none alone
frees it, and the dozen solves of trying them one by one are spared.
A solution found on the way stays one as figures are hidden (bounds only widen), so
`Remedies` keeps them: a count that a solution already moves is free without a solve.
Every solve is given only the figures its bounds leave open, the others put in as numbers
(`_Problem._reduce`): a remedy problem keeps every figure as a column, most of them shown.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_array

from core.statistics.propagation import Bound, Terms

#: A row of known figures off its bounds by more than this makes the problem infeasible.
_TOLERANCE = 1e-6
#: A dual multiplier below this is taken as 0 (HiGHS's own tolerances are about 1e-7).
_DUAL_TOLERANCE = 1e-7
#: At most this many solves moving every open count at once, before asking one by one.
_SWEEPS = 6
#: How many remedies are tried on a pinned count (Remedies.find) before giving up.
_REMEDIES_TRIED = 12
#: An implication's bound on its first group: this many times `Model.ceiling`, plus the floor.
_BIG_FACTOR, _BIG_FLOOR = 10.0, 1000.0
#: So few open counts are asked one by one at once (a later round's, mostly).
_ONE_BY_ONE = 2


@dataclass(frozen=True)
class Model:
    """What a reader knows of the figures besides their markers: `sums` (each
    sum(coefficient * figure) = 0), `at_most` pairs (part, whole), `inequalities` (each
    sum(coefficient * figure) <= 0) and `implications` (if some figure of the first group is
    above 0, so is some figure of the second), whose first groups add up to about `ceiling`
    at most (the integer program bounds them far above it)."""

    sums: Sequence[Terms]
    at_most: Sequence[tuple[int, int]] = ()
    inequalities: Sequence[Terms] = ()
    implications: Sequence[tuple[Sequence[int], Sequence[int]]] = ()
    ceiling: float = 0


class _Problem:
    """The integer program over the hidden figures: every constraint with the shown figures
    put in as numbers, and a 0-or-1 column for each implication."""

    def __init__(self, model: Model, low: Sequence[Bound], high: Sequence[Bound],
                 keep: Collection[int] = ()) -> None:
        # `keep`: figures that are columns even where known (to try hiding them).
        self.hidden = [i for i in range(len(low)) if low[i] != high[i] or i in keep]
        self.column = {i: n for n, i in enumerate(self.hidden)}
        switches = len(model.implications)
        self.low = np.array([*(low[i] for i in self.hidden), *[0] * switches], dtype=float)
        self.high = np.array([*(high[i] for i in self.hidden), *[1] * switches], dtype=float)
        self._rows: list[dict[int, float]] = []
        self._row_low: list[float] = []
        self._row_high: list[float] = []
        self._seen: set[tuple[tuple[tuple[int, float], ...], float, float]] = set()
        for terms in model.sums:
            self._add(terms, low, 0, 0)
        for part, whole in model.at_most:
            self._add([(part, 1), (whole, -1)], low, -np.inf, 0)
        for terms in model.inequalities:
            self._add(terms, low, -np.inf, 0)
        # Far above what the first groups could add up to, so that the bound itself never
        # pins a count (with the true total as the bound, a year of one action pinned it).
        big = _BIG_FACTOR * max(model.ceiling, 1.0) + _BIG_FLOOR
        for number, (if_any, then_some) in enumerate(model.implications):
            switch = len(self.hidden) + number  # 1 where the first group is above 0
            self._add([(i, 1) for i in if_any], low, -np.inf, 0, {switch: -big})
            self._add([(i, -1) for i in then_some], low, -np.inf, 0, {switch: 1.0})
        data = [c for row in self._rows for c in row.values()]
        row_of = [r for r, row in enumerate(self._rows) for _ in row]
        column_of = [n for row in self._rows for n in row]
        self.matrix = csr_array((data, (row_of, column_of)),
                                shape=(len(self._rows), len(self.low)))
        self.integrality = np.ones(len(self.low))
        self.row_low_array = np.array(self._row_low, dtype=float)
        self.row_high_array = np.array(self._row_high, dtype=float)
        self._pattern = csr_array((np.ones(len(data)), (row_of, column_of)),
                                  shape=self.matrix.shape)

    def _add(self, terms: Terms, low: Sequence[Bound], row_low: float, row_high: float,
             extra: Mapping[int, float] | None = None) -> None:
        """The row row_low <= sum(coefficient * figure) (+ `extra` columns) <= row_high, with
        known figures put in as numbers; the same row twice (a year's sums by quarters and
        by months, where quarters are shown) is added once."""
        coefficients: dict[int, float] = dict(extra or {})
        known = 0.0
        for i, c in terms:
            if i in self.column:
                coefficients[self.column[i]] = coefficients.get(self.column[i], 0) + c
            else:
                known += c * low[i]
        coefficients = {n: c for n, c in coefficients.items() if c}
        signature = (tuple(sorted(coefficients.items())), row_low - known, row_high - known)
        if coefficients and signature not in self._seen:
            self._seen.add(signature)
            self._rows.append(coefficients)
            self._row_low.append(row_low - known)
            self._row_high.append(row_high - known)

    def _reduce(self, low: np.ndarray, high: np.ndarray) -> _Reduced | None:
        """The problem within `low`..`high` on the columns its bounds leave open, the others
        put in as numbers (None: a row of known columns fails, so nothing is feasible)."""
        if np.any(low > high):
            return None
        free = low != high
        known = np.where(free, 0.0, low)
        residual = self.matrix @ known
        row_low, row_high = self.row_low_array - residual, self.row_high_array - residual
        open_rows = (self._pattern @ free.astype(float)) > 0
        settled = ~open_rows  # every column known: the row holds or nothing does
        if np.any(row_low[settled] > _TOLERANCE) or np.any(row_high[settled] < -_TOLERANCE):
            return None
        rows = np.flatnonzero(open_rows)
        return _Reduced(known, np.flatnonzero(free), rows, self.matrix[rows],
                        row_low[rows], row_high[rows])

    def solve(self, objective: np.ndarray, low: np.ndarray,
              high: np.ndarray) -> np.ndarray | None:
        """An integer solution within `low`..`high` (minimising `objective`), or None."""
        # Only the columns not fixed by their bounds go to the solver (module docstring).
        reduced = self._reduce(low, high)
        if reduced is None:
            return None
        solution, columns = reduced.known.copy(), reduced.columns
        if columns.size == 0:
            return solution
        matrix = reduced.matrix[:, columns]
        constraints = ([LinearConstraint(matrix, reduced.row_low, reduced.row_high)]
                       if reduced.rows.size else [])
        found = milp(objective[columns], constraints=constraints,
                     bounds=Bounds(low[columns], high[columns]),
                     integrality=self.integrality[columns])
        if found.status != 0 or found.x is None:
            return None
        solution[columns] = np.round(found.x)
        return solution

    def moves(self, n: int, value: int, low: np.ndarray, high: np.ndarray,
              found: Callable[[np.ndarray], object] = lambda _solution: None) -> bool:
        """Whether column `n` can take a value other than `value` within `low`..`high`
        (the solution that shows it, if any, is passed to `found`)."""
        zero = np.zeros(len(self.low))
        for bound_low, bound_high in ((low[n], value - 1), (value + 1, high[n])):
            floor, ceiling = low.copy(), high.copy()
            floor[n], ceiling[n] = max(floor[n], bound_low), min(ceiling[n], bound_high)
            solution = self.solve(zero, floor, ceiling)
            if solution is not None:
                found(solution)
                return True
        return False

    def binding(self, objective: np.ndarray) -> set[int]:
        """The columns whose own bound or value holds the least of `objective` in the linear
        relaxation (a non-zero marginal, or reduced cost for a column whose bounds fix it);
        none where HiGHS finds no optimum."""
        reduced = self._reduce(self.low, self.high)
        if reduced is None or reduced.columns.size == 0:
            return set()
        columns = reduced.columns
        equal = reduced.row_low == reduced.row_high
        a_eq, a_ub = reduced.matrix[equal], reduced.matrix[~equal]
        found = linprog(
            objective[columns],
            A_eq=a_eq[:, columns] if a_eq.shape[0] else None,
            b_eq=reduced.row_low[equal] if a_eq.shape[0] else None,
            A_ub=a_ub[:, columns] if a_ub.shape[0] else None,
            b_ub=reduced.row_high[~equal] if a_ub.shape[0] else None,
            bounds=np.column_stack([self.low[columns], self.high[columns]]), method="highs")
        if found.status != 0:
            return set()
        own = np.abs(found.lower.marginals) + np.abs(found.upper.marginals)
        binding = {int(columns[k]) for k in np.flatnonzero(own > _DUAL_TOLERANCE)}
        # A fixed column's reduced cost: what moving its value would change of the optimum.
        duals = np.zeros(len(reduced.rows))
        if a_eq.shape[0]:
            duals[equal] = found.eqlin.marginals
        if a_ub.shape[0]:
            duals[~equal] = found.ineqlin.marginals
        fixed = np.setdiff1d(np.arange(len(self.low)), columns)
        cost = objective[fixed] - reduced.matrix[:, fixed].T @ duals
        binding.update(int(fixed[k]) for k in np.flatnonzero(np.abs(cost) > _DUAL_TOLERANCE))
        return binding


@dataclass(frozen=True)
class _Reduced:
    """A problem with its known columns put in as numbers (`_Problem._reduce`): `known` holds
    their values (0 elsewhere), `columns` the open ones, and `rows` the rows that still have
    one, as `matrix` (every column) between `row_low` and `row_high`."""

    known: np.ndarray
    columns: np.ndarray
    rows: np.ndarray
    matrix: csr_array
    row_low: np.ndarray
    row_high: np.ndarray


def pinned_counts(model: Model, bounds: tuple[Sequence[Bound], Sequence[Bound]],
                  sensitive: Mapping[int, int], free: set[int]) -> list[int]:
    """The figures of `sensitive` (hidden figure -> its true count) that an integer solver
    pins, given what the `model` says and every figure's `bounds` (low, high): by its marker
    (a shown figure: its value), or narrowed further by what the sums imply
    (core.statistics.propagation), which leaves the solver fewer figures to find.

    `free` holds the figures already proven to have another possible value, and gains those
    proven here: a solution stays one while bounds only widen (JointSums only ever hides more),
    so a later audit asks only about the others."""
    problem = _Problem(model, *bounds)
    columns = {problem.column[i]: v for i, v in sensitive.items()
               if i in problem.column and i not in free}

    def moved(solution: np.ndarray | None) -> bool:
        if solution is None:
            return False
        free.update(problem.hidden[n] for n, v in columns.items() if solution[n] != v)
        return True

    def open_columns() -> list[int]:
        return [n for n in columns if problem.hidden[n] not in free]

    # Solves that move many counts at once, all down, then all up (to at most one more than
    # each, so that the objective is bounded), while they prove any free.
    for sign in itertools.islice(itertools.cycle((1.0, -1.0)), _SWEEPS):
        before, open_ = len(free), open_columns()
        if len(open_) <= _ONE_BY_ONE:
            break
        objective = np.zeros(len(problem.low))
        objective[open_] = sign
        ceiling = problem.high.copy()
        if sign < 0:
            ceiling[open_] = np.minimum(ceiling[open_], [columns[n] + 1 for n in open_])
        moved(problem.solve(objective, problem.low, ceiling))
        if sign < 0 and len(free) == before:
            break
    # Pinned by the narrowed bounds already (JointSums asks only where propagation pins none).
    pins = [i for i in sensitive if i not in problem.column and i not in free]
    for n in open_columns():
        if problem.hidden[n] in free:
            continue
        if not problem.moves(n, columns[n], problem.low, problem.high, moved):
            pins.append(problem.hidden[n])
    return pins


class Remedies:
    """Remedies for pinned counts, one after another (a round of JointSums): every figure is
    a column of one integer program, so that hiding one only widens its bounds."""

    def __init__(self, model: Model, markers: tuple[Sequence[Bound], Sequence[Bound]]) -> None:
        self._problem = _Problem(model, *markers, keep=range(len(markers[0])))
        #: Solutions within the present bounds (they stay so: bounds only widen). A count
        #: that one of them moves is free without a solve: the solution that showed a remedy
        #: freeing one count often frees the next count pinned by the same sums.
        self._solutions: list[np.ndarray] = []
        #: The solution that showed the last remedy found: the figure, its bounds, itself.
        self._proposed: tuple[int, Bound, Bound, np.ndarray] | None = None

    def hide(self, figure: int, low: Bound, high: Bound) -> None:
        """The figure is hidden now: its marker's bounds."""
        n = self._problem.column[figure]
        self._problem.low[n], self._problem.high[n] = low, high
        if self._proposed is not None and self._proposed[:3] == (figure, low, high):
            self._solutions.append(self._proposed[3])
        self._proposed = None

    def find(self, figure: int, value: int,
             options: Sequence[tuple[int, Bound, Bound]]) -> tuple[bool, int | None]:
        """Whether `figure` (its count `value`) is still pinned, and if so which of
        `options` (a figure and the bounds its marker would give once hidden, best first) to
        hide: one that alone gives it another possible value, if any of those tried does,
        else the first of those tried. The options whose own bound holds the linear
        relaxation's least or most of the count (a non-zero marginal) are tried first, in
        their order (None: no options)."""
        problem = self._problem
        n = problem.column[figure]
        self._proposed = None  # only the remedy this call finds may be hidden next
        if any(solution[n] != value for solution in self._solutions) or problem.moves(
                n, value, problem.low, problem.high, self._solutions.append):
            return False, None  # an earlier remedy freed it
        binding: set[int] = set()
        for sign in (1.0, -1.0):
            objective = np.zeros(len(problem.low))
            objective[n] = sign
            binding.update(problem.hidden[k] for k in problem.binding(objective)
                           if k < len(problem.hidden))  # not an implication's switch
        order = sorted(range(len(options)), key=lambda number: options[number][0] not in binding)
        tried = order[:_REMEDIES_TRIED]
        # All of them hidden at once first: where that leaves the count pinned, so would any
        # one of them (hiding only widens), and one or two solves spare a dozen.
        if not tried or not problem.moves(n, value, *self._widened(options, tried)):
            return True, order[0] if order else None
        for number in tried:
            shown: list[np.ndarray] = []
            if problem.moves(n, value, *self._widened(options, [number]), shown.append):
                self._proposed = (*options[number], shown[0])
                return True, number
        # None alone frees it: the most relevant, so that a few more rounds will.
        return True, order[0]

    def _widened(self, options: Sequence[tuple[int, Bound, Bound]],
                 numbers: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The present bounds with the options `numbers` hidden (their markers' bounds)."""
        floor, ceiling = self._problem.low.copy(), self._problem.high.copy()
        for number in numbers:
            i, low, high = options[number]
            floor[self._problem.column[i]], ceiling[self._problem.column[i]] = low, high
        return floor, ceiling
