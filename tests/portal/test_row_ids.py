"""Portal: a file number out of range is a 404 on both databases, never an integer overflow
(a 500). See web/routing.py."""

from __future__ import annotations

import pytest

from tests.portal.conftest import login_via, receipt_of, submit_report_via
from tests.web.test_web_routing import OUT_OF_RANGE
from web.routing import MAX_ROW_ID


@pytest.mark.parametrize("value", OUT_OF_RANGE + [str(MAX_ROW_ID), "2"])
def test_portal_file_numbers_out_of_range_are_404(client, value: str) -> None:
    receipt = receipt_of(submit_report_via(client, files=[("one.txt", b"one")]).text)
    login_via(client, receipt)
    assert client.get("/case/files/1").status_code == 200
    assert client.get(f"/case/files/{value}").status_code == 404
