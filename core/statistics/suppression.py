"""Small-cell suppression: no figure on the dashboard may single out one or two reporters.

Every figure leaves this module as a `Cell`, whose `value` is None when it is hidden and whose
`shown` is the text to display. Markers:

* ``"0"``: no case. Zeros are shown, as is common practice: they single out nobody.
* ``"<3"``: a count of 1 or 2 (primary suppression).
* ``"x"``: a figure hidden so that a ``"<3"`` cannot be worked out from the others
  (complementary suppression), or a share hidden because one of its counts is hidden.
* ``"n<3"``: a median, percentile or share over fewer than 3 cases; ``"n<10"``: a 90th
  percentile over fewer than 10 (it would be the slowest case's own figure).

Complementary suppression. A table whose cells add up to a shown total would give a hidden
cell away by subtraction. Each such sum is checked as an equation, cells minus total = 0,
against an attacker who knows these rules: a ``"<3"`` is 1 or 2, a cell hidden as a complement
is 3 or more, a withheld cell (below) is 0 or more. If the equation pins any hidden figure to
one value, the smallest shown cell of 3 or more is hidden too ("x"); if there is none, every
cell of the line is withheld ("x", the "<3" too); a line of a single cell, which equals its
total, hides its total instead when that total is itself a cell of another sum (the margins
of the category x month grid). The checks repeat until no sum pins a hidden figure, so a
grid's rows, columns and margins are protected together. A figure in a sum whose total is
shown as 0 is 0 for anyone: the checks count it as known, and it is shown as "0" (a
category without cases read "x x x 0" when its months were withheld for other rows).

Partitions of the same cases that share a row (the "no decision yet" of findings and of root
causes) are suppressed together, the shared row being one figure (`suppress_partitions`), and
with the equation the two give together: what is left of each adds up to the same.

Several views of the same cases (core.statistics.linked.LinkedFigures: a year's views) are one set
of figures: a figure hidden is hidden in every view. A view's own total is "reluctant": it is
hidden only where no other figure of the sum would do, since the view's tables must then hide
what would add up to it; a figure of a view that shows only its total ("<3") is withheld from
the start; and a part is at most its whole (`within`).

What it does not do (a second reader found each of these in one view; not yet closed):

* each sum is checked on its own, with what the others' markers and the figure it is a part
  of tell (a view's findings are at most its cases), not all equations at once by a solver
  (the usual practice). LinkedFigures adds, for the views of a year, every way of adding up
  the year from quarters and months as a sum of its own, which closes the pairs of sums of
  one kind of figure that a randomised test found (tests/core/statistics/test_year_views.py).
  But two or more sums of different kinds together still pin counts below 3: a second
  reader's exact integer solver over all the sums of a year's seventeen views (2026-12-07)
  pinned such a count in 18 of 40 small random years (a grid's row of "<3 <3" beside its
  total and the other rows; a month's row beside its quarter's and year's). Narrowing every
  figure's bounds with all the sums until nothing changes, or such a solver in the loop,
  is the next step;
* relations between tables that are not sums of the same cases are not modelled: "no feedback
  owed" often equals "referred" plus "not admissible", and limits hold between tables (cases
  decided are at most those accepted), so a "<3" can sometimes be narrowed down from two
  tables together;
* the suppression itself can tell something to someone who knows these rules: a figure is
  hidden as "x" only where it would otherwise let a "<3" be worked out, so which figures are
  hidden narrows the hidden ones (a 3-row table of 6 shown "<3 <3 x" can only be 1, 1, 4);
* the figures of different days are not compared: a new case, or a deadline passing, changes
  a few figures from one day to the next.

Differencing *across* views (a quarter minus two of its months) is closed since 2026-12-07:
the views of a year are suppressed together (LinkedFigures, core.statistics.year_views), and
the dashboard has no filter by category or channel any more. Rounding or noise (the
cell-key method) would close the rest at the cost of exact figures.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
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

__all__ = ["HIDDEN", "MIN_CASES_P90", "MIN_COUNT", "SMALL", "TOO_FEW", "TOO_FEW_P90", "Cell",
           "Grid", "Sums", "Table", "count_cell", "share_cell", "statistic_cell",
           "suppress_counts", "suppress_grid", "suppress_partition", "suppress_partitions"]


class _State(IntEnum):
    """What the attacker knows of a figure; a figure's state only ever rises."""

    SHOWN = 0
    SMALL = 1        # 1 or 2
    COMPLEMENT = 2   # 3 or more
    WITHHELD = 3     # 0 or more


_BOUNDS: dict[_State, tuple[float, float]] = {
    _State.SMALL: (1, MIN_COUNT - 1),
    _State.COMPLEMENT: (MIN_COUNT, math.inf),
    _State.WITHHELD: (0, math.inf),
}


