"""A case with everything a case file holds, arranged through the real use cases: for
test_case_file.py here and tests/reviewer/test_case_file.py (the export over HTTP)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.cases import workflow
from core.cases.actions import add_action, update_action
from core.cases.casework import post_reviewer_message, store_reviewer_file
from core.cases.content import Identity, ReportContent
from core.cases.evidence import add_evidence
from core.db import transaction
from core.intake.outcome_answer import answer_outcome
from core.intake.reporter import login_submitter, post_submitter_message
from core.models import (
    ActionStatus,
    CasePriority,
    EvidenceKind,
    Finding,
    KeyKind,
    MessageKind,
    RootCause,
    ScopeDecision,
)
from core.services import Services
from tests.core.factories import ReviewerHandle, chunks, submit

#: Every text of the case, each findable in the PDF's extracted text (short enough not to be
#: broken across lines, which extraction would split).
TEXTS = {
    "summary": "CF-SUMMARY badge reader fails",
    "description": "CF-REPORT 门禁读卡器每天早上失灵",
    "acknowledgement": "CF-ACK we received your report",
    "reporter_message": "CF-REPORTER it happened again",
    "note": "CF-NOTE internal only remark",
    "evidence": "CF-EVIDENCE reader log attached",
    "correction": "CF-CORRECTION the log is from May",
    "decision_v1": "CF-DECISION-ONE reasons",
    "decision_v2": "CF-DECISION-TWO amended reasons",
    "action": "CF-ACTION replace the reader",
    "update": "CF-UPDATE reader replaced",
    "outcome": "CF-OUTCOME the reader was replaced",
    "grounds": "CF-GROUNDS the log showed faults",
    "comment": "CF-COMMENT thank you",
}

#: The files, by where they are attached: the report's (a Chinese and an English name), the
#: note's (the same name as one of the report's) and the evidence log's.
REPORT_FILES = [("证据照片.txt", b"chinese-named file " * 2000),
                ("meeting notes.txt", b"english-named file " * 500)]
NOTE_FILE = ("meeting notes.txt", b"a second file of the same name")
EVIDENCE_FILE = ("reader log.csv", b"time,door\n02:13,open\n" * 300)
IDENTITY = Identity(name="CF-IDENTITY Wang Fang", contact="wf@example.org")


@dataclass(frozen=True)
class FullCase:
    """The case's id, reference and receipt code, and the bytes of its files in order."""

    case_id: int
    reference: str
    receipt: str
    files: list[tuple[str, bytes]]


def full_case(session_factory: sessionmaker[Session], services: Services,
              lead: ReviewerHandle, *, category: str = "it_fault",
              confidential: bool = False) -> FullCase:
    """A case submitted in `category` (where `lead` is an intake handler), taken through the
    whole cycle by `lead`, with the reporter writing and answering the outcome."""
    result = submit(session_factory, services, category=category,
                    report=ReportContent(summary=TEXTS["summary"],
                                         description=TEXTS["description"], language="en"),
                    identity=IDENTITY if confidential else None, files=REPORT_FILES)
    case_id, me = result.case_id, lead.unlocked
    with transaction(session_factory) as s:
        workflow.acknowledge(s, services, me, case_id, TEXTS["acknowledgement"])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        post_submitter_message(s, services, access, TEXTS["reporter_message"])
    with transaction(session_factory) as s:
        note_file = store_reviewer_file(services, me, s, case_id, KeyKind.TEAM, NOTE_FILE[0],
                                        "text/plain", iter(chunks(NOTE_FILE[1])))
        post_reviewer_message(s, services, me, case_id, MessageKind.INTERNAL_NOTE,
                              TEXTS["note"], [note_file])
        workflow.decide_scope(s, services, me, case_id, ScopeDecision.ACCEPTED,
                              lead_id=lead.id, priority=CasePriority.HIGH)
    with transaction(session_factory) as s:
        stored = store_reviewer_file(services, me, s, case_id, KeyKind.TEAM, EVIDENCE_FILE[0],
                                     "text/csv", iter(chunks(EVIDENCE_FILE[1])))
        entry = add_evidence(s, services, me, case_id, EvidenceKind.FILE,
                             text=TEXTS["evidence"], files=[stored])
        add_evidence(s, services, me, case_id, EvidenceKind.NOTE, text=TEXTS["correction"],
                     corrects_id=entry.id)
    with transaction(session_factory) as s:
        workflow.record_decision(s, services, me, case_id, workflow.DecisionInput(
            finding=Finding.SUBSTANTIATED, root_cause=RootCause.TECHNICAL_DEFECT,
            reasons=TEXTS["decision_v1"]))
    with transaction(session_factory) as s:
        workflow.record_decision(s, services, me, case_id, workflow.DecisionInput(
            finding=Finding.PARTLY_SUBSTANTIATED, root_cause=RootCause.TECHNICAL_DEFECT,
            reasons=TEXTS["decision_v2"]))
        action = add_action(s, services, me, case_id, title=TEXTS["action"], notes="",
                            owner_id=lead.id,
                            due_on=services.clock.today() + timedelta(days=20))
    with transaction(session_factory) as s:
        update_action(s, services, me, case_id, action.id, status=ActionStatus.DONE,
                      note=TEXTS["update"])
        workflow.give_feedback(s, services, me, case_id, TEXTS["outcome"], TEXTS["grounds"],
                               grounds_heading="Grounds")
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        answer_outcome(s, services, access, satisfied=True, comment=TEXTS["comment"])
    return FullCase(case_id, result.reference, result.receipt_code,
                    [*REPORT_FILES, NOTE_FILE, EVIDENCE_FILE])

