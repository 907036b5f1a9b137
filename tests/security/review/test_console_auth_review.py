"""Guards fixed review findings on console authentication and sessions. Each test failed on
the code as reviewed and passes since the fixes; its docstring names the hole it keeps shut."""

from __future__ import annotations

from datetime import UTC, datetime

from core.models import Reviewer, ReviewerSession
from core.session_tokens import new_session_token
from core.staff import authentication as staff_auth
from crypto.keys import generate_keypair
from crypto.reviewer_keys import unwrap_private_key
from tests.core.factories import strong_passphrase
from tests.reviewer.conftest import login_client, new_account

#: The start of a 15-minute window, so that no throttle window rolls over during a test.
FIXED_NOW = datetime(2031, 3, 4, 9, 0, 1, tzinfo=UTC)


def _login(client, username: str, passphrase: str):
    return client.post("/login", data={"username": username, "passphrase": passphrase,
                                       "code": "123456"})


def test_known_and_unknown_usernames_answer_alike_when_hammered(app, session_factory,
                                                                 services):
    """SECURITY.md: failures are "answered with one generic message". Hammering a known and
    an unknown username gives the same answers, 429 "try again in N seconds" included: the
    throttle counts by the typed name, so it is no username-enumeration (or lock-state)
    oracle."""
    app.config["WTF_CSRF_ENABLED"] = False
    services.clock.now = lambda: FIXED_NOW
    new_account(session_factory, services, "alice")
    attempts = staff_auth.ACCOUNT_LIMIT + 2

    def answers(username: str) -> list[tuple[int, bool]]:
        out = []
        for _ in range(attempts):
            response = _login(app.test_client(), username, "wrong passphrase entirely")
            out.append((response.status_code, "Retry-After" in response.headers))
        return out

    known = answers("alice")
    unknown = answers("nobody-by-this-name")
    assert known == unknown, (known, unknown)


def test_passphrase_change_is_throttled_like_reauthentication(app, session_factory, services):
    """/passphrase checks the current passphrase against the account's budget, as
    re-authentication does (10 per 15 minutes). Without it anyone holding a session cookie
    could guess the passphrase there without limit, and a right guess would change it to one
    they choose, pass every re-auth gate (grant, identity reveal) and lock the owner out."""
    app.config["WTF_CSRF_ENABLED"] = False
    services.clock.now = lambda: FIXED_NOW
    handle = new_account(session_factory, services, "victim")
    client = login_client(app, session_factory, services, handle)
    new = strong_passphrase("attacker")
    for i in range(staff_auth.ACCOUNT_LIMIT + 5):
        client.post("/passphrase", data={"current": f"guess number {i} is wrong",
                                         "new": new, "confirm": new})
    # The next guess is right: it must be refused like any attempt past the budget.
    client.post("/passphrase", data={"current": handle.passphrase, "new": new, "confirm": new})
    with session_factory() as s:
        reviewer = s.get(Reviewer, handle.id)
        assert reviewer is not None
        # Still the owner's passphrase: the change past the budget was refused.
        assert unwrap_private_key(reviewer.wrapped_private_key, handle.passphrase) \
            == handle.private_key


def test_passphrase_change_ends_the_other_sessions(app, session_factory, services):
    """Changing one's passphrase ends the account's other sessions, as reset_passphrase
    does: a reviewer who fears it leaked must not leave an intruder's session alive (up to 8
    hours)."""
    app.config["WTF_CSRF_ENABLED"] = False
    handle = new_account(session_factory, services, "worried")
    mine = login_client(app, session_factory, services, handle)
    other = login_client(app, session_factory, services, handle)
    assert other.get("/cases").status_code == 200
    new = strong_passphrase("fresh")
    changed = mine.post("/passphrase", data={"current": handle.passphrase, "new": new,
                                             "confirm": new})
    assert changed.status_code == 303
    response = other.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_objects_do_not_show_secrets_in_repr():
    """LoadedSession (the unwrapped X25519 private key), SessionToken and LoginResult (the
    cookie's session id and secret) keep their secrets out of repr() and str(), like
    UnlockedReviewer and SubmitterAccess (tests/security/test_secret_reprs.py)."""
    private_key = generate_keypair().private_key
    loaded = staff_auth.LoadedSession(reviewer=Reviewer(id=1, username="x"),
                                      row=ReviewerSession(), private_key=private_key)
    token = new_session_token()
    result = staff_auth.LoginResult(token=token, reviewer_id=1)
    for obj, secret in ((loaded, private_key), (token, token.secret), (token, token.session_id),
                        (result, token.secret)):
        shown = repr(obj) + str(obj)
        assert repr(secret) not in shown and secret.hex() not in shown, type(obj).__name__
