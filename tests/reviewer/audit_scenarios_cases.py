"""Audit coverage scenarios of the case work: the inbox, the case page (decryption, messages,
downloads, reveal, grant, exclusion), every step of the case cycle, the casework page and
its forms, identity requests and reports recorded by staff. (See audit_calls.py.)"""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from core.audit.log import AuditAction as A
from core.cases import actions as case_actions
from core.cases import workflow
from core.cases.identity_requests import request_identity
from core.intake.outcome_answer import answer_outcome
from core.intake.reporter import login_submitter
from core.models import Case, ScopeDecision
from tests.core.factories import approve_identity, submit
from tests.reviewer.audit_calls import TEXT, Call, Ctx, ev, scenario


@scenario("inbox", "inbox.index", A.SUMMARIES_DECRYPTED)
def inbox(c: Ctx) -> Call:
    return Call(c.client(c.alice), "GET", "/cases", 200,
                [ev(A.SUMMARIES_DECRYPTED, c.alice.id)])  # the case ids are in the detail


@scenario("case page", "cases.show", A.REPORT_DECRYPTED)
def case_page(c: Ctx) -> Call:
    return Call(c.client(c.alice), "GET", f"/cases/{c.case}", 200,
                [ev(A.REPORT_DECRYPTED, c.alice.id, c.case)])


@scenario("internal note", "cases.reply", A.REVIEWER_MESSAGE_POSTED)
def note(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/reply", 303,
                [ev(A.REVIEWER_MESSAGE_POSTED, c.alice.id, c.case)],
                {"kind": "internal_note", "body": TEXT,
                 "attachments": [(io.BytesIO(b"team file"), "note.txt")]}, multipart=True)


@scenario("question to the reporter", "cases.reply", A.REVIEWER_MESSAGE_POSTED,
          A.CASE_STATUS_CHANGED)
def question(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/reply", 303,
                [ev(A.REVIEWER_MESSAGE_POSTED, c.alice.id, c.case),
                 ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case)],  # to "information needed"
                {"kind": "clarification_request", "body": TEXT}, multipart=True)


@scenario("download", "cases.download", A.ATTACHMENT_DECRYPTED)
def download(c: Ctx) -> Call:
    return Call(c.client(c.alice), "GET", f"/cases/{c.case}/files/{c.world.file_id}", 200,
                [ev(A.ATTACHMENT_DECRYPTED, c.alice.id, c.case)])


@scenario("reveal", "cases.reveal", A.SESSION_REAUTHENTICATED, A.IDENTITY_REVEALED)
def reveal(c: Ctx) -> Call:
    approve_identity(c.session_factory, c.services, c.alice, c.keeper(), c.case)
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/reveal", 200,
                [ev(A.SESSION_REAUTHENTICATED, c.alice.id),
                 ev(A.IDENTITY_REVEALED, c.alice.id, c.case)],
                {"reason": TEXT, "passphrase": c.alice.passphrase})


@scenario("grant", "cases.grant", A.CASE_GRANTED)
def grant(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/grant", 303,
                [ev(A.CASE_GRANTED, c.alice.id, c.case)], {"reviewer": str(c.bob.id)})


@scenario("exclude", "cases.exclude", A.SESSION_REAUTHENTICATED, A.CASE_MEMBER_EXCLUDED,
          A.CASE_EPOCH_STARTED)
def exclude(c: Ctx) -> Call:
    c.join(c.bob)
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/members/{c.bob.id}/exclude", 303,
                [ev(A.SESSION_REAUTHENTICATED, c.alice.id),
                 ev(A.CASE_MEMBER_EXCLUDED, c.alice.id, c.case),
                 ev(A.CASE_EPOCH_STARTED, c.alice.id, c.case)],  # new keys for the others
                {"passphrase": c.alice.passphrase})


@scenario("case file export", "case_file.export", A.SESSION_REAUTHENTICATED,
          A.CASE_FILE_EXPORTED)
def case_file_export(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/export", 200,
                [ev(A.SESSION_REAUTHENTICATED, c.alice.id),
                 ev(A.CASE_FILE_EXPORTED, c.alice.id, c.case)],  # one event for every record
                {"passphrase": c.alice.passphrase})


@scenario("case file export with the identity", "case_file.export",
          A.SESSION_REAUTHENTICATED, A.CASE_FILE_EXPORTED, A.IDENTITY_REVEALED)
