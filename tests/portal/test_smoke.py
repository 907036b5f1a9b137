from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from tests.portal.conftest import csrf_token


def test_submit_and_follow_up(client: FlaskClient) -> None:
    page = client.get("/report")
    assert page.status_code == 200, page.text
    token = csrf_token(page.text)
    data = {
        "csrf_token": token, "category": "it_fault", "summary": "VPN drops",
        "what_happened": "It drops every hour", "disclosure": "anonymous",
        "attachments": (io.BytesIO(b"log line\n" * 100), "vpn.log"),
    }
    response = client.post("/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    code = re.search(r'id="receipt-code">([0-9 ]+)<', response.text).group(1)
    page = client.get("/follow-up")
    login = client.post("/follow-up", data={"csrf_token": csrf_token(page.text), "receipt": code})
    assert login.status_code == 303
    case = client.get("/case")
    assert "VPN drops" in case.text
    assert "vpn.log" in case.text
