"""Charts for the statistics page, drawn on the server as SVG with pygal (no JavaScript).

The page shows them as <img>: a browser runs no script inside an image, and pygal's own
inline script (for tooltips) is removed anyway. Suppressed cells ("<3") are passed as None
and drawn as no bar: a chart can never show more than the tables beside it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

#: Fonts that have Chinese glyphs first, then common Latin ones.
FONTS = ("'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'Microsoft YaHei', "
         "'PingFang SC', 'DejaVu Sans', Arial, sans-serif")
STYLE = Style(font_family=FONTS, background="white", plot_background="white",
              foreground="#222", foreground_strong="#111", foreground_subtle="#666",
              colors=("#1f5f8b", "#c0504d", "#4f8a3c", "#8064a2", "#d08a1e", "#2f8f9d",
                      "#7f7f7f", "#b05f8b"),
              title_font_size=16, label_font_size=12, major_label_font_size=12,
              legend_font_size=12, value_font_size=11)
_SCRIPT = re.compile(rb"<script\b.*?</script>", re.DOTALL)


def _render(chart: Any) -> bytes:
    svg: bytes = chart.render()
    return _SCRIPT.sub(b"", svg)


def _label(text: str) -> str:
    """`text` with one leading space per wide (Chinese) character: pygal sizes the label
    margin for Latin widths, which cut Chinese labels off. Leading spaces take no room on
    the page (SVG collapses them) but count in pygal's estimate."""
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    return " " * wide + text


def bar_chart(title: str, bars: Sequence[tuple[str, int | None]]) -> bytes:
    """A horizontal bar chart of labelled counts, the first at the top (None: suppressed,
    not drawn)."""
    chart = pygal.HorizontalBar(style=STYLE, show_legend=False, width=720,
                                height=max(160, 60 + 28 * len(bars)), js=[],
                                print_values=True, print_zeroes=False, truncate_label=-1,
                                disable_xml_declaration=False)
    chart.title = title
    top_first = list(reversed(bars))  # pygal draws the first bar at the bottom
    chart.x_labels = [_label(label) for label, _ in top_first]
    chart.add(title, [value for _, value in top_first])
    return _render(chart)


def monthly_chart(title: str, months: Sequence[str],
                  series: Sequence[tuple[str, Sequence[int | None]]]) -> bytes:
    """Stacked monthly counts, one series per label (None: suppressed, not drawn)."""
    chart = pygal.StackedBar(style=STYLE, width=720, height=360, js=[],
                             legend_at_bottom=True, legend_at_bottom_columns=2,
                             truncate_legend=-1,
                             x_label_rotation=0, disable_xml_declaration=False)
    chart.title = title
    chart.x_labels = list(months)
    for label, values in series:
        chart.add(label, list(values))
    return _render(chart)