def case_file_export_identity(c: Ctx) -> Call:
    approve_identity(c.session_factory, c.services, c.alice, c.keeper(), c.case)
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/export", 200,
                [ev(A.SESSION_REAUTHENTICATED, c.alice.id),
                 ev(A.CASE_FILE_EXPORTED, c.alice.id, c.case),
                 ev(A.IDENTITY_REVEALED, c.alice.id, c.case)],  # approved for alice
                {"passphrase": c.alice.passphrase})


@scenario("acknowledge", "handling.acknowledge", A.REVIEWER_MESSAGE_POSTED,
          A.CASE_STATUS_CHANGED)
def acknowledge(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/acknowledge", 303,
                [ev(A.REVIEWER_MESSAGE_POSTED, c.alice.id, c.case),
                 ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case)], {"ack-body": TEXT})


@scenario("accept", "handling.scope", A.CASE_SCOPE_DECIDED, A.CASE_LEAD_CHANGED,
          A.CASE_PRIORITY_CHANGED, A.CASE_STATUS_CHANGED)
def accept(c: Ctx) -> Call:
    c.step(workflow.acknowledge, c.case, "Received.")
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/scope", 303,
                [ev(A.CASE_SCOPE_DECIDED, c.alice.id, c.case),
                 ev(A.CASE_LEAD_CHANGED, c.alice.id, c.case),
                 ev(A.CASE_PRIORITY_CHANGED, c.alice.id, c.case),
                 ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case)],
                {"decision": "accepted", "lead": str(c.alice.id), "priority": "urgent"})


@scenario("refer a received report", "handling.scope", A.REVIEWER_MESSAGE_POSTED,
          A.CASE_SCOPE_DECIDED, A.CASE_PRIORITY_CHANGED, A.CASE_STATUS_CHANGED)
def refer(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/scope", 303,
                [ev(A.REVIEWER_MESSAGE_POSTED, c.alice.id, c.case),  # where to, for the reporter
                 ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case),  # which acknowledges it
                 ev(A.CASE_SCOPE_DECIDED, c.alice.id, c.case),
                 ev(A.CASE_PRIORITY_CHANGED, c.alice.id, c.case),
                 ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case)],  # then referred
                {"decision": "referred", "priority": "urgent", "message": TEXT})


@scenario("priority", "handling.priority", A.CASE_PRIORITY_CHANGED)
def priority(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/priority", 303,
                [ev(A.CASE_PRIORITY_CHANGED, c.alice.id, c.case)], {"prio-priority": "urgent"})


@scenario("category", "handling.category", A.CASE_CATEGORY_CHANGED)
def category(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/category", 303,
                [ev(A.CASE_CATEGORY_CHANGED, c.alice.id, c.case)], {"cat-category": "security"})


@scenario("category confirmed", "handling.category", A.CASE_CATEGORY_CONFIRMED)
def category_confirmed(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/category", 303,
                [ev(A.CASE_CATEGORY_CONFIRMED, c.alice.id, c.case)], {"cat-category": "it_fault"})


@scenario("legal hold", "handling.legal_hold", A.CASE_LEGAL_HOLD_CHANGED)
def legal_hold(c: Ctx) -> Call:
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/legal-hold", 303,
                [ev(A.CASE_LEGAL_HOLD_CHANGED, c.alice.id, c.case)], {"hold-hold": "on"})


@scenario("hand over the lead", "handling.lead", A.CASE_LEAD_CHANGED)
def lead(c: Ctx) -> Call:
    c.join(c.bob)
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/lead", 303,
                [ev(A.CASE_LEAD_CHANGED, c.alice.id, c.case)], {"lead-reviewer": str(c.bob.id)})


@scenario("member role", "handling.role", A.CASE_MEMBER_ROLE_CHANGED)
def role(c: Ctx) -> Call:
    c.join(c.bob)
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/role", 303,
                [ev(A.CASE_MEMBER_ROLE_CHANGED, c.alice.id, c.case)],
                {"role-reviewer": str(c.bob.id), "role-role": "legal"})


@scenario("feedback", "handling.feedback", A.REPORT_DECRYPTED, A.REVIEWER_MESSAGE_POSTED,
          A.CASE_STATUS_CHANGED)
def feedback(c: Ctx) -> Call:
    c.decided()
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/feedback", 303,
                [ev(A.REPORT_DECRYPTED, c.alice.id, c.case),  # the reporter's language
                 ev(A.REVIEWER_MESSAGE_POSTED, c.alice.id, c.case),
                 ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case)],
                {"outcome": TEXT, "grounds": TEXT})


