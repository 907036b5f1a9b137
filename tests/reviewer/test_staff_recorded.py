"""Reports a case handler records for a reporter who telephoned, wrote or came in person: the
case is made like a web report (channel in clear), the receipt code is shown once on a
printable page and opens the case in the portal; bad input records nothing."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.cases.content import ReportContent
from core.cases.grants import find_reviewer_grant
from core.db import transaction
from core.intake.reporter import login_submitter, read_case_for_submitter
from core.models import AuditEvent, Case, Channel, Disclosure, KeyKind, Role
from tests.core.factories import seed_categories
from tests.reviewer.conftest import login_client, new_account
from tests.reviewer.test_auth import csrf

RECEIPT_RE = re.compile(r'id="receipt-code">([0-9 ]+)<')


def _fields(**changes: str) -> dict[str, str]:
    return {"channel": "hotline", "category": "it_fault", "language": "en",
            "summary": "Caller: server room door open", "what_happened": "Open all night.",
            "receipt_explained": "y", **changes}


def test_a_hotline_report_gets_a_receipt_that_opens_it_in_the_portal(
        app, session_factory, services) -> None:
    handler = new_account(session_factory, services, "hana")
    recorder = new_account(session_factory, services, "rui")
    seed_categories(session_factory, {"it_fault": [handler.id]}, services=services)
    client = login_client(app, session_factory, services, recorder)
    assert 'id="record-report-link"' in client.get("/cases").text
    response = client.post("/intake/new", data={"csrf_token": csrf(client, "/intake/new"),
                                                **_fields(name="Zhang San")})
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["Cache-Control"] == "no-store"
    code = RECEIPT_RE.search(response.text)
    assert code, response.text[:2000]
    receipt = code.group(1)
    with session_factory() as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.channel is Channel.HOTLINE and case.disclosure is Disclosure.CONFIDENTIAL
        # The category's handler holds the keys; the recorder does not.
        assert find_reviewer_grant(s, case.id, handler.id, KeyKind.CASE) is not None
        assert find_reviewer_grant(s, case.id, recorder.id, KeyKind.CASE) is None
        event = s.execute(select(AuditEvent).where(
            AuditEvent.action == "case:intake:staff")).scalar_one()
        assert event.reviewer_id == recorder.id and event.case_id == case.id
        assert "hotline" in event.detail
    with transaction(session_factory) as s:
        access = login_submitter(s, services, receipt)
        view = read_case_for_submitter(s, services, access)
        assert view.report.summary == "Caller: server room door open"
        assert view.report.language == "en"


def test_bad_input_records_nothing(app, session_factory, services) -> None:
    recorder = new_account(session_factory, services, "rui")
    seed_categories(session_factory, {"it_fault": [recorder.id]}, services=services)
    client = login_client(app, session_factory, services, recorder)
    for bad in (_fields(summary=""), _fields(channel="web"), _fields(category="nope"),
                _fields(contact="13800000000"),  # a contact without a name
                {k: v for k, v in _fields().items() if k != "receipt_explained"}):
        response = client.post("/intake/new", data={"csrf_token": csrf(client, "/intake/new"),
                                                    **bad})
        assert response.status_code == 400, bad
        assert not RECEIPT_RE.search(response.text)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_only_case_handlers_record_reports(app, session_factory, services) -> None:
    for role in (Role.ADMIN, Role.AUDITOR):
        account = new_account(session_factory, services, f"x{role.value}", role)
        assert login_client(app, session_factory, services, account).get(
            "/intake/new").status_code == 403


def test_the_core_refuses_the_web_channel(session_factory, services) -> None:
    import pytest

    from core.errors import InvalidInput
    from core.intake.staff_recorded import record_report
    recorder = new_account(session_factory, services, "rui")
    seed_categories(session_factory, {"it_fault": [recorder.id]}, services=services)
    with transaction(session_factory) as s, pytest.raises(InvalidInput):
        record_report(s, services, recorder.unlocked, channel=Channel.WEB,
                      category_code="it_fault", report=ReportContent(summary="x"))