class Sums:
    """Figures and the sums between them (each: cells add up to a total), suppressed so that
    no single sum pins a hidden figure (see the module docstring)."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self.states: list[_State] = []
        self.fixed: list[bool] = []
        #: Hidden only where nothing else would do (a view's own total: hiding it hides the
        #: whole view).
        self.reluctant: list[bool] = []
        #: The figure each is a part of (at most it: a view's findings are at most its
        #: cases), if any.
        self.within: list[int | None] = []
        self.lines: list[tuple[list[int], int]] = []
        #: For each figure, the totals of the lines it is a term of (_known_zero's index: a
        #: year's linked views have hundreds of lines).
        self.totals_of: list[list[int]] = []
        #: The lines other lines are not compared with (_derive_equations): ways of adding
        #: up a view from others, whose differences are lines already.
        self.compositions: set[int] = set()
        #: Equations derived from two lines with the same total and some cells in common:
        #: what is left of each adds up to the same (sum(left) = sum(right)).
        self.equations: list[tuple[list[int], list[int]]] = []

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
        self.states.append(_State.WITHHELD if not published else
                           _State.SMALL if 0 < value < MIN_COUNT else _State.SHOWN)
        self.fixed.append(fixed)
        self.reluctant.append(reluctant)
        self.within.append(within)
        self.totals_of.append([])
        return len(self.values) - 1

    def line(self, cells: Sequence[int], total: int, *, composition: bool = False) -> None:
        """The figures `cells` add up to the figure `total` (a `composition`: one of several
        ways of adding up the same total from others, each the others' difference)."""
        assert sum(self.values[i] for i in cells) == self.values[total], "inconsistent sum"
        if composition:
            self.compositions.add(len(self.lines))
        self.lines.append((list(cells), total))
        for i in set(cells):
            self.totals_of[i].append(total)

    def _bounds(self, index: int) -> tuple[float, float]:
        state = self.states[index]
        if state is _State.SHOWN or self._known_zero(index):
            return self.values[index], self.values[index]
        low, high = _BOUNDS[state]
        whole = self.within[index]
        if whole is not None:  # no more than its whole, as far as that is known
            high = min(high, self._bounds(whole)[1])
        return low, high

    def _known_zero(self, index: int) -> bool:
        """Whether a figure is a term of a line whose total is shown as 0: it is 0, hidden
        or not, for anyone who reads that total (a category with no case in the period)."""
        return any(self.states[total] is _State.SHOWN and self.values[total] == 0
                   for total in self.totals_of[index])

    def _pins(self, cells: list[int], total: int) -> bool:
        """Whether the equation sum(cells) = total leaves a hidden figure one possible value."""
        return self._pins_equation(cells, [total])

    def _pins_equation(self, left: list[int], right: list[int]) -> bool:
        """Whether sum(left) = sum(right) leaves a hidden figure one possible value. (Lower
        bounds are finite, so no bound is inf - inf.)"""
        bounds = {i: self._bounds(i) for i in [*left, *right]}
        for side, other in ((left, right), (right, left)):
            for i in side:
                if self.states[i] is _State.SHOWN or self._known_zero(i):
                    continue  # a known 0 gives nothing away
                low, high = bounds[i]
                same = [j for j in side if j != i]
                low = max(low, sum(bounds[j][0] for j in other)
                          - sum(bounds[j][1] for j in same))
                high = min(high, sum(bounds[j][1] for j in other)
                           - sum(bounds[j][0] for j in same))
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
                          if self.states[i] is _State.SHOWN and self.values[i] >= MIN_COUNT]
            if candidates:
                self.states[min(candidates, key=lambda i: (self.values[i], i))] = (
                    _State.COMPLEMENT)
                return True
            rest = [i for i in group if self.states[i] in (_State.SMALL, _State.SHOWN)
                    and not self._known_zero(i)]
            if rest:
                self.states[min(rest, key=lambda i: (self.states[i] is not _State.SMALL, i))] = (
                    _State.WITHHELD)
                return True
        return False

    def _protect_line(self, cells: list[int], total: int) -> bool:
        """Hide one more figure of a pinning line (the remedies in order, on figures that are
        not reluctant first); False if none is left to hide."""
        for group in ([i for i in cells if not self.fixed[i] and not self.reluctant[i]],
                      [i for i in cells if not self.fixed[i] and self.reluctant[i]]):
            candidates = [i for i in group
                          if self.states[i] is _State.SHOWN and self.values[i] >= MIN_COUNT]
            if candidates:
                chosen = min(candidates, key=lambda i: (self.values[i], i))
                self.states[chosen] = _State.COMPLEMENT
                return True
            changed = False
            for i in group:
                if self.states[i] is not _State.WITHHELD:
                    self.states[i] = _State.WITHHELD
                    changed = True
            if changed:
                return True
        # Still pinned with every cell withheld: a line of one cell, equal to its total.
        if not self.fixed[total] and self.states[total] is _State.SHOWN and self.values[total]:
            self.states[total] = _State.COMPLEMENT
            return True
        return False

    def run(self) -> None:
        """Complementary suppression until no line pins a hidden figure (or nothing is left
        to hide in the lines that still would: there the hidden figure equals a shown one)."""
        hopeless: set[int] = set()
        hopeless_equations: set[int] = set()
        self._derive_equations()
        changed = True
        while changed:
            changed = False
            for number, (cells, total) in enumerate(self.lines):
                while number not in hopeless and self._pins(cells, total):
                    if self._protect_line(cells, total):
                        changed = True
                    else:
                        hopeless.add(number)
            for number, (left, right) in enumerate(self.equations):
                while (number not in hopeless_equations
                       and self._pins_equation(left, right)):
                    if self._protect_equation(left, right):
                        changed = True
                    else:
                        hopeless_equations.add(number)

    def cell(self, index: int) -> Cell:
        """The figure as it may be shown."""
        state = self.states[index]
        if state is _State.SHOWN or self._known_zero(index):
            return Cell(self.values[index], str(self.values[index]))
        return Cell(None, SMALL if state is _State.SMALL else HIDDEN)


