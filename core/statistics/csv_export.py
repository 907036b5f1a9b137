"""The dashboard's figures as CSV: one table per block, separated by a blank line.

Only `Cell.shown` is written, so hidden figures stay hidden ("<3", "x", "n<3", "n<10"); a view of
fewer than 3 cases exports its heading and total only. Every field that a spreadsheet would
read as a formula (starting with =, +, -, @, a tab or a carriage return) is prefixed with an
apostrophe. The text is meant to be served as UTF-8 (`figures_csv_bytes` adds the byte-order
mark that spreadsheet programs look for, so that translated labels open correctly). Titles
and headings are the English words of `CSV_WORDS` unless the caller gives them in another
language (the console does, in the page's language).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from core.statistics.figures import Deadline, Durations, Figures
from core.statistics.suppression import Cell, Grid, Table

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Every title and heading the CSV writes, in English: the keys of `words` in `figures_csv`.
CSV_WORDS: tuple[str, ...] = (
    "candor dashboard", "period", "category", "channel", "cases", "total",
    "cases by category and month", "cases by channel", "cases by scope decision",
    "scope decision", "cases by finding (latest decision)", "finding",
    "cases by root cause (latest decision)", "root cause",
    "cases by sanction type (a case may have several)", "sanction",
    "cases by recognition type (a case may have several)", "recognition",
    "acknowledgement deadline", "feedback deadline", "outcome", "share_met", "median_days",
    "p90_days", "corrective actions", "actions", "share_on_time", "reporters' satisfaction",
    "answer", "share_satisfied",
)


def safe_field(text: str) -> str:
    """`text` made inert for spreadsheets: a leading apostrophe if it could start a
    formula (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Writer:
    def __init__(self, labels: Mapping[str, str], words: Mapping[str, str],
                 category_labels: Mapping[str, str]) -> None:
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer, lineterminator="\r\n")
        self.labels = labels
        self.words = words
        self.category_labels = category_labels
        self.started = False

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def word(self, english: str) -> str:
        """A title or heading (one of CSV_WORDS) in the caller's language."""
        return self.words.get(english, english)

    def row(self, *fields: str | Cell) -> None:
        self.csv.writerow([safe_field(f.shown if isinstance(f, Cell) else f) for f in fields])

    def block(self, title: str, *header: str) -> None:
        """A table's title (one of CSV_WORDS, written translated) and its heading row."""
        if self.started:
            self.row()  # a blank line between tables
        self.started = True
        self.row(self.word(title))
        if header:
            self.row(*header)

    def table(self, title: str, key_heading: str, table: Table,
              extra: Sequence[tuple[str, Cell]] = (), counted: str = "cases") -> None:
        self.block(title, self.word(key_heading), self.word(counted))
        for key, cell in table.rows:
            self.row(self.label(key), cell)
        if table.total is not None:
            self.row(self.word("total"), table.total)
        for name, cell in extra:
            self.row(self.word(name), cell)

    def grid(self, title: str, grid: Grid) -> None:
        self.block(title, self.word("category"), *grid.column_keys, self.word("total"))
        for key, cells, total in zip(grid.row_keys, grid.cells, grid.row_totals, strict=True):
            self.row(self.category_labels.get(key, key), *cells, total)
        self.row(self.word("total"), *grid.column_totals, grid.total)

    def deadline(self, title: str, deadline: Deadline, durations: Durations) -> None:
        self.table(title, "outcome", deadline.table,
                   [("share_met", deadline.share_met), ("median_days", durations.median),
                    ("p90_days", durations.p90)])


def figures_csv(figures: Figures, labels: Mapping[str, str] | None = None,
                words: Mapping[str, str] | None = None,
                category_labels: Mapping[str, str] | None = None) -> str:
    """The figures as CSV text. `labels` optionally names the tables' row keys (enum values:
    e.g. the view's translated words) and `category_labels` the category grid's (category
    codes: their names), apart, since a category's code may be any word; keys without a
    label are written as they are. `words` optionally gives the titles and headings
    (CSV_WORDS) in another language.
    """
    out = _Writer(labels or {}, words or {}, category_labels or {})
    out.block("candor dashboard")
    out.row(out.word("period"), figures.period.label)
    out.row(out.word("cases"), figures.total)
    d = figures.details
    if d is None:
        return out.buffer.getvalue()
    out.grid("cases by category and month", d.by_category_month)
    out.table("cases by channel", "channel", d.by_channel)
    out.table("cases by scope decision", "scope decision", d.by_scope)
    out.table("cases by finding (latest decision)", "finding", d.by_finding)
    out.table("cases by root cause (latest decision)", "root cause", d.by_root_cause)
    out.table("cases by sanction type (a case may have several)", "sanction", d.by_sanction)
    out.table("cases by recognition type (a case may have several)", "recognition",
              d.by_recognition)
    out.deadline("acknowledgement deadline", d.acknowledgement, d.time_to_acknowledge)
    out.deadline("feedback deadline", d.feedback, d.time_to_feedback)
    out.table("corrective actions", "outcome", d.actions,
              [("share_on_time", d.actions_share_on_time)], counted="actions")
    out.table("reporters' satisfaction", "answer", d.satisfaction,
              [("share_satisfied", d.share_satisfied)])
    return out.buffer.getvalue()


def figures_csv_bytes(figures: Figures, labels: Mapping[str, str] | None = None,
                      words: Mapping[str, str] | None = None,
                      category_labels: Mapping[str, str] | None = None) -> bytes:
    """`figures_csv` encoded as UTF-8 with a byte-order mark, ready to download."""
    return figures_csv(figures, labels, words, category_labels).encode("utf-8-sig")
