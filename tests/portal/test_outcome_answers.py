"""The reporter's answer to the outcome on the case page: satisfied or not, with a comment;
"not satisfied" flags the case for a review. Also: the page names the category the reporter
chose and whether they gave their name."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit.log import Actor
from core.cases.casework import UnlockedReviewer, send_message
from core.db import transaction
from core.models import (
    Author,
    Case,
    CaseMember,
    CaseStatus,
    Message,
    MessageKind,
    PendingAuditEvent,
    Satisfaction,
)
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

COMMENT = "OUTCOME-COMMENT-CANARY the fix did not last"


def _reported(client: FlaskClient, **fields: str) -> None:
    receipt = receipt_of(submit_report_via(client, report_fields(**fields)).text)
    assert login_via(client, receipt).status_code == 303


def _outcome_sent(session_factory, services, intake_reviewer: IntakeReviewer) -> int:
    case_id = only_case_id(session_factory)
    who = UnlockedReviewer(intake_reviewer.id, intake_reviewer.private_key)
    with transaction(session_factory) as s:
        walk_to(s, services, who.actor, s.get(Case, case_id), CaseStatus.DECIDED)
        send_message(s, services, who, case_id, MessageKind.FEEDBACK, "Fixed. Grounds: logs.")
    return case_id


def _answer(client: FlaskClient, **fields: str):
    page = client.get("/case")
    return client.post("/case/answer", data={"csrf_token": csrf_token(page.text), **fields})


def test_not_satisfied_asks_for_a_review(client: FlaskClient,
                                         session_factory: sessionmaker[Session],
                                         services: Services,
                                         intake_reviewer: IntakeReviewer) -> None:
    _reported(client)
    assert 'id="answer-form"' not in client.get("/case").text  # no outcome yet
    case_id = _outcome_sent(session_factory, services, intake_reviewer)
    assert 'id="answer-form"' in client.get("/case").text
    answered = _answer(client, satisfied="no", comment=COMMENT)
    assert answered.status_code == 303
    page = client.get("/case").text
    assert 'id="answer-given"' in page and COMMENT in page
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case.satisfaction is Satisfaction.NOT_SATISFIED and case.review_requested
        member = s.get(CaseMember, (case_id, intake_reviewer.id))
        assert member.review_requested  # the inbox's copy: "reporter not satisfied"
        comment = s.execute(select(Message).where(
            Message.case_id == case_id, Message.author == Author.SUBMITTER)).scalar_one()
        assert COMMENT.encode() not in comment.body_ciphertext
        queued = s.execute(select(PendingAuditEvent).where(
            PendingAuditEvent.action == "case:outcome:answer")).scalar_one()
        assert queued.detail == '{"satisfied":false}'  # no row ids, no content
    # Changing the answer clears the request for a review.
    with transaction(session_factory) as s:  # as if the comment's day were long past
        s.get(Case, case_id).submitter_active_on = date(2000, 1, 3)
    assert _answer(client, satisfied="yes").status_code == 303
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case.satisfaction is Satisfaction.SATISFIED and not case.review_requested
        # An answer without a comment is reporter activity too: the inbox sorts by it, and
        # `candor cleanup` rewrites the case row of that day (SECURITY.md, xmin).
        assert case.submitter_active_on == services.clock.submitter_day()


def test_an_answer_before_the_outcome_or_without_a_choice_changes_nothing(
        client: FlaskClient, session_factory: sessionmaker[Session], services: Services,
        intake_reviewer: IntakeReviewer) -> None:
    _reported(client)
    early = _answer(client, satisfied="no", comment="Too early")
    assert early.status_code == 409 and 'id="answer-error"' in early.text
    _outcome_sent(session_factory, services, intake_reviewer)
    empty = _answer(client, comment="No choice")
    assert empty.status_code == 400 and 'id="answer-error"' in empty.text
    no_token = client.post("/case/answer", data={"satisfied": "yes"})
    assert no_token.status_code == 400
    with session_factory() as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.satisfaction is None and not case.review_requested
        assert s.execute(select(Message).where(Message.author == Author.SUBMITTER)
                         ).first() is None


def test_a_referred_report_can_be_answered_too(client: FlaskClient,
                                               session_factory: sessionmaker[Session],
                                               services: Services,
                                               intake_reviewer: IntakeReviewer) -> None:
    _reported(client)
    with transaction(session_factory) as s:
        walk_to(s, services, Actor.system(), s.get(Case, only_case_id(session_factory)),
                CaseStatus.REFERRED)
    assert _answer(client, satisfied="no").status_code == 303


def test_the_page_names_the_category_and_whether_a_name_was_given(
        client: FlaskClient, session_factory: sessionmaker[Session],
        intake_reviewer: IntakeReviewer) -> None:
    _reported(client)
    page = client.get("/case").text
    assert 'id="case-category"' in page and 'id="case-disclosure"' in page
    assert "not given: you are anonymous" in page
    chinese = client.get("/case", headers={"Accept-Language": "zh-CN"}).text
    assert "技术故障与信息系统问题" in chinese
