"""An administrator's actions ask for the passphrase again once its last entry (the login
counts) is more than five minutes old: creating an account and proposing intake routing as
much as editing an account or approving a change (outside reviewer: these two did not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from core.models import Reviewer, ReviewerSession, StaffChange
from tests.reviewer.conftest import World, login_client
from tests.reviewer.test_auth import csrf


def _counts(session_factory: Any) -> tuple[int, int]:
    with session_factory() as s:
        return (s.execute(select(func.count()).select_from(Reviewer)).scalar_one(),
                s.execute(select(func.count()).select_from(StaffChange)).scalar_one())


def _six_minutes_later(session_factory: Any, services: Any) -> None:
    services.clock.now = lambda: datetime.now(UTC) + timedelta(minutes=6)
    with session_factory.begin() as s:  # the session itself stays alive
        for row in s.execute(select(ReviewerSession)).scalars():
            row.last_seen_at = services.clock.now()


def test_a_stale_entry_is_asked_again_before_an_account_or_a_routing(
        app: Any, session_factory: Any, services: Any, world: World) -> None:
    client = login_client(app, session_factory, services, world.admin)
    assert client.get("/admin/reviewers/new").status_code == 200  # fresh login
    assert client.get("/admin/routing").status_code == 200
    new_token, routing_token = csrf(client, "/admin/reviewers/new"), csrf(client, "/admin/routing")
    before = _counts(session_factory)
    _six_minutes_later(session_factory, services)
    created = client.post("/admin/reviewers/new", data={
        "csrf_token": new_token, "username": "newbie", "role": "reviewer"})
    assert created.status_code == 302 and "/reauth" in created.location
    routed = client.post("/admin/routing", data={
        "csrf_token": routing_token, "category": "it_fault",
        "it_fault-reviewers": str(world.on_case.id)})
    assert routed.status_code == 302 and "/reauth" in routed.location
    assert _counts(session_factory) == before  # nothing asked for
    assert client.get("/admin/routing").status_code == 302  # the page asks first, too
