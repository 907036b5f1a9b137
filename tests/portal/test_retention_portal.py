"""After retention destroyed a case, its receipt code opens nothing: the portal answers as for
an unknown code (never a server error), and a reporter still logged in is logged out."""

from __future__ import annotations

from datetime import timedelta

from core.cases import workflow
from core.cases.casework import UnlockedReviewer
from core.db import transaction
from core.models import ScopeDecision
from core.operations.retention_run import run_retention
from tests.core.factories import submit
from tests.portal.conftest import login_via


def _referred(session_factory, services, intake_reviewer):
    result = submit(session_factory, services, files=[("a.txt", b"attached")])
    who = UnlockedReviewer(intake_reviewer.id, intake_reviewer.private_key)
    with transaction(session_factory) as s:
        workflow.decide_scope(s, services, who, result.case_id, ScopeDecision.REFERRED,
                              message="Ask HR.")
    return result


def _destroy(session_factory, services) -> None:
    day = services.clock.today() + timedelta(days=services.config.retention_days)
    summary = run_retention(lambda: transaction(session_factory), services, day)
    assert len(summary.destroyed) == 1


def test_the_receipt_of_a_destroyed_case_is_an_unknown_code(
        client, session_factory, services, intake_reviewer) -> None:
    result = _referred(session_factory, services, intake_reviewer)
    # A reporter logged in before the run ...
    assert login_via(client, result.receipt_code).status_code == 303
    assert client.get("/case").status_code == 200
    _destroy(session_factory, services)
    # ... finds their session ended: the login page, as after logging out.
    page = client.get("/case")
    assert page.status_code == 200 and 'name="receipt"' in page.text
    assert client.get("/case/files/1").status_code == 303  # back to the login page
    # Logging in again: the same answer as an unknown code, and the case is not shown.
    fresh = client.application.test_client()
    assert login_via(fresh, result.receipt_code).status_code == 303
    page = fresh.get("/case")
    assert page.status_code == 200 and 'name="receipt"' in page.text
    assert result.reference not in page.text


def test_a_reply_whose_upload_outlasts_the_shred_stores_nothing(
        client, session_factory, services, intake_reviewer, monkeypatch) -> None:
    """A reply checks its session before its files stream in, and no transaction is open
    meanwhile: retention may destroy the case during the upload. The reporter's session still
    holds the first case key, so the message must be refused under the case's lock, or a
    fresh ciphertext and blob of the destroyed case would be left behind."""
    from portal.views import followup
    from tests.portal.conftest import counts, csrf_token, post_multipart

    result = _referred(session_factory, services, intake_reviewer)
    assert login_via(client, result.receipt_code).status_code == 303
    token = csrf_token(client.get("/case").text)
    real_store = followup.store_submitter_file

    def store_then_shred(*args, **kwargs):
        stored = real_store(*args, **kwargs)
        _destroy(session_factory, services)  # the daily run commits while the body streams
        return stored

    monkeypatch.setattr(followup, "store_submitter_file", store_then_shred)
    response = post_multipart(client, "/case/reply",
                              [("csrf_token", token), ("body", "CANARY-LATE reply")],
                              [("attachments", "late.txt", b"CANARY-LATE file")])
    assert response.status_code == 403, response.text[:2000]
    assert 'name="receipt"' in response.text  # the login page, as for an ended session
    after = counts(session_factory, services)
    assert after.messages == 0 and after.attachments == 0 and after.grants == 0
    assert after.blobs == 0
    # The session ended with the case: the next page is the login page.
    page = client.get("/case")
    assert page.status_code == 200 and 'name="receipt"' in page.text


def test_a_reporter_message_after_the_shred_is_refused(
        session_factory, services, intake_reviewer) -> None:
    """The use case itself refuses a destroyed case, whatever access its caller holds."""
    import pytest
    from sqlalchemy import func, select

    from core.cases.retention import ContentDestroyed
    from core.intake.outcome_answer import answer_outcome
    from core.intake.reporter import login_submitter, post_submitter_message
    from core.models import Case, Message

    result = _referred(session_factory, services, intake_reviewer)
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
    _destroy(session_factory, services)
    with pytest.raises(ContentDestroyed), transaction(session_factory) as s:
        post_submitter_message(s, services, access, "CANARY-LATE")
    with pytest.raises(ContentDestroyed), transaction(session_factory) as s:
        answer_outcome(s, services, access, False, "CANARY-LATE comment")
    # Without a comment too: the answer is a clear column the statistics keep as it was.
    with pytest.raises(ContentDestroyed), transaction(session_factory) as s:
        answer_outcome(s, services, access, False)
    with session_factory() as s:
        assert s.scalar(select(func.count(Message.id))) == 0
        assert s.get(Case, result.case_id).satisfaction is None
