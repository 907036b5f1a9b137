"""Console: a case, file or account id out of range is a 404 on both databases, never an
integer overflow (a 500). See web/routing.py."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from tests.reviewer.conftest import login_client
from tests.web.test_web_routing import OUT_OF_RANGE
from web.routing import MAX_ROW_ID


@pytest.mark.parametrize("value", OUT_OF_RANGE + [str(MAX_ROW_ID)])
def test_console_case_and_file_ids_out_of_range_are_404(app, session_factory, services, world,
                                                         value: str) -> None:
    client = login_client(app, session_factory, services, world.on_case)
    for path in (f"/cases/{value}", f"/cases/{world.case_id}/files/{value}",
                 f"/cases/{value}/files/1", f"/cases/{value}/grant",
                 f"/cases/{world.case_id}/members/{value}/exclude"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("value", OUT_OF_RANGE + [str(2**31)])
def test_admin_account_ids_out_of_range_match_no_route(app, value: str) -> None:
    """The admin's account pages ask for a fresh passphrase first, so the id is checked by
    routing itself: no route, whatever the login state."""
    adapter = app.url_map.bind("console.test")
    with pytest.raises(NotFound):
        adapter.match(f"/admin/reviewers/{value}/deactivate", method="GET")
    assert adapter.match("/admin/reviewers/7/deactivate", method="GET")[1] == {
        "reviewer_id": 7, "action": "deactivate"}
