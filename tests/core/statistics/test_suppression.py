"""core.statistics.suppression: primary and complementary suppression, checked against an
attacker who enumerates every value the hidden cells could take."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.statistics.suppression import (
    HIDDEN,
    SMALL,
    TOO_FEW,
    Cell,
    Grid,
    Table,
    count_cell,
    share_cell,
    statistic_cell,
)
from core.statistics.tables import (
    suppress_counts,
    suppress_grid,
    suppress_partition,
    suppress_partitions,
)


def candidates(cell: Cell, limit: int, x_min: int) -> range:
    """The values an attacker who knows the rules allows for a cell: a shown one is itself,
    "<3" is 1 or 2, "x" is `x_min` or more (3 for a complement, 0 for a withheld cell: the
    marker does not tell them apart)."""
    if not cell.suppressed:
        assert cell.value is not None
        return range(cell.value, cell.value + 1)
    if cell.shown == SMALL:
        return range(1, 3)
    assert cell.shown == HIDDEN
    return range(x_min, limit + 1)


def pinned(cells: list[Cell], total: Cell, limit: int, x_min: int = 0) -> list[int]:
    """Indexes of hidden cells (len(cells) = the total) that the equation sum = total leaves
    one possible value other than 0, enumerating every assignment up to `limit` per cell (a
    withheld 0 in a line whose total is 0 gives nothing away: zeros are shown anyway)."""
    line = [*cells, total]
    options = [candidates(c, limit, x_min) for c in line]
    feasible = [combo for combo in itertools.product(*options) if sum(combo[:-1]) == combo[-1]]
    assert feasible, "the true values must be feasible"
    return [i for i, c in enumerate(line)
            if c.suppressed and {combo[i] for combo in feasible} != {0}
            and len({combo[i] for combo in feasible}) == 1]


def shown(table: Table) -> dict[str, str]:
    return {key: cell.shown for key, cell in table.rows}


# --- single cells ------------------------------------------------------------------------

def test_counts_below_three_are_hidden_and_zero_is_shown() -> None:
    assert [count_cell(n).shown for n in range(5)] == ["0", SMALL, SMALL, "3", "4"]
    assert count_cell(1) == Cell(None, "<3") and count_cell(1).suppressed
    assert count_cell(0) == Cell(0, "0") and not count_cell(0).suppressed
    assert str(count_cell(12)) == "12"
    with pytest.raises(ValueError):
        count_cell(-1)


def test_statistics_over_fewer_than_three_cases_are_hidden() -> None:
    assert statistic_cell(4, 2) == Cell(None, TOO_FEW)
    assert statistic_cell(None, 0) == Cell(None, TOO_FEW)
    assert statistic_cell(4, 3) == Cell(4, "4")


def test_shares() -> None:
    shown_parts = [count_cell(4), count_cell(5)]
    assert share_cell(4, 9, shown_parts) == Cell(44, "44%")
    assert share_cell(1, 2, []) == Cell(None, TOO_FEW)
    assert share_cell(2, 3, []) == Cell(67, "67%")   # rounded half up: 66.7
    assert share_cell(1, 8, []) == Cell(13, "13%")   # 12.5 -> 13
    assert share_cell(0, 5, [count_cell(0), count_cell(5)]) == Cell(0, "0%")
    # 2 of 7 satisfied would give the "<3" back: 29% of 7 is 2.
    assert share_cell(2, 7, [count_cell(2), count_cell(5)]) == Cell(None, HIDDEN)
    with pytest.raises(ValueError):
        share_cell(4, 3, [])


# --- one table with a total ---------------------------------------------------------------

def test_no_suppression_when_every_count_is_safe() -> None:
    table = suppress_partition({"web": 4, "hotline": 5, "mailbox": 0})
    assert shown(table) == {"web": "4", "hotline": "5", "mailbox": "0"}
    assert table.total == Cell(9, "9")
    assert table["web"].value == 4 and table.keys() == ["web", "hotline", "mailbox"]


def test_subtraction_attack_on_a_single_small_cell() -> None:
    # Shown alone, "<3" = 13 - 5 - 7 - 0 = 1: the next smallest count is hidden too.
    table = suppress_partition({"web": 1, "hotline": 5, "letter_box": 7, "mailbox": 0})
    assert shown(table) == {"web": SMALL, "hotline": HIDDEN, "letter_box": "7", "mailbox": "0"}
    assert table.total == Cell(13, "13")
    assert pinned([c for _k, c in table.rows], table.total, 13, x_min=3) == []


def test_complement_of_exactly_three_is_not_enough() -> None:
    # "<3" + "x" = 4 with x >= 3 would pin both (1 and 3): a second complement is needed.
    table = suppress_partition({"a": 1, "b": 3, "c": 7, "d": 0})
    assert shown(table) == {"a": SMALL, "b": HIDDEN, "c": HIDDEN, "d": "0"}
    assert pinned([c for _k, c in table.rows], table.total, 11, x_min=3) == []


def test_two_small_cells_that_sum_to_their_minimum_are_protected() -> None:
    # "<3" + "<3" = 2 means 1 and 1.
    table = suppress_partition({"a": 1, "b": 1, "c": 7})
    assert shown(table) == {"a": SMALL, "b": SMALL, "c": HIDDEN}
    # 1 + 2 = 3 leaves both open (1 and 2, or 2 and 1): nothing more is hidden.
    assert shown(suppress_partition({"a": 1, "b": 2, "c": 7})) == {
        "a": SMALL, "b": SMALL, "c": "7"}


def test_a_table_of_only_small_cells_is_withheld() -> None:
    # 3 cases, one per channel: each "<3" would be exactly 1.
    table = suppress_partition({"a": 1, "b": 1, "c": 1, "d": 0})
    assert shown(table) == {"a": HIDDEN, "b": HIDDEN, "c": HIDDEN, "d": HIDDEN}
    assert table.total == Cell(3, "3")
    assert pinned([c for _k, c in table.rows], table.total, 3) == []


def test_overlapping_counts_get_primary_suppression_only() -> None:
    table = suppress_counts({"warning": 2, "training": 5, "other": 0})
    assert shown(table) == {"warning": SMALL, "training": "5", "other": "0"}
    assert table.total is None


@given(st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=5))
def test_no_table_gives_a_hidden_count_away(counts: list[int]) -> None:
    table = suppress_partition([(str(i), n) for i, n in enumerate(counts)])
    cells = [c for _k, c in table.rows]
    for cell, n in zip(cells, counts, strict=True):
        assert cell.value in (None, n)
        if 0 < n < 3:
            assert cell.shown == SMALL or cell.shown == HIDDEN
    assert pinned(cells, table.total, sum(counts)) == []


# --- the category x month grid ------------------------------------------------------------

def grid_lines(grid: Grid) -> list[tuple[list[Cell], Cell]]:
    lines = [(list(row), total) for row, total in zip(grid.cells, grid.row_totals, strict=True)]
    lines += [([row[c] for row in grid.cells], total)
              for c, total in enumerate(grid.column_totals)]
    return [*lines, (list(grid.row_totals), grid.total), (list(grid.column_totals), grid.total)]


def test_grid_protects_rows_columns_and_margins() -> None:
    grid = suppress_grid(["a", "b", "c"], ["2026-01", "2026-02", "2026-03"],
                         [[1, 4, 5], [3, 3, 6], [0, 7, 2]])
    assert grid.total == Cell(31, "31")
    # "<3" + a complement of 3 + 0 = 4 would pin both: the January column is withheld.
    assert [grid.cell(r, "2026-01").shown for r in "abc"] == [HIDDEN, HIDDEN, HIDDEN]
    assert grid.cell("c", "2026-03").shown == SMALL and grid.cell("b", "2026-03") == Cell(6, "6")
    assert [c.shown for c in grid.row_totals] == ["10", "12", "9"]
    for cells, total in grid_lines(grid):
        assert pinned(cells, total, 31) == []


def test_single_category_row_hides_a_month_and_its_margin() -> None:
    # Filtered to one category: each month column is one cell equal to its margin.
    grid = suppress_grid(["it_fault"], ["2026-01", "2026-02", "2026-03"], [[1, 4, 5]])
    assert [c.shown for c in grid.cells[0]] == [SMALL, HIDDEN, "5"]
    assert [c.shown for c in grid.column_totals] == [SMALL, HIDDEN, "5"]
    assert grid.row_totals[0] == Cell(10, "10")
    for cells, total in grid_lines(grid):
        assert pinned(cells, total, 10) == []


def test_a_category_without_cases_shows_its_zeros() -> None:
    """Outside tester: a category with no case in the period read "x x x 0" when its months
    were withheld for the other rows. Its zeros give nothing away: its total says them."""
    grid = suppress_grid(["a", "b", "c"], ["2026-01", "2026-02", "2026-03"],
                         [[1, 4, 5], [3, 3, 6], [0, 0, 0]])
    assert [c.shown for c in grid.cells[2]] == ["0", "0", "0"]
    assert grid.row_totals[2] == Cell(0, "0")
    assert grid.cell("a", "2026-01").shown == HIDDEN  # the "<3" stays protected
    for cells, total in grid_lines(grid):
        assert pinned(cells, total, 22) == []


@given(st.lists(st.lists(st.integers(min_value=0, max_value=6), min_size=3, max_size=3),
                min_size=1, max_size=3))
def test_no_grid_line_gives_a_hidden_count_away(counts: list[list[int]]) -> None:
    limit = sum(map(sum, counts))
    assume(limit >= 3)  # a view of fewer cases shows only its total
    grid = suppress_grid([f"r{i}" for i in range(len(counts))], ["m1", "m2", "m3"], counts)
    for cells, total in grid_lines(grid):
        assert pinned(cells, total, limit) == []
    for r, row in enumerate(counts):
        for c, n in enumerate(row):
            assert grid.cells[r][c].value in (None, n)
            assert grid.cells[r][c].suppressed or not 0 < n < 3


def test_grid_shape_is_checked() -> None:
    with pytest.raises(ValueError):
        suppress_grid(["a"], ["m1", "m2"], [[1]])


# --- the CSV export -----------------------------------------------------------------------

def test_csv_fields_that_would_be_formulas_are_made_inert() -> None:
    from core.statistics.csv_export import safe_field

    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_field(text) == "'" + text
    for text in ("<3", "x", "n<3", "67%", "12", "it_fault", ""):
        assert safe_field(text) == text


def test_csv_of_a_withheld_view_has_only_its_total() -> None:
    from datetime import date

    from core.statistics.csv_export import figures_csv, figures_csv_bytes
    from core.statistics.figures import Figures
    from core.statistics.periods import parse_period

    withheld = Figures(parse_period("2026-11"), date(2027, 1, 1), count_cell(1), None,
                       date(2027, 1, 1))
    text = figures_csv(withheld)
    assert text.splitlines() == ["candor dashboard", "period,2026-11", "cases,<3"]
    assert text.endswith("\r\n")
    data = figures_csv_bytes(withheld)
    assert data.startswith(b"\xef\xbb\xbf") and data.endswith(b"cases,<3\r\n")


# --- partitions that share a row -----------------------------------------------------------

FINDINGS = [("substantiated", 10), ("partly", 1), ("not", 5), ("undetermined", 0),
            ("no_decision", 4)]
CAUSES = [("management", 8), ("technical", 4), ("process", 4), ("human", 0), ("other", 0),
          ("unspecified", 0), ("no_decision", 4)]


def _joint_values(tables: list[Table], shared: str, limit: int) -> list[dict[tuple[int, str], int]]:
    """Every assignment of the hidden cells of both tables that satisfies both sums, the
    shared row being one figure (what an attacker reading both tables can still believe)."""
    # The shared figure is known wherever one table shows it; else guessed once.
    known = next((table[shared].value for table in tables if not table[shared].suppressed),
                 None)
    hidden = [(t, key) for t, table in enumerate(tables) for key, cell in table.rows
              if cell.suppressed and key != shared]
    if known is None:
        hidden.append((0, shared))
    options = [candidates(tables[t][key], limit, 0) for t, key in hidden]
    feasible = []
    for combo in itertools.product(*options):
        guess = dict(zip(hidden, combo, strict=True))
        if known is not None:
            guess[(0, shared)] = known

        def value(t: int, key: str, cell: Cell, guess=guess) -> int:
            if key == shared:
                return guess[(0, shared)]
            if not cell.suppressed:
                assert cell.value is not None
                return cell.value
            return guess[(t, key)]

        if all(sum(value(t, key, cell) for key, cell in table.rows) == table.total.value
               for t, table in enumerate(tables)):
            feasible.append(guess)
    return feasible


def test_a_row_two_partitions_share_gives_no_hidden_count_away() -> None:
    """Second reader: suppressed apart, the root causes showed "no decision" 4, which the
    findings had hidden, and so pinned their "<3" to 1. Together, it is one figure."""
    apart_findings, apart_causes = suppress_partition(FINDINGS), suppress_partition(CAUSES)
    assert apart_findings["partly"].shown == SMALL and apart_causes["no_decision"].value == 4
    assert {g[(0, "partly")] for g in _joint_values([apart_findings, apart_causes],
                                                    "no_decision", 20)} == {1}  # the leak
    findings, causes = suppress_partitions([FINDINGS, CAUSES], shared={"no_decision"})
    assert findings["no_decision"].shown == causes["no_decision"].shown
    assert findings["partly"].shown == SMALL
    feasible = _joint_values([findings, causes], "no_decision", 20)
    assert {g[(0, "partly")] for g in feasible} == {1, 2}
    assert findings.total == causes.total == Cell(20, "20")


@given(st.lists(st.integers(0, 6), min_size=3, max_size=3),
       st.lists(st.integers(0, 6), min_size=2, max_size=2), st.integers(0, 6))
def test_no_small_count_is_pinned_across_shared_partitions(first: list[int], second: list[int],
                                                           shared: int) -> None:
    """Random pairs of partitions of one total sharing one row: no "<3" is pinned."""
    extra = sum(first) - sum(second)
    assume(extra >= 0 and sum(first) + shared >= 3)  # a view under 3 shows only its total
    a = [*((f"a{i}", n) for i, n in enumerate(first)), ("s", shared)]
    b = [*((f"b{i}", n) for i, n in enumerate(second)), ("b_rest", extra), ("s", shared)]
    tables = suppress_partitions([a, b], shared={"s"})
    total = sum(first) + shared
    feasible = _joint_values(tables, "s", total)
    assert feasible
    for t, table in enumerate(tables):
        for key, cell in table.rows:
            if cell.shown == SMALL:
                where = (0, key) if key == "s" else (t, key)
                assert len({g[where] for g in feasible}) == 2, (tables, key)


def test_shared_partitions_must_agree() -> None:
    with pytest.raises(ValueError):
        suppress_partitions([[("a", 3), ("s", 1)], [("b", 2), ("s", 2)]], shared={"s"})
    with pytest.raises(ValueError):
        suppress_partitions([[("a", 3)], [("b", 4)]], shared=set())


def test_a_share_beside_hidden_counts_does_not_bound_them() -> None:
    """Second reader: "<3 <3" with a share "n<3" told that both were 1; with 2 and 1 the
    share read "x". Hidden parts now give "x" whatever the denominator."""
    one_one = suppress_partition([("met", 1), ("missed", 1), ("other", 8)])
    two_one = suppress_partition([("met", 2), ("missed", 1), ("other", 7)])
    for table, met, due in ((one_one, 1, 2), (two_one, 2, 3)):
        parts = [table["met"], table["missed"]]
        assert share_cell(met, due, parts) == Cell(None, HIDDEN)
    assert share_cell(1, 2, [Cell(1, "1"), Cell(1, "1")]) == Cell(None, TOO_FEW)


def test_shared_partitions_hide_one_figure_at_a_time() -> None:
    """Second reader: findings 1, 1 and root causes 2 beside 20 without a decision hid all
    twelve cells, zeros included; two hidden figures suffice, and nothing is pinned."""
    findings = [("substantiated", 1), ("partly", 1), ("not", 0), ("undetermined", 0),
                ("no_decision", 20)]
    causes = [("management", 2), ("technical", 0), ("process", 0), ("human", 0),
              ("other", 0), ("unspecified", 0), ("no_decision", 20)]
    tables = suppress_partitions([findings, causes], shared={"no_decision"})
    shown_cells = [cell.shown for table in tables for _key, cell in table.rows]
    assert shown_cells.count("0") == 7
    feasible = _joint_values(tables, "no_decision", 22)
    for t, table in enumerate(tables):
        for key, cell in table.rows:
            if cell.shown == SMALL:
                where = (0, key) if key == "no_decision" else (t, key)
                assert len({g[where] for g in feasible}) == 2, key
