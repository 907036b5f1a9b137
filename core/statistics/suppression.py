"""Small-cell suppression: no figure on the dashboard may single out one or two reporters.

Every figure leaves as a `Cell` (core.statistics.cells: its markers "0", "<3", "x", "n<3").

Complementary suppression. A table whose cells add up to a shown total would give a hidden
cell away by subtraction. Each such sum is checked as an equation, cells minus total = 0,
against an attacker who knows these rules: a ``"<3"`` is 1 or 2, a cell hidden as a complement
is 3 or more, a withheld cell (below) is 0 or more. If the equation pins any hidden figure to
one value, the smallest shown cell of 3 or more is hidden too ("x"); if there is none, every
cell of the line is withheld ("x", the "<3" too); a line of a single cell, which equals its
total, hides its total instead when that total is itself a cell of another sum (the margins
of the category x month grid). The checks repeat until no sum pins a hidden figure, so a
grid's rows, columns and margins are protected together. A figure in a sum whose total is
shown as 0, or a part of a whole known to be 0, is 0 for anyone: it is shown as "0".

Partitions of the same cases that share a row (the "no decision yet" of findings and of root
causes) are suppressed together, the shared row being one figure (`suppress_partitions`), and
with the equation the two give together: what is left of each adds up to the same.

Several views of the same cases (core.statistics.linked.LinkedFigures: a year's views) are one set
of figures: a figure hidden is hidden in every view. A view's own total is "reluctant": it is
hidden only where no other figure of the sum would do, since the view's tables must then hide
what would add up to it; a figure of a view that shows only its total ("<3") is withheld from
the start; and a part is at most its whole (`within`).

Several sums together can pin what none pins alone: core.statistics.joint.JointSums, which the
dashboard uses, then narrows every figure with all sums at once and asks an integer solver.

What it does not do (not yet closed):

* of the relations between tables that are not sums, JointSums knows only those the year's
  views give it (core.statistics.year_views: decisions, sanctions and recognitions,
  acknowledgements, feedback and answers, corrective actions only on decided cases, and one
  that is usual rather than certain: no referred or rejected case was reopened); a reader's
  other guesses of what is usual are not modelled;
* the suppression itself can tell something to someone who knows these rules: a figure is
  hidden as "x" only where it would otherwise let a "<3" be worked out, so which figures are
  hidden narrows the hidden ones (a 3-row table of 6 shown "<3 <3 x" can only be 1, 1, 4);
* the figures of different days are not compared: a new case, or a deadline passing, changes
  a few figures from one day to the next.

Rounding or noise (the cell-key method) would close the rest at the cost of exact figures.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Sequence
from enum import IntEnum

from core.statistics.cells import (
    HIDDEN,
    MIN_CASES_P90,
    MIN_COUNT,
    SMALL,
    TOO_FEW,
    TOO_FEW_P90,
    Cell,
    Grid,
    Table,
    count_cell,
    share_cell,
    statistic_cell,
)

__all__ = ["HIDDEN", "MARKER_BOUNDS", "MIN_CASES_P90", "MIN_COUNT", "SMALL", "TOO_FEW",
           "TOO_FEW_P90", "Cell", "Grid", "State", "Sums", "Table", "count_cell", "share_cell",
           "statistic_cell"]


class State(IntEnum):
    """What the attacker knows of a figure by its marker; a figure's state only ever rises."""

    SHOWN = 0
    SMALL = 1        # 1 or 2
    COMPLEMENT = 2   # 3 or more
    WITHHELD = 3     # 0 or more


MARKER_BOUNDS: dict[State, tuple[float, float]] = {
    State.SMALL: (1, MIN_COUNT - 1),
    State.COMPLEMENT: (MIN_COUNT, math.inf),
    State.WITHHELD: (0, math.inf),
}


