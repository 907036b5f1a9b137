"""Retention in the console: the case page says when a finished case's content will be
destroyed, the case lead places or lifts a legal hold, and a destroyed case shows its clear
facts and a notice, decrypting nothing, with no server error on any of its pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.audit.log import AuditAction as A
from core.db import transaction
from core.models import AuditEvent, Case
from core.operations.retention_run import run_retention
from tests.core.cases.retention_world import build_full_case
from tests.reviewer.conftest import login_client
from tests.reviewer.test_category_suggestion import _token


def _decryptions(session_factory: Any) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_((A.REPORT_DECRYPTED, A.ATTACHMENT_DECRYPTED,
                                   A.SUMMARIES_DECRYPTED, A.IDENTITY_REVEALED,
                                   A.IDENTITY_REQUEST_READ, A.CATEGORY_EXAMPLES_DECRYPTED)))))


def test_the_lead_sees_the_day_and_places_and_lifts_a_hold(
        app: Any, session_factory: Any, services: Any) -> None:
    full = build_full_case(session_factory, services)
    day = services.clock.today() + timedelta(days=services.config.retention_days)
    lead = login_client(app, session_factory, services, full.lead)
    page = lead.get(f"/cases/{full.case_id}").get_data(as_text=True)
    assert (f"Content to be destroyed on {day.isoformat()} under the retention policy, unless "
            "the case is on legal hold.") in page
    assert 'id="legal-hold-submit"' in page
    # Another member (not the lead) sees the day but not the form, and is refused.
    other = login_client(app, session_factory, services, full.intake)
    page_other = other.get(f"/cases/{full.case_id}").get_data(as_text=True)
    assert 'id="legal-hold-form"' not in page_other
    assert other.post(f"/cases/{full.case_id}/legal-hold", data={
        "csrf_token": _token(page_other), "hold-hold": "on"}).status_code == 403
    # Without the CSRF token: refused, nothing changes.
    assert lead.post(f"/cases/{full.case_id}/legal-hold",
                     data={"hold-hold": "on"}).status_code == 400
    placed = lead.post(f"/cases/{full.case_id}/legal-hold", data={
        "csrf_token": _token(page), "hold-hold": "on"})
    assert placed.status_code == 303
    page = lead.get(f"/cases/{full.case_id}").get_data(as_text=True)
    assert "On legal hold" in page and "Lift the legal hold" in page
    assert lead.post(f"/cases/{full.case_id}/legal-hold", data={
        "csrf_token": _token(page), "hold-hold": "off"}).status_code == 303
    with session_factory() as s:
        assert not s.get(Case, full.case_id).legal_hold
        assert len(s.execute(select(AuditEvent.position).where(
            AuditEvent.action == "case:hold")).all()) == 2


def test_a_destroyed_case_shows_its_facts_and_decrypts_nothing(
        app: Any, session_factory: Any, services: Any) -> None:
    full = build_full_case(session_factory, services)
    with session_factory() as s:
        file_ids = [a.id for a in s.get(Case, full.case_id).attachments]
    lead = login_client(app, session_factory, services, full.lead)
    form_page = lead.get(f"/cases/{full.case_id}").get_data(as_text=True)
    day = services.clock.today() + timedelta(days=services.config.retention_days)
    run_retention(lambda: transaction(session_factory), services, day)
    before = _decryptions(session_factory)
    assert before > 0  # the counter counts: the page above was read (and audited)

    page = lead.get(f"/cases/{full.case_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert (f"The content of this case was destroyed on {day.isoformat()} under the "
            "retention policy.") in text
    assert full.reference in text and "CANARY" not in text
    for path in (f"/cases/{full.case_id}/files/{file_ids[0]}",
                 f"/cases/{full.case_id}/casework", f"/cases/{full.case_id}/reveal",
                 f"/cases/{full.case_id}/identity-request"):
        answer = lead.get(path)
        assert answer.status_code == 404, path
        assert "The content of this case was destroyed" in answer.get_data(as_text=True)
    assert lead.get(f"/cases/{full.case_id}/history").status_code == 200
    inbox = lead.get("/cases")
    assert inbox.status_code == 200 and full.reference in inbox.get_data(as_text=True)
    # Steps that would change it are refused with the notice, not a server error.
    for path, data in ((f"/cases/{full.case_id}/reopen", {"reason": "again"}),
                       (f"/cases/{full.case_id}/legal-hold", {"hold-hold": "on"})):
        answer = lead.post(path, data={"csrf_token": _token(form_page), **data})
        assert answer.status_code in (404, 409), path
        assert "The content of this case was destroyed" in answer.get_data(as_text=True)
    assert _decryptions(session_factory) == before
