"""URL parts that name a row: `<id:case_id>` and `<account:reviewer_id>` in both apps' routes.

Row ids of cases, messages and files are positive 63-bit integers (random ones since
migration 0008); staff accounts have 32-bit ids; the numbers the portal gives a case's files
are small positive integers. Anything else in their place, a
number too large for the database's BIGINT included, matches no route: a 404, never a
database overflow (a 500) on SQLite or PostgreSQL.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

#: The largest value a signed 64-bit column holds.
MAX_ROW_ID = 2**63 - 1
#: The largest value a signed 32-bit column holds (staff account ids).
MAX_ACCOUNT_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """ASCII decimal digits naming a value from 1 to MAX_ROW_ID. (Werkzeug's `int` takes any
    Unicode digit, so that "/cases/١٢" would alias case 12.)"""

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ROW_ID)


class AccountIdConverter(RowIdConverter):
    """A staff account's id: 1 to MAX_ACCOUNT_ID."""

    regex = r"[0-9]{1,10}"

    def __init__(self, url_map: Map) -> None:
        IntegerConverter.__init__(self, url_map, min=1, max=MAX_ACCOUNT_ID)


def install_row_ids(app: Flask) -> None:
    """Make `<id:...>` and `<account:...>` available in `app`'s routes (call it before the
    blueprints are registered)."""
    app.url_map.converters["id"] = RowIdConverter
    app.url_map.converters["account"] = AccountIdConverter
