"""Figures of several views that share cases, suppressed as one set
(core.statistics.year_views: the months, quarters and year of a year). The rules are those of
core.statistics.suppression, whose docstring says what they protect and what not."""

from __future__ import annotations

from collections.abc import Sequence

from core.statistics.cells import Cell
from core.statistics.joint import JointSums


class LinkedFigures:
    """Figures of several views that share cases, suppressed together: every view of a year
    (core.statistics.year_views). A figure is named by a key, once, however many views show
    it; each sum between figures, within a view or across views (a quarter is its three
    months), is a line. No line then pins a figure that any view hides (as far as single
    lines and the derived equations go: the module docstring)."""

    def __init__(self) -> None:
        self._sums = JointSums()
        self._index: dict[object, int] = {}

    def add(self, key: object, value: int, *, fixed: bool = False, reluctant: bool = False,
            published: bool = True, within: object = None) -> None:
        """The figure `key` (`fixed`: never hidden; `reluctant`: hidden only where no other
        figure would do, as a view's total; not `published`: no view shows it, so it is
        withheld from the start, as a view of fewer than 3 cases shows only its total;
        `within`: the key of a figure added before that it is a part of, so at most, as a
        view's findings are at most its cases). A key given twice must have the same value."""
        if key in self._index:
            if self._sums.values[self._index[key]] != value:
                raise ValueError(f"the figure {key!r} was given two values")
            return
        self._index[key] = self._sums.add(
            value, fixed=fixed, reluctant=reluctant, published=published,
            within=self._index[within] if within is not None else None)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def line(self, cells: Sequence[object], total: object, *, composition: bool = False) -> None:
        """The figures `cells` add up to the figure `total` (all added before; a
        `composition`: one of several ways of adding up the same total, as the year from
        its quarters or from its months)."""
        self._sums.line([self._index[key] for key in cells], self._index[total],
                        composition=composition)

    def at_most(self, terms: Sequence[tuple[object, int]]) -> None:
        """A relation between figures that is not a sum: sum(coefficient * figure) <= 0
        (core.statistics.joint.JointSums.at_most), the figures given by key."""
        self._sums.at_most([(self._index[key], c) for key, c in terms])

    def implies(self, if_any: Sequence[object], then_some: Sequence[object],
                ceiling: int) -> None:
        """If some figure of `if_any` is above 0, so is some of `then_some`, the figures
        given by key (core.statistics.joint.JointSums.implies)."""
        self._sums.implies([self._index[key] for key in if_any],
                           [self._index[key] for key in then_some], ceiling)

    def run(self) -> None:
        """Complementary suppression over every line at once."""
        self._sums.run()

    def cell(self, key: object) -> Cell:
        """The figure as every view may show it."""
        return self._sums.cell(self._index[key])
