"""The outcome answer's edge cases: input the form refuses (a comment too long, a choice not
offered) and an answer sent after the follow-up session ended. The main path (not satisfied
asks for a review, refused before the outcome, no CSRF token) is in test_outcome_answers.py."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from core.audit.log import Actor
from core.cases.content import MAX_LONG_TEXT
from core.db import transaction
from core.models import Author, Case, CaseStatus, Message, PendingAuditEvent
from core.services import Services
from tests.core.factories import walk_to
from tests.portal.conftest import (
    IntakeReviewer,
    csrf_token,
    login_via,
    only_case_id,
    receipt_of,
    report_fields,
    submit_report_via,
)

COMMENT = "UNSENT-ANSWER-CANARY nobody called me back"


def _referred_case(client: FlaskClient, session_factory: sessionmaker[Session],
                   services: Services) -> int:
    """A reported case, logged in, referred elsewhere (a stage the reporter may answer in)."""
    receipt = receipt_of(submit_report_via(client, report_fields()).text)
    assert login_via(client, receipt).status_code == 303
    case_id = only_case_id(session_factory)
    with transaction(session_factory) as s:
        walk_to(s, services, Actor.system(), s.get(Case, case_id), CaseStatus.REFERRED)
    return case_id


def _answer(client: FlaskClient, **fields: str) -> TestResponse:
    page = client.get("/case")
    return client.post("/case/answer", data={"csrf_token": csrf_token(page.text), **fields})


def _nothing_stored(session_factory: sessionmaker[Session], case_id: int) -> None:
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert case.satisfaction is None and not case.review_requested
        assert s.execute(select(Message).where(Message.author == Author.SUBMITTER)
                         ).first() is None
        assert s.execute(select(PendingAuditEvent).where(
            PendingAuditEvent.action == "case:outcome:answer")).first() is None


def test_refused_input_is_a_400_with_a_reason(client: FlaskClient,
                                               session_factory: sessionmaker[Session],
                                               services: Services,
                                               intake_reviewer: IntakeReviewer) -> None:
    case_id = _referred_case(client, session_factory, services)
    too_long = _answer(client, satisfied="no", comment="x" * (MAX_LONG_TEXT + 1))
    assert too_long.status_code == 400
    assert f"Keep this under {MAX_LONG_TEXT} characters." in too_long.text
    assert "Choose whether you are satisfied" not in too_long.text  # a choice was made
    not_offered = _answer(client, satisfied="maybe")
    assert not_offered.status_code == 400
    assert "Choose whether you are satisfied, then send." in not_offered.text
    _nothing_stored(session_factory, case_id)


def test_an_answer_after_the_session_ended_gives_the_comment_back(
        client: FlaskClient, session_factory: sessionmaker[Session], services: Services,
        intake_reviewer: IntakeReviewer) -> None:
    case_id = _referred_case(client, session_factory, services)
    token = csrf_token(client.get("/case").text)
    assert client.post("/case/logout", data={"csrf_token": token}).status_code == 303
    late = client.post("/case/answer",
                       data={"csrf_token": token, "satisfied": "no", "comment": COMMENT})
    assert late.status_code == 403
    assert 'id="reply-not-sent"' in late.text and COMMENT in late.text
    bare = client.post("/case/answer", data={"csrf_token": token, "satisfied": "yes"})
    assert bare.status_code == 303 and bare.headers["Location"].endswith("/case")
    _nothing_stored(session_factory, case_id)


def test_the_answer_form_in_chinese(client: FlaskClient,
                                    session_factory: sessionmaker[Session],
                                    services: Services,
                                    intake_reviewer: IntakeReviewer) -> None:
    _referred_case(client, session_factory, services)
    page = client.get("/case", headers={"Accept-Language": "zh-CN"}).text
    assert "您对您反映的问题的处理结果满意吗？" in page
    assert _answer(client, satisfied="no").status_code == 303
    page = client.get("/case", headers={"Accept-Language": "zh-CN"}).text
    assert "调查小组将对案件进行复核" in page
