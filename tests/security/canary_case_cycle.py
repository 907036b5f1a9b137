"""The case cycle's texts for the canary scan (test_canaries.py): every text a handler or a
reporter writes after the first feedback, through the real use cases."""

from __future__ import annotations

from datetime import timedelta

from core.cases import workflow
from core.cases.actions import add_action, update_action
from core.cases.casework import (
    store_reviewer_file,
)
from core.cases.casework_reading import read_casework
from core.cases.content import Identity, ReportContent
from core.cases.evidence import add_evidence
from core.cases.summaries import inbox_summaries
from core.db import transaction
from core.intake.outcome_answer import answer_outcome
from core.intake.reporter import (
    login_submitter,
)
from core.intake.staff_recorded import record_report
from core.models import (
    ActionStatus,
    CasePriority,
    Channel,
    EvidenceKind,
    Finding,
    KeyKind,
    RecognitionType,
    RootCause,
    SanctionType,
    ScopeDecision,
)
from tests.core.factories import chunks
from tests.security.scanning import repeated


def run_case_cycle(session_factory, services, c: dict[str, str], lead, case_id: int,
                   receipt: str) -> str:
    """Every text of the case cycle: acknowledgement, evidence (note, interview, file),
    decision, corrective action and follow-up, outcome with grounds, the reporter's answer,
    the inbox summaries, and a report recorded by staff (its receipt code is returned)."""
    me = lead.unlocked
    with transaction(session_factory) as s:
        workflow.acknowledge(s, services, me, case_id, c["acknowledgement"])
        workflow.decide_scope(s, services, me, case_id, ScopeDecision.ACCEPTED,
                              lead_id=lead.id, priority=CasePriority.URGENT)
        add_evidence(s, services, me, case_id, EvidenceKind.NOTE, text=c["evidence_note"])
        add_evidence(s, services, me, case_id, EvidenceKind.INTERVIEW,
                     interviewee=c["interviewee"], text=c["interview_summary"])
        evidence_file = store_reviewer_file(
            services, me, s, case_id, KeyKind.TEAM, c["evidence_file_name"], "text/plain",
            chunks(repeated(c["evidence_file_bytes"], 3000)))
        add_evidence(s, services, me, case_id, EvidenceKind.FILE, files=[evidence_file])
        workflow.record_decision(s, services, me, case_id, workflow.DecisionInput(
            finding=Finding.SUBSTANTIATED, root_cause=RootCause.HUMAN_ERROR,
            reasons=c["decision_reasons"], responsibility=c["responsibility"],
            sanctions=(SanctionType.WARNING,), sanction_details=c["sanction_details"],
            recognitions=(RecognitionType.THANKS,),
            recognition_details=c["recognition_details"]))
        action = add_action(s, services, me, case_id, title=c["action_title"],
                            notes=c["action_notes"], owner_id=lead.id,
                            due_on=services.clock.today() + timedelta(days=30))
        update_action(s, services, me, case_id, action.id, status=ActionStatus.IN_PROGRESS,
                      note=c["action_follow_up"])
        workflow.give_feedback(s, services, me, case_id, c["outcome"], c["grounds"],
                               grounds_heading="Grounds:")
        read_casework(s, services, me, case_id)
        assert inbox_summaries(s, services, me, [case_id])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, receipt)
        answer_outcome(s, services, access, False, c["outcome_comment"])
    with transaction(session_factory) as s:
        recorded = record_report(
            s, services, me, channel=Channel.HOTLINE, category_code="security",
            report=ReportContent(summary=c["staff_recorded"]),
            identity=Identity(name=c["staff_recorded_name"]))
    return recorded.receipt_code
