"""An admin resets a case handler's authenticator in the console (outside tester, high): the
new key is shown to the admin to hand over, and the handler's next login needs a code from
it. Before, the passphrase alone opened the enrolment page, which showed the new key, and
from there the handler's cases."""

from __future__ import annotations

import html
import re

import pyotp

from core.models import Reviewer
from tests.core.factories import audit_actions
from tests.reviewer.conftest import freeze_mid_totp_step, login_client
from tests.reviewer.test_auth import csrf, post_login


def test_the_admin_hands_over_the_new_key_and_the_next_login_needs_a_code(
        app, session_factory, services, world) -> None:
    freeze_mid_totp_step(services)
    admin = login_client(app, session_factory, services, world.admin)
    path = f"/admin/reviewers/{world.on_case.id}/reset-totp"
    done = admin.post(path, data={"csrf_token": csrf(admin, path)})
    assert done.status_code == 200 and b"<svg" in done.data and b"<script" not in done.data
    shown = re.search(r'id="totp-secret"[^>]*>([^<]+)<', done.text)
    assert shown is not None
    secret = html.unescape(shown.group(1)).replace(" ", "")
    assert "reviewer:totp:reset" in audit_actions(session_factory)

    handler = app.test_client()
    passphrase = world.on_case.passphrase
    for code in ("", "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"):
        refused = post_login(handler, world.on_case.username, passphrase, code)
        assert refused.status_code == 400  # the login form again, with its error
        assert handler.get(f"/cases/{world.case_id}").status_code in (302, 303)
        assert handler.get("/enrol").status_code in (302, 303)  # no key shown either

    ok = post_login(handler, world.on_case.username, passphrase,
                    pyotp.TOTP(secret).at(services.clock.now()))
    assert ok.status_code == 303 and not ok.location.endswith("/enrol")
    assert handler.get(f"/cases/{world.case_id}").status_code == 200
    with session_factory() as s:
        assert s.get(Reviewer, world.on_case.id).totp_confirmed
    assert audit_actions(session_factory)[-3:-1] == ["reviewer:totp:enrol", "session:login"]