def _action(c: Ctx) -> int:
    action = c.step(case_actions.add_action, c.case, title="Replace the reader", notes="",
                    owner_id=c.alice.id, due_on=c.services.clock.today() + timedelta(days=9))
    return int(action.id)


@scenario("follow up", "handling.follow_up", A.CASE_STATUS_CHANGED)
def follow_up(c: Ctx) -> Call:
    c.decided()
    _action(c)
    c.step(workflow.give_feedback, c.case, "Fixed.", "Logs.", grounds_heading="Grounds")
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/follow-up", 303,
                [ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case)], {})


@scenario("close", "handling.close", A.CASE_STATUS_CHANGED)
def close(c: Ctx) -> Call:
    c.step(workflow.decide_scope, c.case, ScopeDecision.NOT_ADMISSIBLE, message="Not ours.")
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/close", 303,
                [ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case)], {})


@scenario("close with open actions", "handling.close", A.REVIEWER_MESSAGE_POSTED,
          A.CASE_STATUS_CHANGED)
def close_open(c: Ctx) -> Call:
    c.decided()
    _action(c)
    c.step(workflow.give_feedback, c.case, "Fixed.", "Logs.", grounds_heading="Grounds")
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/close", 303,
                [ev(A.REVIEWER_MESSAGE_POSTED, c.alice.id, c.case),  # the reason, a note
                 ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case)], {"reason": TEXT})


@scenario("answer a review", "handling.review", A.REVIEWER_MESSAGE_POSTED, A.REVIEW_ANSWERED)
def review(c: Ctx) -> Call:
    result = submit(c.session_factory, c.services)  # alice is its intake: on its team
    case_id = result.case_id
    c.step(workflow.decide_scope, case_id, ScopeDecision.REFERRED, message="Ask HR.")
    with c.tx() as s:
        answer_outcome(s, c.services, login_submitter(s, c.services, result.receipt_code),
                       satisfied=False)
    return Call(c.client(c.alice), "POST", f"/cases/{case_id}/review", 303,
                [ev(A.REVIEWER_MESSAGE_POSTED, c.alice.id, case_id),
                 ev(A.REVIEW_ANSWERED, c.alice.id, case_id)], {"review-body": TEXT})


@scenario("reopen", "handling.reopen", A.REVIEWER_MESSAGE_POSTED, A.CASE_STATUS_CHANGED,
          A.CASE_REOPENED)
def reopen(c: Ctx) -> Call:
    c.step(workflow.decide_scope, c.case, ScopeDecision.NOT_ADMISSIBLE, message="Not ours.")
    c.step(workflow.close_case, c.case)
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/reopen", 303,
                [ev(A.REVIEWER_MESSAGE_POSTED, c.alice.id, c.case),  # the reason, a note
                 ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case),
                 ev(A.CASE_REOPENED, c.alice.id, c.case)], {"reason": TEXT})


@scenario("casework page", "casework.show", A.REPORT_DECRYPTED)
def casework_page(c: Ctx) -> Call:
    return Call(c.client(c.alice), "GET", f"/cases/{c.case}/casework", 200,
                [ev(A.REPORT_DECRYPTED, c.alice.id, c.case)])


@scenario("decision", "casework.decision", A.DECISION_RECORDED, A.CASE_STATUS_CHANGED)
def decision(c: Ctx) -> Call:
    c.accepted()
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/decision", 303,
                [ev(A.DECISION_RECORDED, c.alice.id, c.case),
                 ev(A.CASE_STATUS_CHANGED, c.alice.id, c.case)],
                {"finding": "substantiated", "reasons": TEXT, "responsibility": TEXT})


@scenario("amend the decision", "casework.decision", A.DECISION_RECORDED)
def amend(c: Ctx) -> Call:
    c.decided()
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/decision", 303,
                [ev(A.DECISION_RECORDED, c.alice.id, c.case)],  # version 2, same stage
                {"finding": "partly_substantiated", "reasons": TEXT})


@scenario("corrective action", "casework.add_action", A.ACTION_ADDED)
def add_action(c: Ctx) -> Call:
    c.decided()
    due = (c.services.clock.today() + timedelta(days=30)).isoformat()
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/actions", 303,
                [ev(A.ACTION_ADDED, c.alice.id, c.case)],
                {"title": TEXT, "notes": TEXT, "owner": str(c.alice.id), "due_on": due})


@scenario("action follow-up", "casework.update_action", A.ACTION_UPDATED)
def update_action(c: Ctx) -> Call:
    c.decided()
    action_id = _action(c)
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/actions/{action_id}", 303,
                [ev(A.ACTION_UPDATED, c.alice.id, c.case)], {"status": "done", "note": TEXT})


