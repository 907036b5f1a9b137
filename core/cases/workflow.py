"""The case cycle's use cases (docs/PROCESS.md, stages 2 to 6): acknowledge, decide the scope,
lead and staff the team, set the priority, decide, send the outcome with its grounds, follow
up, close, answer a review, reopen.

Every use case locks the case, checks the move against core.cases.transitions (through
core.cases.casework.change_status), and writes its audit events in the caller's transaction:
either all of a step happens or none of it. Texts to the reporter go through the thread
(core.cases.casework.send_message), so they are encrypted, bound and audited like any
message. Reasons that only the team should read are kept as internal notes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import (
    StageRefused,
    UnlockedReviewer,
    before_request,
    case_keys_of,
    change_status,
    send_message,
)
from core.cases.content import MAX_LONG_TEXT, clean_text
from core.cases.inbox_counts import lock_case, role_changed, sync_member_keys
from core.cases.lead_tags import LEAD_TAMPERED, lead_trusted
from core.cases.letters import check_letter
from core.cases.records import seal_record
from core.cases.team import get_case
from core.cases.team_changes import may_exclude
from core.cases.team_lead import active_member, set_lead
from core.cases.transitions import REOPENABLE_STAGES, check_transition, may_decide_scope
from core.errors import AccessDenied, InvalidInput
from core.keyring import Keyring
from core.models import (
    ActionStatus,
    Case,
    CaseMember,
    CasePriority,
    CaseStatus,
    CorrectiveAction,
    Decision,
    Finding,
    MemberRole,
    MessageKind,
    RecognitionType,
    RootCause,
    SanctionType,
    ScopeDecision,
)
from core.models.base import random_row_id
from core.services import Services

#: The stage each scope decision moves a case to.
SCOPE_STAGE = {ScopeDecision.ACCEPTED: CaseStatus.UNDER_INVESTIGATION,
               ScopeDecision.REFERRED: CaseStatus.REFERRED,
               ScopeDecision.NOT_ADMISSIBLE: CaseStatus.NOT_ADMISSIBLE}


def _locked_case(session: Session, case_id: int) -> Case:
    case = get_case(session, case_id)
    lock_case(session, case)
    return case


def _check_move(session: Session, case: Case, target: CaseStatus) -> None:
    """Refuse (IllegalTransition) before anything is written if `case` may not move to
    `target` (change_status checks again when it moves)."""
    check_transition(case.status, target, before_request(session, case))


def _require_lead(keyring: Keyring, case: Case, who: UnlockedReviewer, what: str) -> None:
    """Only the case lead (or, before the case has one, any member) may `what`; nobody while
    the lead fails its tag (core.cases.lead_tags)."""
    if not lead_trusted(keyring, case):
        raise AccessDenied(LEAD_TAMPERED)
    if not may_exclude(keyring, case, who.reviewer_id):
        raise AccessDenied(f"only the case lead may {what}")


def _note(session: Session, services: Services, who: UnlockedReviewer, case: Case,
          text: str) -> None:
    """Keep a reason for the team only (an internal note under the team key)."""
    send_message(session, services, who, case.id, MessageKind.INTERNAL_NOTE, text)


def acknowledge(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                text: str) -> None:
    """Acknowledge a received report with a message to the reporter (the console fills in
    the acknowledgement template in the reporter's language; the handler may edit it)."""
    case = _locked_case(session, case_id)
    if case.status is not CaseStatus.RECEIVED:
        raise StageRefused("this report has already been acknowledged")
    check_letter(text, field="body")
    send_message(session, services, who, case.id, MessageKind.INFORMATION, text)


def _set_priority(session: Session, services: Services, who: UnlockedReviewer, case: Case,
                  priority: CasePriority) -> None:
    if case.priority is priority:
        return
    old = case.priority
    case.priority = priority
    sync_member_keys(session, case)
    record_event(session, services.clock, AuditAction.CASE_PRIORITY_CHANGED, who.actor,
                 case_id=case.id, detail={"from": str(old), "to": str(priority)})


def decide_scope(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                 decision: ScopeDecision, *, message: str = "", lead_id: int | None = None,
                 priority: CasePriority | None = None) -> None:
    """Accept the report (with a lead from the team and a priority; it goes under
    investigation), refer it elsewhere or find it not admissible (with a message telling the
    reporter where, or why: required). Acknowledges a report not yet acknowledged."""
    case = _locked_case(session, case_id)
    case_keys_of(session, case, who)  # on the team, with the keys
    target = SCOPE_STAGE[decision]
    text = clean_text(message, field="message", limit=MAX_LONG_TEXT,
                      required=decision is not ScopeDecision.ACCEPTED)
    check_letter(text, field="message", refusal=decision is not ScopeDecision.ACCEPTED)
    lead: CaseMember | None = None
    if decision is ScopeDecision.ACCEPTED:
        if lead_id is None:
            raise InvalidInput("Choose the case lead.", field="lead")
        lead = active_member(services.keyring, case, lead_id)
    _check_move(session, case, target)
    if not may_decide_scope(case.status, before_request(session, case)):
        # The table lets a finished case go back under investigation, for reopening only.
        raise StageRefused(f"the scope of this case was decided already (it is {case.status}); "
                           "to handle it again, its lead reopens it with a reason")
    # It names the lead: once a case has one, only they decide (second reader: a member who
    # set the stage back by SQL named himself lead); before, any member on the team.
    _require_lead(services.keyring, case, who, "decide the scope")
    if text:
        send_message(session, services, who, case.id, MessageKind.INFORMATION, text)
    case.scope_decision = decision
    record_event(session, services.clock, AuditAction.CASE_SCOPE_DECIDED, who.actor,
                 case_id=case.id, detail={"decision": str(decision)})
    if lead is not None:
        set_lead(session, services, who.actor, case, lead)
    if priority is not None:
        _set_priority(session, services, who, case, priority)
    if case.status is not target:
        change_status(session, services, who.actor, case, target)


def hand_over_lead(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                   new_lead_id: int) -> None:
    """Hand the lead to another member of the team in one step (the lead, or any member of a
    case without one)."""
    case = _locked_case(session, case_id)
    case_keys_of(session, case, who)
    _require_lead(services.keyring, case, who, "hand over the lead")
    set_lead(session, services, who.actor, case,
             active_member(services.keyring, case, new_lead_id))


#: Roles a member can be given on the team page (the lead is handed over; intake is routing).
TEAM_ROLES = (MemberRole.TECHNICAL, MemberRole.HR, MemberRole.LEGAL, MemberRole.INVESTIGATOR)


def set_member_role(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                    reviewer_id: int, role: MemberRole) -> None:
    """Give a member their part in the investigation (technical, HR, legal, other)."""
    if role not in TEAM_ROLES:
        raise InvalidInput("Choose a role.", field="role")
    case = _locked_case(session, case_id)
    case_keys_of(session, case, who)
    member = active_member(services.keyring, case, reviewer_id)
    if member.role is MemberRole.LEAD:
        raise InvalidInput("Hand the lead over to someone else first.", field="role")
    if member.role is role:
        return
    role_changed(session, case, reviewer_id, member.role, role)
    member.role = role
    record_event(session, services.clock, AuditAction.CASE_MEMBER_ROLE_CHANGED, who.actor,
                 case_id=case.id, detail={"reviewer_id": reviewer_id, "role": str(role)})


def set_priority(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                 priority: CasePriority) -> None:
    """Change the priority of a case (any member)."""
    case = _locked_case(session, case_id)
    case_keys_of(session, case, who)
    _set_priority(session, services, who, case, priority)


@dataclass(frozen=True)
class DecisionInput:
    """What a decision records: the clear classification and the encrypted particulars."""

    finding: Finding
    root_cause: RootCause | None
    #: Why the team concluded so (encrypted).
    reasons: str
    #: Who is responsible and how much (encrypted).
    responsibility: str = ""
    sanctions: tuple[SanctionType, ...] = ()
    sanction_details: str = ""
    recognitions: tuple[RecognitionType, ...] = ()
    recognition_details: str = ""


#: Stages in which a decision may be amended (a new version; the old ones stay).
AMENDABLE = frozenset({CaseStatus.DECIDED, CaseStatus.FEEDBACK_GIVEN, CaseStatus.FOLLOW_UP})


def latest_decision(session: Session, case_id: int) -> Decision | None:
    """The current version of a case's decision, if any."""
    return session.execute(select(Decision).where(Decision.case_id == case_id)
                           .order_by(Decision.version.desc()).limit(1)).scalar_one_or_none()


def record_decision(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                    decision: DecisionInput) -> Decision:
    """Record the decision of an investigated case (it becomes "decided"), or amend it later
    with a new version that keeps the old ones. The lead decides."""
    case = _locked_case(session, case_id)
    keys = case_keys_of(session, case, who)
    _require_lead(services.keyring, case, who, "record the decision")
    previous = latest_decision(session, case.id)
    if previous is not None and case.status not in AMENDABLE:
        raise StageRefused(f"a decision cannot be amended while the case is {case.status}")
    reasons = clean_text(decision.reasons, field="reasons", limit=MAX_LONG_TEXT, required=True)
    content = {
        "reasons": reasons,
        "responsibility": clean_text(decision.responsibility, field="responsibility",
                                     limit=MAX_LONG_TEXT),
        "sanction_details": clean_text(decision.sanction_details, field="sanction_details",
                                       limit=MAX_LONG_TEXT),
        "recognition_details": clean_text(decision.recognition_details,
                                          field="recognition_details", limit=MAX_LONG_TEXT),
    }
    if previous is None:
        # Checked before anything is written: only an investigated case is decided.
        _check_move(session, case, CaseStatus.DECIDED)
    row = Decision(
        id=random_row_id(), case_id=case.id, reviewer_id=who.reviewer_id,
        created_on=services.clock.today(),
        version=1 if previous is None else previous.version + 1,
        finding=decision.finding, root_cause=decision.root_cause,
        sanction_types=",".join(sorted({str(s) for s in decision.sanctions})),
        recognition_types=",".join(sorted({str(r) for r in decision.recognitions})))
    digest = seal_record(case, row, keys, content)
    session.add(row)
    session.flush()
    record_event(session, services.clock, AuditAction.DECISION_RECORDED, who.actor,
                 case_id=case.id, detail={"decision_id": row.id, "version": row.version,
                                          "finding": str(row.finding), "sha256": digest})
    if previous is None:
        change_status(session, services, who.actor, case, CaseStatus.DECIDED)
    return row


def give_feedback(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                  outcome: str, grounds: str, *, grounds_heading: str) -> None:
    """Send the reporter the outcome with its grounds (both required; `grounds_heading` is the
    heading in the reporter's language). The first one moves a decided case to "outcome
    sent"; a later one (after a review) keeps the stage."""
    outcome = clean_text(outcome, field="outcome", limit=MAX_LONG_TEXT, required=True)
    grounds = clean_text(grounds, field="grounds", limit=MAX_LONG_TEXT, required=True)
    check_letter(outcome, field="outcome")
    check_letter(grounds, field="grounds")
    send_message(session, services, who, case_id, MessageKind.FEEDBACK,
                 f"{outcome}\n\n{grounds_heading}\n{grounds}")


def open_actions(session: Session, case_id: int) -> list[CorrectiveAction]:
    """The case's corrective actions not done yet."""
    return list(session.execute(
        select(CorrectiveAction).where(CorrectiveAction.case_id == case_id,
                                       CorrectiveAction.status != ActionStatus.DONE)
        .order_by(CorrectiveAction.position)).scalars())


def start_follow_up(session: Session, services: Services, who: UnlockedReviewer,
                    case_id: int) -> None:
    """After the outcome: follow up the open corrective actions (there must be some)."""
    case = _locked_case(session, case_id)
    case_keys_of(session, case, who)
    if not open_actions(session, case.id):
        raise StageRefused("there are no open corrective actions to follow up")
    change_status(session, services, who.actor, case, CaseStatus.FOLLOW_UP)


def close_case(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
               reason: str = "") -> None:
    """Close and archive a case (the lead). With corrective actions still open, a reason is
    required; it is kept as an internal note."""
    case = _locked_case(session, case_id)
    case_keys_of(session, case, who)
    _require_lead(services.keyring, case, who, "close the case")
    reason = clean_text(reason, field="reason", limit=MAX_LONG_TEXT)
    still_open = open_actions(session, case.id)
    if still_open and not reason:
        raise InvalidInput("Corrective actions are still open: say why the case closes "
                           "anyway.", field="reason")
    _check_move(session, case, CaseStatus.CLOSED)
    if reason:
        _note(session, services, who, case, f"[closed] {reason}")
    change_status(session, services, who.actor, case, CaseStatus.CLOSED,
                  detail={"open_actions": len(still_open)})


def answer_review(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                  text: str) -> None:
    """Answer a reporter who is not satisfied, without reopening: a message to them, and the
    case leaves the inbox's "not satisfied" list."""
    case = _locked_case(session, case_id)
    case_keys_of(session, case, who)
    if not case.review_requested:
        raise StageRefused("the reporter has not asked for a review")
    check_letter(text, field="body")
    send_message(session, services, who, case.id, MessageKind.INFORMATION, text)
    case.review_requested = False
    sync_member_keys(session, case)
    record_event(session, services.clock, AuditAction.REVIEW_ANSWERED, who.actor,
                 case_id=case.id)


def reopen_case(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                reason: str) -> CaseStatus:
    """Reopen a case after the outcome or after closing (typically on a review request): an
    accepted case goes back under investigation, a referred or rejected one back to the scope
    decision. The reason is kept as an internal note; the lead decides."""
    case = _locked_case(session, case_id)
    case_keys_of(session, case, who)
    if case.status not in REOPENABLE_STAGES:  # e.g. a stale form, or a post made by hand
        raise StageRefused(f"only a case after the outcome, closed, referred or not "
                           f"admissible can be reopened; this one is {case.status}")
    _require_lead(services.keyring, case, who, "reopen the case")
    reason = clean_text(reason, field="reason", limit=MAX_LONG_TEXT, required=True)
    target = (CaseStatus.UNDER_INVESTIGATION
              if case.scope_decision is ScopeDecision.ACCEPTED else CaseStatus.ACKNOWLEDGED)
    _check_move(session, case, target)
    _note(session, services, who, case, f"[reopened] {reason}")
    if target is CaseStatus.ACKNOWLEDGED:
        case.scope_decision = None
    case.review_requested = False
    change_status(session, services, who.actor, case, target)
    record_event(session, services.clock, AuditAction.CASE_REOPENED, who.actor,
                 case_id=case.id, detail={"to": str(target)})
    return target
