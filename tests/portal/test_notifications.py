"""The portal queues a "new activity" mark for the case team, in the same transaction, and
sends nothing itself (emails go out in batches from `candor notify`)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import PendingNotification, Reviewer
from tests.portal.conftest import (
    IntakeReviewer,
    login_via,
    receipt_of,
    reply_via,
    submit_report_via,
)


def _pending(session_factory: sessionmaker[Session]) -> list[int]:
    with session_factory() as s:
        return list(s.execute(select(PendingNotification.reviewer_id)).scalars())


def test_submission_and_reply_queue_one_mark_for_the_team(
    client: FlaskClient, session_factory: sessionmaker[Session], intake_reviewer: IntakeReviewer
) -> None:
    with transaction(session_factory) as s:
        s.execute(update(Reviewer).values(email="intake@example.org"))
    response = submit_report_via(client)
    assert response.status_code == 200
    assert _pending(session_factory) == [intake_reviewer.id]

    with transaction(session_factory) as s:
        s.execute(PendingNotification.__table__.delete())
    assert login_via(client, receipt_of(response.text)).status_code == 303
    assert reply_via(client, "More details").status_code == 303
    assert _pending(session_factory) == [intake_reviewer.id]


def test_team_members_without_email_are_not_queued(
    client: FlaskClient, session_factory: sessionmaker[Session], intake_reviewer: IntakeReviewer
) -> None:
    assert submit_report_via(client).status_code == 200
    assert _pending(session_factory) == []
