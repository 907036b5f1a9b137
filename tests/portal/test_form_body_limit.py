"""Plain (not streamed) forms keep their small body limit (web.requests): Flask's own defaults
used to win over it, so a 2 MB urlencoded field reached the form parser."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.portal.conftest import report_fields, submit_report_via
from web.requests import FORM_BODY_LIMIT


def test_a_plain_form_over_the_body_limit_is_refused(client: FlaskClient) -> None:
    response = client.post("/follow-up", data={"receipt": "1" * (2 * FORM_BODY_LIMIT)})
    assert response.status_code == 413
    assert "Traceback" not in response.text


def test_a_report_larger_than_the_plain_form_limit_still_arrives(client: FlaskClient) -> None:
    # Uploads read the body themselves, under the upload limits, not the plain form's.
    response = submit_report_via(client, report_fields(),
                                 files=[("big.bin", b"x" * (FORM_BODY_LIMIT + 4096))])
    assert response.status_code == 200, response.text[:500]
