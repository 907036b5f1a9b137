"""Tables suppressed on their own, each a set of sums (core.statistics.joint.JointSums): a
partition of a total, several partitions sharing a row, a grid with its margins, and counts
that add up to nothing. The dashboard suppresses the views of a year together instead
(core.statistics.year_views); these are the engine's plain forms, which its tests exercise."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from core.statistics.cells import Grid, Table, count_cell
from core.statistics.joint import JointSums as Sums


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
