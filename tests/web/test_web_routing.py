"""Ids in URLs: anything but a row id in range is a 404, in both apps, on both databases.

Before `<id:...>`, `/cases/99999999999999999999999` reached the database as an integer too
large for SQLite (OverflowError, a 500) and a huge file number did the same in the portal.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from web.routing import MAX_ACCOUNT_ID, MAX_ROW_ID, install_row_ids

#: Not row ids, or out of the BIGINT range (the apps' tests reuse this list).
OUT_OF_RANGE = ["99999999999999999999999", str(MAX_ROW_ID + 1), str(2**64), "0", "-1", "1e3",
                "0x10", "١٢"]


def _client_for(rule: str) -> FlaskClient:
    """A client of an app with one route, `rule`, answering the value it was given."""
    app = Flask(__name__)
    install_row_ids(app)
    app.add_url_rule(rule, "echo", lambda **values: str(next(iter(values.values()))))
    return app.test_client()


def test_the_converter_matches_exactly_the_row_id_range() -> None:
    client = _client_for("/things/<id:thing_id>")
    assert client.get("/things/1").text == "1"
    assert client.get(f"/things/{MAX_ROW_ID}").text == str(MAX_ROW_ID)
    for value in OUT_OF_RANGE:
        assert client.get(f"/things/{value}").status_code == 404, value


def test_account_ids_stop_at_32_bits() -> None:
    client = _client_for("/accounts/<account:reviewer_id>")
    assert client.get(f"/accounts/{MAX_ACCOUNT_ID}").text == str(MAX_ACCOUNT_ID)
    for value in [str(MAX_ACCOUNT_ID + 1), *OUT_OF_RANGE]:
        assert client.get(f"/accounts/{value}").status_code == 404, value
