"""Plain-text tables for the terminal: columns aligned by display width (a Chinese
character takes two columns), headers included in the width."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def display_width(text: str) -> int:
    """Terminal columns of `text` (wide and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    """`text` followed by spaces up to `columns` display columns."""
    return text + " " * max(0, columns - display_width(text))


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The header and rows as lines, each column as wide as its widest cell; the last
    column is not padded (no trailing spaces)."""
    columns = len(header)
    widths = [max(display_width(row[i]) for row in [header, *rows]) for i in range(columns)]
    return ["  ".join(pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]
