"""The whole case cycle in a real browser with JavaScript off, in English and Chinese: a
reporter submits through the portal; two case handlers take the case through every stage in
the console (acknowledge, accept with a lead and a priority, evidence, decision, corrective
action, outcome with grounds, follow-up, close); after each step the reporter's page shows
the stage the case is in. Screenshots of both apps are saved in artifacts/e2e."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.cases.team_changes import grant_case
from core.db import transaction
from core.models import Case, CaseStatus, Reviewer
from tests.core.factories import seed_categories
from tests.e2e.console_login import LOCALE, console_login
from tests.e2e.test_cross_app import ARTIFACTS, _browser, servers  # noqa: F401 - fixture
from tests.reviewer.conftest import new_account

#: The reporter's stage names, as the portal shows them.
STAGE = {
    "en": {CaseStatus.RECEIVED: "Received", CaseStatus.ACKNOWLEDGED: "Acknowledged",
           CaseStatus.UNDER_INVESTIGATION: "Under investigation",
           CaseStatus.DECIDED: "Decided", CaseStatus.FEEDBACK_GIVEN: "Outcome sent",
           CaseStatus.FOLLOW_UP: "Corrective actions in progress",
           CaseStatus.CLOSED: "Closed"},
    "zh_CN": {CaseStatus.RECEIVED: "已提交", CaseStatus.ACKNOWLEDGED: "已确认收到",
              CaseStatus.UNDER_INVESTIGATION: "调查中", CaseStatus.DECIDED: "已作出处理决定",
              CaseStatus.FEEDBACK_GIVEN: "已反馈", CaseStatus.FOLLOW_UP: "整改跟进中",
              CaseStatus.CLOSED: "已归档"},
}


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_case_through_every_stage_in_both_apps(servers, session_factory,  # noqa: F811
                                                 services, lang) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    portal_url, console_url = servers
    hana = new_account(session_factory, services, "hana")
    ivan = new_account(session_factory, services, "ivan")
    seed_categories(session_factory, {"it_fault": [hana.id]}, services=services)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = 0

    def shot(page, name: str) -> None:
        nonlocal shots
        shots += 1
        page.screenshot(path=str(ARTIFACTS / f"cycle-{lang}-{shots:02d}-{name}.png"),
                        full_page=True)

    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        reporter = browser.new_context(java_script_enabled=False, locale=LOCALE[lang])
        portal = reporter.new_page()
        portal.goto(portal_url + "/report")
        portal.check("input[name=category][value=it_fault]")
        portal.fill("#summary", "Badge reader at door 4 fails")
        portal.fill("#what_happened", "Since Monday the badge reader rejects valid badges.")
        portal.click("#send-report")
        portal.wait_for_selector("#receipt-code")
        receipt = portal.inner_text("#receipt-code")
        shot(portal, "portal-receipt")
        portal.goto(portal_url + "/follow-up")
        portal.fill("#receipt", receipt)
        portal.click("#open-report")
        portal.wait_for_selector("#stage-name")

        def reporter_sees(stage: CaseStatus, name: str) -> None:
            portal.goto(portal_url + "/case")
            assert portal.inner_text("#stage-name") == STAGE[lang][stage]
            shot(portal, f"portal-{name}")

        reporter_sees(CaseStatus.RECEIVED, "received")
        with session_factory() as s:
            case = s.execute(select(Case)).scalar_one()
            case_id, reference = case.id, case.reference
        with transaction(session_factory) as s:
            grant_case(s, services, hana.unlocked, case_id, s.get(Reviewer, ivan.id))

        staff, console = console_login(browser, console_url, session_factory, services,
                                       hana, lang)
        console.wait_for_url("**/cases")
        assert reference in console.content()
        assert "Badge reader at door 4 fails" in console.inner_text("#inbox-table")
        shot(console, "console-inbox")
        case_url = f"{console_url}/cases/{case_id}"
        console.goto(case_url)
        shot(console, "console-received")
        console.click("#acknowledge-submit")
        console.wait_for_url(f"{case_url}#handling")
        reporter_sees(CaseStatus.ACKNOWLEDGED, "acknowledged")

        console.check("#decision-0")  # accept and investigate
        console.select_option("#lead", str(ivan.id))
        console.select_option("#priority", "urgent")
        console.fill("#message", "")
        console.click("#scope-submit")
        console.wait_for_url(f"{case_url}#handling")
        assert "ivan" in console.inner_text("#case-lead")
        shot(console, "console-accepted")
        reporter_sees(CaseStatus.UNDER_INVESTIGATION, "investigation")

        # The lead keeps the evidence log and decides.
        lead_context, lead = console_login(browser, console_url, session_factory, services,
                                           ivan, lang)
        lead.goto(f"{case_url}/casework")
        lead.check("#kind-1")  # a file entry, through the page's own file input
        lead.fill("#text", "The reader's log for Monday.")
        lead.set_input_files("#evidence-files", files=[{
            "name": "reader.log", "mimeType": "text/plain", "buffer": b"door reader log"}])
        lead.click("#evidence-submit")
        lead.wait_for_selector("#evidence-1")
        assert "reader.log" in lead.inner_text("#evidence-1")
        lead.check("#kind-2")  # interview record
        lead.fill("#interviewee", "Facilities desk")
        lead.fill("#text", "Confirmed: the reader firmware was updated on Monday.")
        lead.click("#evidence-submit")
        lead.wait_for_selector("#evidence-2")
        lead.check("#finding-0")  # substantiated
        lead.select_option("#root_cause", "technical_defect")
        lead.fill("#reasons", "Logs and the facilities desk confirm the failed update.")
        lead.click("#decision-submit")
        lead.wait_for_selector("#decision-v1")
        reporter_sees(CaseStatus.DECIDED, "decided")
        due = (services.clock.today() + timedelta(days=14)).isoformat()
        lead.fill("#title", "Roll back the reader firmware")
        lead.select_option("#owner", str(hana.id))
        lead.fill("#due_on", due)
        lead.click("#action-submit")
        lead.wait_for_selector("#action-1")
        shot(lead, "console-decision-and-action")

        lead.goto(case_url)
        lead.fill("#outcome", "The reader will be fixed within two weeks.")
        lead.fill("#grounds", "The logs show the firmware update broke badge checks.")
        lead.click("#feedback-submit")
        lead.wait_for_url(f"{case_url}#thread")
        reporter_sees(CaseStatus.FEEDBACK_GIVEN, "outcome")
        assert "The logs show the firmware update broke badge checks." in portal.content()
        # The reporter is not satisfied; the team answers the review.
        portal.check("#satisfied-1")
        portal.fill("#comment", "The reader at door 5 fails too.")
        portal.click("#send-answer")
        portal.wait_for_selector("#answer-given")
        shot(portal, "portal-not-satisfied")
        lead.goto(case_url)
        assert lead.is_visible("#review-requested")
        shot(lead, "console-review-requested")
        lead.fill("#review-body", "Door 5 is on the same firmware: it is included.")
        lead.click("#review-submit")
        lead.wait_for_url(f"{case_url}#thread")
        assert not lead.is_visible("#review-requested")
        portal.goto(portal_url + "/case")
        assert "Door 5 is on the same firmware" in portal.content()
        lead.goto(case_url)
        lead.click("#follow-up-submit")
        lead.wait_for_url(f"{case_url}#handling")
        reporter_sees(CaseStatus.FOLLOW_UP, "follow-up")

        # The owner records the follow-up; the lead closes.
        console.goto(f"{case_url}/casework")
        console.select_option("#status-1", "done")
        console.fill("#note-1", "Firmware rolled back and tested.")
        console.click("#action-1 button[type=submit]")
        console.wait_for_selector("#action-1 .action-status")
        shot(console, "console-action-done")
        lead.goto(case_url)
        lead.click("#close-submit")
        lead.wait_for_url(f"{case_url}#handling")
        with session_factory() as s:
            assert s.get(Case, case_id).status is CaseStatus.CLOSED
        shot(lead, "console-closed")
        reporter_sees(CaseStatus.CLOSED, "closed")
        lead.goto(f"{case_url}/history")
        shot(lead, "console-history")

        for context in (reporter, staff, lead_context):
            context.close()
        browser.close()
