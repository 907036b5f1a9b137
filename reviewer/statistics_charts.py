"""The statistics charts of a period's figures, as SVG: one function for the dashboard's
<img> routes and the review report, so that both draw the same thing."""

from __future__ import annotations

from flask_babel import gettext as _

from core.statistics.figures import Details
from core.statistics.suppression import Table
from reviewer import charts
from reviewer.statistics_labels import row_label

#: The charts: "by_month" draws the category x month grid, the others a Details table.
CHARTS = ("by_month", "by_channel", "by_scope", "by_finding", "by_root_cause")


def chart_titles() -> dict[str, str]:
    """Each chart's title in the current language."""
    return {"by_month": _("Cases by category and month"), "by_channel": _("Cases by channel"),
            "by_scope": _("Cases by scope decision"), "by_finding": _("Cases by finding"),
            "by_root_cause": _("Cases by root cause")}


def worth_drawing(details: Details, name: str) -> bool:
    """Whether the chart `name` has a bar to draw: a chart of nothing but hidden or zero
    cells would read as "no cases" (and pygal writes an untranslated "No data"), so the
    pages put a note there instead."""
    if name == "by_month":
        return any(cell.value for row in details.by_category_month.cells for cell in row)
    table: Table = getattr(details, name)
    return any(cell.value for _key, cell in table.rows)


def drawn_charts(details: Details | None) -> frozenset[str]:
    """The charts of CHARTS worth drawing for `details` (none without details)."""
    if details is None:
        return frozenset()
    return frozenset(name for name in CHARTS if worth_drawing(details, name))


def chart_svg(details: Details, name: str, category_names: dict[str, str]) -> bytes:
    """The chart `name` (one of CHARTS) of `details` as SVG; suppressed cells are not drawn.
    KeyError for an unknown name."""
    title = chart_titles()[name]
    if name == "by_month":
        grid = details.by_category_month
        return charts.monthly_chart(
            title, list(grid.column_keys),
            [(row_label(key, category_names, category=True), [c.value for c in row])
             for key, row in zip(grid.row_keys, grid.cells, strict=True)])
    table: Table = getattr(details, name)
    return charts.bar_chart(title, [(row_label(key, category_names), cell.value)
                                    for key, cell in table.rows])
