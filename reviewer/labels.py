"""Translated labels for the domain's codes (docs/GLOSSARY.md), and the next step of a case."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from core.cases.kinds import is_team_only
from core.models import (
    ActionStatus,
    CasePriority,
    CaseStatus,
    EvidenceKind,
    Finding,
    MemberRole,
    MessageKind,
    RecognitionType,
    Role,
    RootCause,
    SanctionType,
    ScopeDecision,
)
from core.models.enums import Author
from core.statistics.suppression import HIDDEN, SMALL

STATUS = {
    CaseStatus.RECEIVED: _l("Received"),
    CaseStatus.ACKNOWLEDGED: _l("Acknowledged"),
    CaseStatus.REFERRED: _l("Referred elsewhere"),
    CaseStatus.NOT_ADMISSIBLE: _l("Not admissible"),
    CaseStatus.INFO_NEEDED: _l("Waiting for the reporter's information"),
    CaseStatus.UNDER_INVESTIGATION: _l("Under investigation"),
    CaseStatus.DECIDED: _l("Decided"),
    CaseStatus.FEEDBACK_GIVEN: _l("Outcome sent"),
    CaseStatus.FOLLOW_UP: _l("Corrective actions in progress"),
    CaseStatus.CLOSED: _l("Closed"),
}

KIND = {
    MessageKind.REPORTER_MESSAGE: _l("Message from the reporter"),
    MessageKind.CLARIFICATION_REQUEST: _l("Request for information"),
    MessageKind.INFORMATION: _l("Information"),
    MessageKind.FEEDBACK: _l("Outcome and reasons"),
    MessageKind.INTERNAL_NOTE: _l("Internal note"),
}

#: The console's choice of kind, naming who will read it (it must agree with
#: core.cases.kinds: tests/reviewer/test_kind_labels.py checks it).
KIND_CHOICE = {
    MessageKind.CLARIFICATION_REQUEST: _l("Request for information (to the reporter)"),
    MessageKind.INFORMATION: _l("Information (to the reporter)"),
    MessageKind.INTERNAL_NOTE: _l("Internal note (case team only)"),
}

PRIORITY = {
    CasePriority.URGENT: _l("Urgent"),
    CasePriority.HIGH: _l("High"),
    CasePriority.NORMAL: _l("Normal"),
    CasePriority.LOW: _l("Low"),
}

SCOPE = {
    ScopeDecision.ACCEPTED: _l("Accept and investigate"),
    ScopeDecision.REFERRED: _l("Refer elsewhere"),
    ScopeDecision.NOT_ADMISSIBLE: _l("Not admissible"),
}

FINDING = {
    Finding.SUBSTANTIATED: _l("Substantiated"),
    Finding.PARTLY_SUBSTANTIATED: _l("Partly substantiated"),
    Finding.NOT_SUBSTANTIATED: _l("Not substantiated"),
    Finding.UNDETERMINED: _l("Cannot be determined"),
}

ROOT_CAUSE = {
    RootCause.MANAGEMENT_GAP: _l("Management gap"),
    RootCause.TECHNICAL_DEFECT: _l("Technical defect"),
    RootCause.PROCESS_GAP: _l("Process gap"),
    RootCause.HUMAN_ERROR: _l("Human error"),
    RootCause.OTHER: _l("Other"),
}

SANCTION = {
    SanctionType.WARNING: _l("Warning"),
    SanctionType.DISCIPLINARY: _l("Disciplinary measure"),
    SanctionType.TRAINING: _l("Required training"),
    SanctionType.OTHER: _l("Other sanction"),
}

RECOGNITION = {
    RecognitionType.THANKS: _l("Thanks"),
    RecognitionType.COMMENDATION: _l("Commendation"),
    RecognitionType.REWARD: _l("Reward"),
}

ACTION_STATUS = {
    ActionStatus.OPEN: _l("Not started"),
    ActionStatus.IN_PROGRESS: _l("In progress"),
    ActionStatus.DONE: _l("Done"),
}

EVIDENCE_KIND = {
    EvidenceKind.NOTE: _l("Note"),
    EvidenceKind.FILE: _l("File"),
    EvidenceKind.INTERVIEW: _l("Interview record"),
}

#: "team only" on a message in the thread (core.cases.kinds).
team_only = is_team_only

ROLE = {
    Role.ADMIN: _l("Administrator"),
    Role.REVIEWER: _l("Case handler"),
    Role.AUDITOR: _l("Auditor"),
}

#: Where a stored public key was found failing its check (core.staff.keys.key_alarm).
KEY_ALARM_PLACE = {
    "login": _l("at its owner's login"),
    "submission": _l("when a report was sealed"),
    "epoch": _l("when a case moved to new keys"),
    "identity-request": _l("when an identity request was sealed"),
    "standing": _l("at a login: the account's role, approval or passphrase was changed in "
                   "the database"),
}

MEMBER_ROLE = {
    MemberRole.INTAKE: _l("Intake"),
    MemberRole.LEAD: _l("Lead investigator"),
    MemberRole.INVESTIGATOR: _l("Investigator (other)"),
    MemberRole.TECHNICAL: _l("Technical lead"),
    MemberRole.HR: _l("HR representative"),
    MemberRole.LEGAL: _l("Legal adviser"),
}

AUTHOR = {
    Author.SUBMITTER: _l("Reporter"),
    Author.REVIEWER: _l("Case handler"),
    Author.SYSTEM: _l("System"),
}

_NEXT = {
    CaseStatus.RECEIVED: _l("Read the report and acknowledge it to the reporter before the "
                            "acknowledgement deadline."),
    CaseStatus.ACKNOWLEDGED: _l("Decide the scope: accept it with a lead and a priority, "
                                "refer it elsewhere, or find it not admissible. Ask the "
                                "reporter if something is missing."),
    CaseStatus.INFO_NEEDED: _l("Wait for the reporter's answer; check the thread for news."),
    CaseStatus.UNDER_INVESTIGATION: _l("Investigate with the case team and keep the evidence "
                                       "log, then record the decision."),
    CaseStatus.DECIDED: _l("Assign the corrective actions and send the outcome with its "
                           "grounds to the reporter."),
    CaseStatus.FEEDBACK_GIVEN: _l("Follow up the corrective actions, or close the case."),
    CaseStatus.FOLLOW_UP: _l("Follow up the corrective actions until they are done, then "
                             "close the case."),
    CaseStatus.REFERRED: _l("Close the case once the reporter has been told where to go."),
    CaseStatus.NOT_ADMISSIBLE: _l("Close the case once the reporter has been told why."),
}


CHANNEL = {
    "web": _l("Web form"),
    "hotline": _l("Telephone (hotline)"),
    "letter_box": _l("Letter or suggestion box"),
    "mailbox": _l("Complaint mailbox (email)"),
    "in_person": _l("In person"),
}

#: The case history's words for audit actions (core.cases.history); others show their tag.
HISTORY = {
    "case:submit": _l("Report received"),
    "case:intake:staff": _l("Report recorded by staff"),
    "case:message:submitter": _l("The reporter wrote"),
    "case:message:reviewer": _l("Message or note written"),
    "case:status": _l("Stage changed"),
    "case:scope": _l("Scope decided"),
    "case:lead": _l("Lead assigned"),
    "case:member:role": _l("Role given"),
    "case:priority": _l("Priority changed"),
    "case:category": _l("Category changed"),
    "case:category:confirm": _l("Category confirmed"),
    "case:evidence:add": _l("Evidence added"),
    "case:decision": _l("Decision recorded"),
    "case:action:add": _l("Corrective action assigned"),
    "case:action:update": _l("Corrective action followed up"),
    "case:outcome:answer": _l("The reporter answered the outcome"),
    "case:review:answer": _l("Review answered"),
    "case:reopen": _l("Case reopened"),
    "case:grant": _l("Colleague added"),
    "case:member:exclude": _l("Member excluded"),
    "case:epoch": _l("Case moved to new keys"),
    "case:identity:request": _l("Identity requested"),
    "case:identity:decide": _l("Identity request decided"),
    "case:identity:reveal": _l("Identity revealed"),
    "case:record:tampered": _l("A record failed its integrity check"),
    "case:report:decrypt": _l("Case read"),
    "case:attachment:decrypt": _l("File downloaded"),
    "case:export": _l("Case file exported"),
    "case:hold": _l("Legal hold placed or lifted"),
    "case:destroy": _l("Content destroyed (retention)"),
    "case:summary:decrypt": _l("Summary shown in an inbox"),
    "case:category:learn": _l("Suggestions learned from confirmed cases"),
    "case:submitter:open": _l("The reporter opened the case"),
    "case:recover": _l("Case opened with the recovery key"),
    "case:identity:withdraw": _l("Identity grant withdrawn (upgrade)"),
    "case:identity:request:read": _l("Identity request read by a custodian"),
    "access:refuse": _l("Access refused"),
}


#: How a suppressed count ("<3") and a hidden figure ("x") read in the statistics' tables, for
#: the sentences that explain them (passed as values, so that "<" is escaped like the cells).
SUPPRESSED_COUNT = SMALL
HIDDEN_FIGURE = HIDDEN


def next_step(status: CaseStatus) -> Any:
    """What to do next in this stage."""
    return _NEXT.get(status, _l("Nothing more is due on this case."))


def category_name(category: Any, language: str) -> str:
    """A category's name in the console's language."""
    if category is None:
        return ""
    return str(category.name_zh if language.startswith("zh") else category.name_en)


def days_left(due: date, today: date) -> int:
    """Days until a deadline (negative when past)."""
    return (due - today).days


SORT = {
    "newest": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "feedback_due": _l("Feedback deadline"),
    "acknowledge_due": _l("Acknowledgement deadline"),
    "reference": _l("Reference"),
    "activity": _l("Reporter's latest activity"),
    "priority": _l("Priority"),
}


def category_code_name(code: str | None, categories: list[Any], language: str) -> str:
    """The name of the category with this code, from an already loaded list."""
    for category in categories:
        if category.code == code:
            return category_name(category, language)
    return code or ""