def suppress_partition(counts: Sequence[tuple[str, int]] | Mapping[str, int],
                       total: int | None = None) -> Table:
    """A table of counts that add up to `total` (default: their sum), e.g. the view's cases
    by channel, with primary and complementary suppression. The total itself is never hidden
    by this (the caller withholds a whole view whose total is below 3)."""
    rows = list(counts.items()) if isinstance(counts, Mapping) else list(counts)
    sums = Sums()
    cells = [sums.add(count) for _key, count in rows]
    total_index = sums.add(sum(count for _key, count in rows) if total is None else total,
                           fixed=True)
    sums.line(cells, total_index)
    sums.run()
    return Table(tuple((key, sums.cell(i)) for (key, _count), i in zip(rows, cells, strict=True)),
                 sums.cell(total_index))


def suppress_partitions(partitions: Sequence[Sequence[tuple[str, int]]],
                        shared: Collection[str]) -> list[Table]:
    """Several partitions of one total (e.g. the view's cases by finding and by root cause),
    suppressed together: a row whose key is in `shared` (such as "no decision yet") is one
    figure in every partition it appears in, so a cell hidden in one partition cannot be had
    from the other by way of the figure they share (second reader: findings hid a "<3" that
    the root causes, sharing "no decision", gave back). The total is never hidden."""
    sums = Sums()
    figures: dict[str, int] = {}
    indices: list[list[int]] = []
    totals = {sum(count for _key, count in rows) for rows in partitions}
    if len(totals) > 1:
        raise ValueError("the partitions do not add up to the same total")
    total = sums.add(totals.pop() if totals else 0, fixed=True)
    for rows in partitions:
        line = []
        for key, count in rows:
            if key in shared and key in figures:
                if sums.values[figures[key]] != count:
                    raise ValueError(f"the shared row {key!r} differs between partitions")
                line.append(figures[key])
                continue
            index = sums.add(count)
            if key in shared:
                figures[key] = index
            line.append(index)
        sums.line(line, total)
        indices.append(line)
    sums.run()
    return [Table(tuple((key, sums.cell(i)) for (key, _count), i in zip(rows, line,
                                                                       strict=True)),
                  sums.cell(total))
            for rows, line in zip(partitions, indices, strict=True)]


def suppress_counts(counts: Sequence[tuple[str, int]] | Mapping[str, int]) -> Table:
    """A table of counts that do not add up to anything shown (a case may count in several
    rows): primary suppression only, no total."""
    rows = list(counts.items()) if isinstance(counts, Mapping) else list(counts)
    return Table(tuple((key, count_cell(count)) for key, count in rows))


def suppress_grid(row_keys: Sequence[str], column_keys: Sequence[str],
                  counts: Sequence[Sequence[int]]) -> Grid:
    """Counts by row and column, with row totals, column totals and the total (never hidden
    by this), suppressed so that neither a row, a column, nor either margin pins a hidden
    count."""
    if len(counts) != len(row_keys) or any(len(row) != len(column_keys) for row in counts):
        raise ValueError("counts must have one row per row key and one column per column key")
    sums = Sums()
    cells = [[sums.add(count) for count in row] for row in counts]
    row_totals = [sums.add(sum(row)) for row in counts]
    column_totals = [sums.add(sum(row[c] for row in counts)) for c in range(len(column_keys))]
    total = sums.add(sum(sum(row) for row in counts), fixed=True)
    for r, row in enumerate(cells):
        sums.line(row, row_totals[r])
    for c, column_total in enumerate(column_totals):
        sums.line([row[c] for row in cells], column_total)
    sums.line(row_totals, total)
    sums.line(column_totals, total)
    sums.run()
    return Grid(
        row_keys=tuple(row_keys), column_keys=tuple(column_keys),
        cells=tuple(tuple(sums.cell(i) for i in row) for row in cells),
        row_totals=tuple(sums.cell(i) for i in row_totals),
        column_totals=tuple(sums.cell(i) for i in column_totals),
        total=sums.cell(total))
