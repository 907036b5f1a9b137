"""reviewer.charts: SVG without script, hidden cells not drawn, Chinese labels kept."""

from __future__ import annotations

import re

from reviewer.charts import bar_chart, monthly_chart

BAR = re.compile(rb'class="rect reactive tooltip-trigger"')


def test_a_hidden_count_gets_no_bar() -> None:
    svg = bar_chart("按类别的案件", [("信息技术故障", 7), ("安全", None), ("其他", 4)])
    assert len(BAR.findall(svg)) == 2
    assert b"<script" not in svg and "按类别的案件".encode() in svg
    assert "安全".encode() in svg  # the row is named; its count is not drawn
    assert re.search(rb">7<", svg) and re.search(rb">4<", svg)


def test_the_monthly_chart_has_no_script_and_every_label() -> None:
    svg = monthly_chart("Cases by month", ["2026-10", "2026-11"],
                        [("IT fault", [3, None]), ("Security", [None, 5])])
    assert svg.startswith(b"<?xml") and b"<svg" in svg and b"<script" not in svg
    for label in (b"2026-10", b"2026-11", b"IT fault", b"Security"):
        assert label in svg
