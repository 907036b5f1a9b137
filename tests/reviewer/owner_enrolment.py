"""An account's owner completing enrolment in the console over HTTP, as they would after an
admin made or reset the account: log in with the one-time passphrase, confirm the
authenticator if asked, choose their own passphrase, and read the enrolment code from the
page that says the account waits for approval."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.services import Services
from tests.core.factories import strong_passphrase
from tests.reviewer.conftest import current_code, freeze_mid_totp_step
from tests.reviewer.test_auth import csrf, post_login

CODE_ON_PAGE = re.compile(r'id="enrolment-code">([0-9 ]+)<')


def enrol_over_http(app: Flask, session_factory: sessionmaker[Session], services: Services,
                    username: str, reviewer_id: int,
                    one_time: str) -> tuple[FlaskClient, str, str]:
    """The owner's client, logged in and enrolled, the code their screen shows, and the
    passphrase they chose."""
    freeze_mid_totp_step(services)
    client = app.test_client()
    code = current_code(services, session_factory, reviewer_id)
    login = post_login(client, username, one_time, code)
    assert login.status_code == 303, login.text
    if login.location.endswith("/enrol"):
        enrolled = client.post("/enrol", data={"csrf_token": csrf(client, "/enrol"),
                                               "code": code})
        assert enrolled.status_code == 303, enrolled.text
    own = strong_passphrase("owner's own")
    changed = client.post("/passphrase", data={"csrf_token": csrf(client, "/passphrase"),
                                               "current": one_time, "new": own,
                                               "confirm": own})
    assert changed.status_code == 303, changed.text
    waiting = client.get("/cases")
    assert waiting.status_code == 403, waiting.status_code
    shown = CODE_ON_PAGE.search(waiting.text)
    assert shown is not None, waiting.text
    return client, shown.group(1), own