@scenario("action handed over", "casework.update_action", A.ACTION_UPDATED)
def hand_over_action(c: Ctx) -> Call:
    c.decided()
    c.join(c.bob)
    action_id = _action(c)
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/actions/{action_id}", 303,
                [ev(A.ACTION_UPDATED, c.alice.id, c.case)],
                {"status": "in_progress", "note": TEXT, "owner": str(c.bob.id)})


@scenario("evidence", "casework.evidence", A.EVIDENCE_ADDED)
def evidence(c: Ctx) -> Call:
    c.accepted()
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/evidence", 303,
                [ev(A.EVIDENCE_ADDED, c.alice.id, c.case)],
                {"kind": "file", "text": TEXT,
                 "attachments": [(io.BytesIO(b"reader log"), "log.txt")]}, multipart=True)


@scenario("identity request", "identity.ask", A.IDENTITY_REQUESTED)
def ask(c: Ctx) -> Call:
    c.keeper()
    return Call(c.client(c.alice), "POST", f"/cases/{c.case}/identity-request", 303,
                [ev(A.IDENTITY_REQUESTED, c.alice.id, c.case)], {"reason": TEXT})


def _request(c: Ctx) -> int:
    """alice asks for the identity; the keeper will decide."""
    c.keeper()
    return int(c.step(request_identity, c.case, "To arrange an interview").id)


@scenario("identity queue", "identity.queue", A.IDENTITY_REQUEST_READ)
def queue(c: Ctx) -> Call:
    _request(c)
    return Call(c.client(c.keeper()), "GET", "/identity-requests", 200,
                [ev(A.IDENTITY_REQUEST_READ, c.keeper().id, c.case)])  # its reason decrypted


@scenario("identity request page", "identity.decide", A.IDENTITY_REQUEST_READ)
def decide_page(c: Ctx) -> Call:
    request_id = _request(c)
    return Call(c.client(c.keeper()), "GET", f"/identity-requests/{request_id}/approve", 200,
                [ev(A.IDENTITY_REQUEST_READ, c.keeper().id, c.case)])


@scenario("identity approved", "identity.decide", A.IDENTITY_REQUEST_READ,
          A.SESSION_REAUTHENTICATED, A.IDENTITY_REQUEST_DECIDED, A.CASE_GRANTED)
def approve(c: Ctx) -> Call:
    request_id = _request(c)
    keeper = c.keeper()
    return Call(c.client(keeper), "POST", f"/identity-requests/{request_id}/approve", 303,
                [ev(A.IDENTITY_REQUEST_READ, keeper.id, c.case),
                 ev(A.SESSION_REAUTHENTICATED, keeper.id),
                 ev(A.CASE_GRANTED, keeper.id, c.case),  # the identity key, to alice
                 ev(A.IDENTITY_REQUEST_DECIDED, keeper.id, c.case)],
                {"passphrase": keeper.passphrase})


@scenario("identity refused", "identity.decide", A.IDENTITY_REQUEST_READ,
          A.SESSION_REAUTHENTICATED, A.IDENTITY_REQUEST_DECIDED)
def refuse(c: Ctx) -> Call:
    request_id = _request(c)
    keeper = c.keeper()
    return Call(c.client(keeper), "POST", f"/identity-requests/{request_id}/refuse", 303,
                [ev(A.IDENTITY_REQUEST_READ, keeper.id, c.case),
                 ev(A.SESSION_REAUTHENTICATED, keeper.id),
                 ev(A.IDENTITY_REQUEST_DECIDED, keeper.id, c.case)],
                {"passphrase": keeper.passphrase})


@scenario("report recorded by staff", "staff_intake.new", A.CASE_RECORDED_BY_STAFF)
def staff_intake(c: Ctx) -> Call:
    with c.session_factory() as s:
        before = set(s.execute(select(Case.id)).scalars())

    def new_case() -> int:  # case ids are random: the one the call made
        with c.session_factory() as s:
            (made,) = set(s.execute(select(Case.id)).scalars()) - before
        return int(made)

    # The case id is known only after the call: a callable, resolved then.
    return Call(c.client(c.alice), "POST", "/intake/new", 200,
                [(str(A.CASE_RECORDED_BY_STAFF), c.alice.id, new_case)],  # type: ignore[list-item]
                {"channel": "hotline", "category": "it_fault", "language": "en",
                 "summary": TEXT, "what_happened": TEXT, "receipt_explained": "y"})
