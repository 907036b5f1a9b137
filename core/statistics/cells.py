"""The figures as the dashboard may show them: `Cell` (a count, "<3", "x", "n<3" ...),
tables and grids of them, and the cells that need no suppression beyond their own (a lone
count, a median, a share). Complementary suppression, which decides which cells of a table
are hidden, is core.statistics.suppression.

A `Cell`'s `value` is None when it is hidden; its `shown` is the text to display. Markers:

* ``"0"``: no case. Zeros are shown, as is common practice: they single out nobody.
* ``"<3"``: a count of 1 or 2 (primary suppression).
* ``"x"``: a figure hidden so that a ``"<3"`` cannot be worked out from the others
  (complementary suppression), or a share hidden because one of its counts is hidden.
* ``"n<3"``: a median, percentile or share over fewer than 3 cases; ``"n<10"``: a 90th
  percentile over fewer than 10 (it would be the slowest case's own figure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Counts below this (other than 0) are hidden; statistics over fewer cases are hidden too.
MIN_COUNT = 3
SMALL = f"<{MIN_COUNT}"
HIDDEN = "x"
TOO_FEW = f"n<{MIN_COUNT}"
#: A 90th percentile over fewer cases than this is one case's own figure (the slowest).
MIN_CASES_P90 = 10
TOO_FEW_P90 = f"n<{MIN_CASES_P90}"


@dataclass(frozen=True, slots=True)
class Cell:
    """One figure as it may be shown: `value` is None when hidden, `shown` the text to show
    ("12", "0", "<3", "x", "n<3", "67%")."""

    value: int | None
    shown: str

    @property
    def suppressed(self) -> bool:
        """The figure is hidden (`shown` is a marker)."""
        return self.value is None

    def __str__(self) -> str:
        return self.shown


@dataclass(frozen=True, slots=True)
class Table:
    """Labelled counts (keys are codes: enum values, category codes), optionally with their
    total. `total` is None for tables whose rows overlap (one case, several sanctions)."""

    rows: tuple[tuple[str, Cell], ...]
    total: Cell | None = None

    def __getitem__(self, key: str) -> Cell:
        for row_key, cell in self.rows:
            if row_key == key:
                return cell
        raise KeyError(key)

    def keys(self) -> list[str]:
        """The row keys, in order."""
        return [key for key, _cell in self.rows]


@dataclass(frozen=True, slots=True)
class Grid:
    """Counts by row (category) and column (month), with both margins and the total."""

    row_keys: tuple[str, ...]
    column_keys: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    total: Cell

    def cell(self, row_key: str, column_key: str) -> Cell:
        """The cell of one row and column, by key."""
        return self.cells[self.row_keys.index(row_key)][self.column_keys.index(column_key)]


def count_cell(count: int) -> Cell:
    """A count on its own, with primary suppression only: 0, "<3", or the count. For a count
    that belongs to a table with a total, see core.statistics.tables."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    if 0 < count < MIN_COUNT:
        return Cell(None, SMALL)
    return Cell(count, str(count))


def statistic_cell(value: int | None, cases: int) -> Cell:
    """A median or percentile (whole days) over `cases` cases: "n<3" below 3 cases."""
    if value is None or cases < MIN_COUNT:
        return Cell(None, TOO_FEW)
    return Cell(value, str(value))


def share_cell(numerator: int, denominator: int, parts: Sequence[Cell]) -> Cell:
    """`numerator` / `denominator` as a whole percentage ("67%", rounded half up). "x" when any
    of `parts`, the shown counts the numerator and denominator are made of, is hidden: share
    and denominator would give it back; otherwise "n<3" when the denominator is below 3."""
    if not 0 <= numerator <= denominator:
        raise ValueError("a share needs 0 <= numerator <= denominator")
    # Hidden parts first: "n<3" beside them would tell that they add up to 2 or less
    # (second reader: "<3 <3" with "n<3" meant 1 and 1).
    if any(part.suppressed for part in parts):
        return Cell(None, HIDDEN)
    if denominator < MIN_COUNT:
        return Cell(None, TOO_FEW)
    percent = (200 * numerator + denominator) // (2 * denominator)
    return Cell(percent, f"{percent}%")
