"""File sizes in the page's language, for both apps.

Jinja's own ``filesizeformat`` says "Bytes" in English whatever the language, and a small
file divided by hand shows "0.0 KB"; this one says "1 byte" / "1 字节" and rounds to one
decimal in the locale's number format.
"""

from __future__ import annotations

from babel.numbers import format_decimal
from flask import Flask
from flask_babel import get_locale, ngettext

_UNITS = (("GB", 1000**3), ("MB", 1000**2), ("KB", 1000))


def file_size(size: int) -> str:
    """A file's size in the current language; decimal units, as Jinja's."""
    if size < 1000:
        return str(ngettext("%(num)d byte", "%(num)d bytes", size))
    unit, factor = next((unit, factor) for unit, factor in _UNITS if size >= factor)
    # KB, MB and GB are written the same in Chinese; the number follows the locale.
    return f"{format_decimal(round(size / factor, 1), locale=get_locale())} {unit}"


def install_file_sizes(app: Flask) -> None:
    """Make the templates' ``filesizeformat`` filter this one."""
    app.jinja_env.filters["filesizeformat"] = file_size