class Sums:
    """Figures and the sums between them (each: cells add up to a total), suppressed so that
    no single sum pins a hidden figure (see the module docstring)."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self.states: list[State] = []
        self.fixed: list[bool] = []
        #: Hidden only where nothing else would do (a view's own total: hiding it hides the
        #: whole view).
        self.reluctant: list[bool] = []
        #: The figure each is a part of (at most it: a view's findings are at most its
        #: cases), if any.
        self.within: list[int | None] = []
        self.lines: list[tuple[list[int], int]] = []
        #: For each figure, the totals of 0 of the lines it is a term of (_known_zero's index:
        #: a year's linked views have hundreds of lines).
        self.zero_totals_of: list[list[int]] = []
        #: The lines other lines are not compared with (_derive_equations): ways of adding
        #: up a view from others, whose differences are lines already.
        self.compositions: set[int] = set()
        #: Equations derived from two lines with the same total and some cells in common:
        #: what is left of each adds up to the same (sum(left) = sum(right)).
        self.equations: list[tuple[list[int], list[int]]] = []
        #: The states when the lines were last checked, and the indexes _affected reads.
        self._checked: list[State] | None = None
        self._uses: list[list[int]] | None = None
        self._dependents: list[list[int]] = []
        #: The lines and derived equations that still pin with nothing left to hide in them.
        self._hopeless_lines: set[int] = set()
        self._hopeless_equations: set[int] = set()

    def add(self, value: int, *, fixed: bool = False, reluctant: bool = False,
            published: bool = True, within: int | None = None) -> int:
        """A figure (`fixed`: never hidden by complementary suppression; `reluctant`: only
        where no other figure would do; not `published`: no view shows it, so it counts as
        withheld from the start; `within`: the figure it is a part of, so at most); its
        index."""
        if value < 0:
            raise ValueError("a count cannot be negative")
        if within is not None and value > self.values[within]:
            raise ValueError("a part cannot be more than its whole")
        self.values.append(value)
        self.states.append(State.WITHHELD if not published else
                           State.SMALL if 0 < value < MIN_COUNT else State.SHOWN)
        self.fixed.append(fixed)
        self.reluctant.append(reluctant)
        self.within.append(within)
        self.zero_totals_of.append([])
        return len(self.values) - 1

    def line(self, cells: Sequence[int], total: int, *, composition: bool = False) -> None:
        """The figures `cells` add up to the figure `total` (a `composition`: one of several
        ways of adding up the same total from others, each the others' difference)."""
        assert sum(self.values[i] for i in cells) == self.values[total], "inconsistent sum"
        if composition:
            self.compositions.add(len(self.lines))
        self.lines.append((list(cells), total))
        if self.values[total] == 0:
            for i in set(cells):
                self.zero_totals_of[i].append(total)

    def _bounds(self, index: int) -> tuple[float, float]:
        state = self.states[index]
        if state is State.SHOWN or self._known_zero(index):
            return self.values[index], self.values[index]
        low, high = MARKER_BOUNDS[state]
        whole = self.within[index]
        if whole is not None:  # no more than its whole, as far as that is known
            high = min(high, self._bounds(whole)[1])
        return low, high

    def _known_zero(self, index: int) -> bool:
        """Whether a figure is a term of a line whose total is shown as 0, or a part of a
        whole known to be 0: it is 0, hidden or not, for anyone who reads that (a category
        without cases in the period; a month without cases' sanctions)."""
        whole = self.within[index]
        return (any(self.states[total] is State.SHOWN for total in self.zero_totals_of[index])
                or (whole is not None and self._bounds(whole)[1] == 0))

    def _pins(self, cells: list[int], total: int) -> bool:
        """Whether the equation sum(cells) = total leaves a hidden figure one possible value."""
        return self._pins_equation(cells, [total])

    def _pins_equation(self, left: list[int], right: list[int]) -> bool:
        """Whether sum(left) = sum(right) leaves a hidden figure one possible value. (Lower
        bounds are finite, so no bound is inf - inf.)"""
        bounds = {i: self._bounds(i) for i in [*left, *right]}
        for side, other in ((left, right), (right, left)):
            other_low = sum(bounds[j][0] for j in other)
            other_high = sum(bounds[j][1] for j in other)
            side_low = sum(bounds[j][0] for j in side)
            side_high = sum(bounds[j][1] for j in side if bounds[j][1] < math.inf)
            unbounded = sum(1 for j in side if bounds[j][1] == math.inf)
            for i in side:
                if self.states[i] is State.SHOWN or self._known_zero(i):
                    continue  # a known 0 gives nothing away
                low, high = bounds[i]
                # The rest of its side at most: infinite if another figure of it is.
                if high == math.inf:
                    rest_high = side_high if unbounded == 1 else math.inf
                else:
                    rest_high = side_high - high if unbounded == 0 else math.inf
                low = max(low, other_low - rest_high)
                high = min(high, other_high - (side_low - bounds[i][0]))
                if high < math.inf and math.ceil(low) >= math.floor(high):
                    return True
        return False

    def _derive_equations(self) -> None:
        """Two lines with the same total that share cells (partitions sharing a row): the
        rest of one adds up to the rest of the other, an equation neither shows alone."""
        by_total: dict[int, list[list[int]]] = {}
        for number, (cells, total) in enumerate(self.lines):
            if number not in self.compositions:
                by_total.setdefault(total, []).append(cells)
        for groups in by_total.values():
            for a, b in itertools.combinations(groups, 2):
                common = set(a) & set(b)
                if common:
                    self.equations.append(([i for i in a if i not in common],
                                           [i for i in b if i not in common]))

    def _protect_equation(self, left: list[int], right: list[int]) -> bool:
        """As _protect_line, for a derived equation (both sides are cells), one figure at a
        time (second reader: withholding every cell at once hid twelve where two sufficed):
        the smallest shown figure of 3 or more, else one hidden as "<3" or a shown 0 is
        withheld, "<3"s first; reluctant figures last."""
        cells = [i for i in [*left, *right] if not self.fixed[i]]
        for group in ([i for i in cells if not self.reluctant[i]],
                      [i for i in cells if self.reluctant[i]]):
            candidates = [i for i in group
                          if self.states[i] is State.SHOWN and self.values[i] >= MIN_COUNT]
            if candidates:
                self.states[min(candidates, key=lambda i: (self.values[i], i))] = (
                    State.COMPLEMENT)
                return True
            rest = [i for i in group if self.states[i] in (State.SMALL, State.SHOWN)
                    and not self._known_zero(i)]
            if rest:
                self.states[min(rest, key=lambda i: (self.states[i] is not State.SMALL, i))] = (
                    State.WITHHELD)
                return True
        return False

    def _protect_line(self, cells: list[int], total: int) -> bool:
        """Hide one more figure of a pinning line (the remedies in order, on figures that are
        not reluctant first); False if none is left to hide."""
        for group in ([i for i in cells if not self.fixed[i] and not self.reluctant[i]],
                      [i for i in cells if not self.fixed[i] and self.reluctant[i]]):
            candidates = [i for i in group
                          if self.states[i] is State.SHOWN and self.values[i] >= MIN_COUNT]
            if candidates:
                chosen = min(candidates, key=lambda i: (self.values[i], i))
                self.states[chosen] = State.COMPLEMENT
                return True
            changed = False
            for i in group:
                if self.states[i] is not State.WITHHELD:
                    self.states[i] = State.WITHHELD
                    changed = True
            if changed:
                return True
        # Still pinned with every cell withheld: a line of one cell, equal to its total.
        if not self.fixed[total] and self.states[total] is State.SHOWN and self.values[total]:
            self.states[total] = State.COMPLEMENT
            return True
        return False

    def run(self) -> None:
        """Complementary suppression until no line or derived equation pins a hidden figure
        (or nothing is left to hide in those that still would: there the hidden figure equals
        a shown one). Sums of several lines together: core.statistics.joint."""
        self._derive_equations()
        self._check_lines()

    def _check_lines(self) -> None:
        """Each line and derived equation on its own, until none pins a hidden figure: all
        of them the first time, then those whose figures' bounds a change of state since the
        last call (or during this one) could have narrowed."""
        lines, equations = len(self.lines), len(self.equations)
        hopeless, hopeless_equations = self._hopeless_lines, self._hopeless_equations
        if self._checked is None:
            queue = deque(range(lines + equations))
        else:
            queue = deque(sorted(self._affected(self._checked)))
        self._checked = list(self.states)
        queued = set(queue)
        while queue:
            number = queue.popleft()
            queued.discard(number)
            protected = False
            if number < lines:
                cells, total = self.lines[number]
                while number not in hopeless and self._pins(cells, total):
                    if self._protect_line(cells, total):
                        protected = True
                    else:
                        hopeless.add(number)
            else:
                left, right = self.equations[number - lines]
                while (number - lines not in hopeless_equations
                       and self._pins_equation(left, right)):
                    if self._protect_equation(left, right):
                        protected = True
                    else:
                        hopeless_equations.add(number - lines)
            if protected:
                for again in sorted(self._affected(self._checked)):
                    if again not in queued:
                        queued.add(again)
                        queue.append(again)
                self._checked = list(self.states)

    def _affected(self, before: Sequence[State]) -> set[int]:
        """The lines and equations (numbered after the lines) whose check a change of state
        since `before` could change: those of the figures changed, of the figures within
        them, and of the figures of lines they are a total of 0 of."""
        if self._uses is None:
            self._uses = [[] for _ in self.values]
            sides = [(cells, [total]) for cells, total in self.lines] + self.equations
            for number, (left, right) in enumerate(sides):
                for i in {*left, *right}:
                    self._uses[i].append(number)
            self._dependents = [[] for _ in self.values]
            for i, whole in enumerate(self.within):
                if whole is not None:
                    self._dependents[whole].append(i)
            for i, totals in enumerate(self.zero_totals_of):
                for total in totals:
                    self._dependents[total].append(i)
        changed = [i for i, state in enumerate(before) if state != self.states[i]]
        figures = set(changed)
        while changed:  # a part's bound follows its whole's, and that whole's
            i = changed.pop()
            for dependent in self._dependents[i]:
                if dependent not in figures:
                    figures.add(dependent)
                    changed.append(dependent)
        return {number for i in figures for number in self._uses[i]}

    def cell(self, index: int) -> Cell:
        """The figure as it may be shown."""
        state = self.states[index]
        if state is State.SHOWN or self._known_zero(index):
            return Cell(self.values[index], str(self.values[index]))
        return Cell(None, SMALL if state is State.SMALL else HIDDEN)
