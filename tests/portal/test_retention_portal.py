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
