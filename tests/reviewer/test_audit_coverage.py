"""Audit coverage, driven by the route list and by the list of audit actions.

- Every console endpoint in `app.url_map` has an entry in ROUTE_AUDIT: the actions a
  successful call records, or "none: <why>". A new route without an entry fails.
- Every route that records something has scenarios (audit_scenarios_*.py) that make a REAL
  successful call and find exactly the expected new events: action, actor (staff member or
  system) and case; none holds the text or passphrases that were posted.
- Every refusal of a logged-in staff member in the access matrix (test_access_matrix.py)
  leaves one ACCESS_REFUSED event naming them, the case of the URL, the endpoint and the
  status; no other answer leaves one, nor does any answer to an anonymous visitor.
- Every AuditAction is recorded somewhere in the product's code (or listed in RESERVED, with
  why) and checked by a test: by a route scenario here, or by the test named in ELSEWHERE
  (the reporter's portal, the command line, the system's own checks).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import tests.reviewer.audit_scenarios_cases
import tests.reviewer.audit_scenarios_staff  # noqa: F401 - the scenarios register themselves
from core.audit.log import AuditAction as A
from core.models import ActorKind
from tests.reviewer.audit_calls import SCENARIOS, Ctx, events_since, log_size, perform
from tests.reviewer.conftest import login_client
from tests.reviewer.test_access_matrix import EXPECTED, LOGIN, ROLES, url_values

ROOT = Path(__file__).resolve().parents[2]
REFUSED = str(A.ACCESS_REFUSED)

#: endpoint -> the actions a successful call records (the scenarios show which call records
#: which), or "none: why". Refusals (403, 404) of any route add ACCESS_REFUSED, below.
ROUTE_AUDIT: dict[str, tuple[A, ...] | str] = {
    "index": "none: a redirect to the role's landing page",
    "static": "none: the console's stylesheet and images",
    "web.static": "none: the shared stylesheet",
    # Also tests/reviewer/test_auth.py (throttling, replayed codes, CSRF) and
    # tests/core/staff/test_authentication.py (each reason of a failure).
    "auth.login": (A.LOGIN_SUCCEEDED, A.LOGIN_FAILED),
    "auth.logout": (A.LOGOUT,),
    "auth.enrol": (A.REVIEWER_TOTP_ENROLLED,),
    "auth.change_passphrase": (A.REVIEWER_PASSPHRASE_CHANGED, A.REVIEWER_KEYS_CREATED),
    # A wrong passphrase on any re-entry form is a LOGIN_FAILED (tests/reviewer/test_reveal.py).
    "auth.reauth": (A.SESSION_REAUTHENTICATED,),
    "auth.language": "none: the language of one's own pages, a preference that opens nothing",
    "auth.auditor": "none: a redirect to the access log",
    "audit_log.events": (A.AUDIT_LOG_READ,),
    "audit_log.checkpoints": (A.AUDIT_LOG_READ,),
    # A log that no longer matches its checkpoints: AUDIT_LOG_DAMAGED (test_audit_console.py).
    "audit_log.sign_now": (A.CHECKPOINT_SIGNED,),
    "audit_log.export": (A.AUDIT_EXPORTED,),
    "audit_log.proof": (A.AUDIT_PROOF_MADE,),
    "inbox.index": (A.SUMMARIES_DECRYPTED,),
    "statistics.dashboard": "none: counts from clear columns; no case is opened or changed",
    "statistics.chart": "none: the dashboard's figures drawn as an image",
    "statistics.export": "none: the dashboard's figures, suppressed the same way, as CSV",
    "statistics.review": "none: the review report, from the dashboard's figures",
    # With category examples to learn from: CATEGORY_EXAMPLES_DECRYPTED (ELSEWHERE).
    "cases.show": (A.REPORT_DECRYPTED,),
    "cases.reply": (A.REVIEWER_MESSAGE_POSTED, A.CASE_STATUS_CHANGED),
    # A file that fails its check: RECORD_TAMPERED (tests/security/test_key_custody_records.py).
    "cases.download": (A.ATTACHMENT_DECRYPTED,),
    "cases.reveal": (A.SESSION_REAUTHENTICATED, A.IDENTITY_REVEALED),  # GET: the form only
    "cases.grant": (A.CASE_GRANTED,),
    "cases.exclude": (A.SESSION_REAUTHENTICATED, A.CASE_MEMBER_EXCLUDED, A.CASE_EPOCH_STARTED),
    # One event for the whole file (core.cases.case_file says why); the identity, when it goes
    # with it, is a reveal too. GET: the form only. A tampered file: RECORD_TAMPERED
    # (tests/core/cases/test_case_file.py).
    "case_file.export": (A.SESSION_REAUTHENTICATED, A.CASE_FILE_EXPORTED, A.IDENTITY_REVEALED),
    "handling.acknowledge": (A.REVIEWER_MESSAGE_POSTED, A.CASE_STATUS_CHANGED),
    "handling.scope": (A.REVIEWER_MESSAGE_POSTED, A.CASE_SCOPE_DECIDED, A.CASE_LEAD_CHANGED,
                       A.CASE_PRIORITY_CHANGED, A.CASE_STATUS_CHANGED),
    "handling.priority": (A.CASE_PRIORITY_CHANGED,),
    "handling.category": (A.CASE_CATEGORY_CHANGED, A.CASE_CATEGORY_CONFIRMED),
    "handling.legal_hold": (A.CASE_LEGAL_HOLD_CHANGED,),
    "handling.lead": (A.CASE_LEAD_CHANGED,),
    "handling.role": (A.CASE_MEMBER_ROLE_CHANGED,),
    "handling.feedback": (A.REPORT_DECRYPTED, A.REVIEWER_MESSAGE_POSTED, A.CASE_STATUS_CHANGED),
    "handling.follow_up": (A.CASE_STATUS_CHANGED,),
    "handling.close": (A.REVIEWER_MESSAGE_POSTED, A.CASE_STATUS_CHANGED),
    "handling.review": (A.REVIEWER_MESSAGE_POSTED, A.REVIEW_ANSWERED),
    "handling.reopen": (A.REVIEWER_MESSAGE_POSTED, A.CASE_STATUS_CHANGED, A.CASE_REOPENED),
    "casework.show": (A.REPORT_DECRYPTED,),
    "history.show": "none: identifiers and flags from the log itself; nothing is decrypted",
    "staff_intake.new": (A.CASE_RECORDED_BY_STAFF,),  # GET: the empty form
    "casework.decision": (A.DECISION_RECORDED, A.CASE_STATUS_CHANGED),
    "casework.add_action": (A.ACTION_ADDED,),
    "casework.update_action": (A.ACTION_UPDATED,),
    "casework.evidence": (A.EVIDENCE_ADDED,),
    "admin.dashboard": "none: counts and alarms, no case content (admins hold no case keys)",
    "admin.reviewers": "none: the list of accounts and their state",
    "admin.new_reviewer": (A.REVIEWER_ADDED, A.STAFF_CHANGE_REQUESTED),
    # Someone else's passphrase reset: STAFF_CHANGE_REQUESTED too (it waits for approval).
    "admin.account_action": (A.REVIEWER_DEACTIVATED, A.REVIEWER_TOTP_RESET,
                             A.REVIEWER_PASSPHRASE_RESET, A.STAFF_CHANGE_REQUESTED,
                             A.SESSION_REVOKED),
    # A case handler's new name: STAFF_CHANGE_REQUESTED. GET: the prefilled form.
    "admin.edit_account": (A.REVIEWER_EDITED, A.STAFF_CHANGE_REQUESTED),
    "changes.routing": (A.STAFF_CHANGE_REQUESTED,),
    "changes.approvals": "none: the list of changes waiting for a second admin",
    "changes.decide": (A.STAFF_CHANGE_DECIDED, A.CATEGORY_CHANGED, A.REVIEWER_CUSTODIAN_CHANGED,
                     A.REVIEWER_EDITED),
    "changes.custodian": (A.STAFF_CHANGE_REQUESTED,),
    "identity.ask": (A.IDENTITY_REQUESTED,),
    "identity.queue": (A.IDENTITY_REQUEST_READ,),
    "identity.decide": (A.IDENTITY_REQUEST_READ, A.SESSION_REAUTHENTICATED,
                        A.IDENTITY_REQUEST_DECIDED, A.CASE_GRANTED),
}

#: Actions no console route records, and the test that checks each (it names the tag).
ELSEWHERE: dict[A, str] = {
    A.CASE_SUBMITTED: "tests/core/intake/test_submission_rules.py",  # the portal
    A.SUBMITTER_MESSAGE_POSTED: "tests/core/intake/test_submission_rules.py",
    A.CASE_OPENED_BY_SUBMITTER: "tests/core/intake/test_reporter.py",
    A.OUTCOME_ANSWERED: "tests/portal/test_outcome_answers.py",
    A.CASE_RECOVERED: "tests/core/cases/test_recovery.py",  # candor recover
    A.IDENTITY_GRANT_WITHDRAWN: "tests/core/cases/test_recovery.py",  # candor db upgrade
    A.REVIEWER_EDITED: "tests/core/staff/test_account_contact.py",  # candor reviewer edit
    A.WARNING_DIGEST_SENT: "tests/core/statistics/test_alerts.py",  # candor remind
    A.CATEGORY_ADDED: "tests/cli/test_category_cli.py",  # candor category ...
    A.CATEGORY_EDITED: "tests/cli/test_category_cli.py",
    A.CATEGORY_MOVED: "tests/cli/test_category_cli.py",
    A.CATEGORY_DEACTIVATED: "tests/cli/test_category_cli.py",
    A.CATEGORY_ACTIVATED: "tests/cli/test_category_cli.py",
    A.CASE_CONTENT_DESTROYED: "tests/cli/test_retention_command.py",  # candor retention run
    A.RECORD_TAMPERED: "tests/core/cases/test_evidence_log.py",
    A.CATEGORY_EXAMPLES_DECRYPTED: "tests/reviewer/test_category_suggestion.py",  # case page
    A.KEY_REJECTED: "tests/security/test_key_custody_records.py",
    A.STANDING_CONFIRMED: "tests/security/test_account_standing.py",
    A.AUDIT_LOG_DAMAGED: "tests/reviewer/test_audit_console.py",
    A.ACCESS_REFUSED: "tests/reviewer/test_audit_coverage.py",  # this module, below
}

#: Actions kept in the enum that nothing records yet, with why (none today).
RESERVED: dict[A, str] = {}


def test_every_route_has_an_entry(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ROUTE_AUDIT), (f"missing: {sorted(endpoints - set(ROUTE_AUDIT))}, "
                                           f"stale: {sorted(set(ROUTE_AUDIT) - endpoints)}")
    for endpoint, entry in ROUTE_AUDIT.items():
        assert entry and (not isinstance(entry, str) or entry.startswith("none: ")), endpoint


def test_the_scenarios_show_every_action_of_every_route():
    shown: dict[str, set[str]] = {}
    for endpoint, actions, _run in SCENARIOS.values():
        assert not isinstance(ROUTE_AUDIT[endpoint], str), f"{endpoint} records nothing"
        shown.setdefault(endpoint, set()).update(actions)
    table = {e: {str(a) for a in v} for e, v in ROUTE_AUDIT.items() if not isinstance(v, str)}
    assert shown == table


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_successful_call_records_exactly_its_events(name, app_nocsrf, session_factory,
                                                      services, world, recovery_key):
    endpoint, actions, run = SCENARIOS[name]
    call = run(Ctx(app_nocsrf, session_factory, services, world, recovery_key))
    routed, _args = app_nocsrf.url_map.bind("localhost").match(call.path.split("?")[0],
                                                                  call.method)
    assert routed == endpoint
    size = log_size(session_factory)
    response = perform(call)
    assert response.status_code == call.status, response.get_data(as_text=True)[:1500]
    added = events_since(session_factory, size)
    got = sorted((e.action, e.reviewer_id, e.case_id) for e in added)
    want = sorted((a, r, c() if callable(c) else c) for a, r, c in call.events)
    assert got == want
    assert {a for a, _r, _c in want} == actions
    posted = [v for v in (call.data or {}).values() if isinstance(v, str) and " " in v]
    for event in added:
        assert event.actor_kind is (ActorKind.REVIEWER if event.reviewer_id is not None
                                    else ActorKind.SYSTEM)
        assert "CANARY" not in event.detail
        assert not any(text in event.detail for text in posted), event.detail


def _matrix_calls(app, world):
    """(endpoint, method, path, has a case) of each console route, as the access matrix
    calls it."""
    from flask import url_for
    values = url_values(world)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        args = {name: values[name] for name in rule.arguments}
        if rule.endpoint == "web.static":
            args["filename"] = "web/base.css"
        with app.test_request_context():
            path = url_for(rule.endpoint, **args)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        yield rule.endpoint, method, path, "case_id" in rule.arguments


def test_each_refusal_is_logged_once_with_its_actor_and_case(app_nocsrf, session_factory,
                                                            services, world):
    handles = {"anonymous": None, "on_case": world.on_case, "not_on_case": world.not_on_case,
               "excluded": world.excluded, "auditor": world.auditor, "admin": world.admin}
    failures = []
    for endpoint, method, path, has_case in _matrix_calls(app_nocsrf, world):
        for role, expected in zip(ROLES, EXPECTED[endpoint], strict=True):
            client = login_client(app_nocsrf, session_factory, services, handles[role])
            size = log_size(session_factory)
            response = client.open(path, method=method, data={} if method == "POST" else None)
            status = response.status_code
            assert status == expected or (expected == LOGIN and status == 302), (path, role)
            got = [(e.reviewer_id, e.case_id, e.actor_kind, json.loads(e.detail))
                   for e in events_since(session_factory, size) if e.action == REFUSED]
            want = []
            # A member's own case answering 404 (an id that does not exist there) refuses
            # nothing: not logged (reviewer.refusals).
            own_404 = status == 404 and role == "on_case" and has_case
            if status in (403, 404) and handles[role] is not None and not own_404:
                want = [(handles[role].id, world.case_id if has_case else None,
                         ActorKind.REVIEWER, {"endpoint": endpoint, "status": status})]
            if got != want:
                failures.append(f"{method} {path} as {role} ({status}): {got} != {want}")
    assert failures == []


def test_a_step_only_the_lead_may_take_is_a_logged_refusal(app_nocsrf, session_factory,
                                                           services, world, recovery_key):
    """A member refused a lead's step: the refusal is logged beside what the refusal page
    decrypted (committed together); the confirmation page of an exclusion likewise."""
    from core.cases import workflow
    from core.models import CasePriority, ScopeDecision
    c = Ctx(app_nocsrf, session_factory, services, world, recovery_key)
    c.join(c.bob)
    c.step(workflow.decide_scope, c.case, ScopeDecision.ACCEPTED, lead_id=c.bob.id,
           priority=CasePriority.NORMAL)
    alice = login_client(app_nocsrf, session_factory, services, c.alice)
    for path, data, shown in ((f"/cases/{c.case}/decision", {"finding": "substantiated",
                                                             "reasons": "r"}, True),
                              (f"/cases/{c.case}/members/{c.bob.id}/exclude", None, False)):
        size = log_size(session_factory)
        response = alice.open(path, method="POST" if data else "GET", data=data)
        assert response.status_code == 403
        want = [(REFUSED, c.alice.id, c.case)]
        if shown:
            want.insert(0, (str(A.REPORT_DECRYPTED), c.alice.id, c.case))
        assert [(e.action, e.reviewer_id, e.case_id)
                for e in events_since(session_factory, size)] == want


def _without_tokens(page: bytes) -> bytes:
    return re.sub(rb'name="csrf_token" value="[^"]*"', b'name="csrf_token"', page)


def test_a_case_one_is_not_on_answers_like_no_case_at_all(app, session_factory, services,
                                                          world):
    """The refusal is logged, and the page is the same as for a case that does not exist."""
    client = login_client(app, session_factory, services, world.not_on_case)
    missing = world.case_id + 1 if world.case_id < 2**62 else world.case_id - 1
    client.get("/cases")  # the session's CSRF token made (its cookie set) before comparing
    size = log_size(session_factory)
    theirs, nothing = client.get(f"/cases/{world.case_id}"), client.get(f"/cases/{missing}")
    assert theirs.status_code == nothing.status_code == 404
    # The same page but for the CSRF tokens, signed with the second they were made.
    assert _without_tokens(theirs.data) == _without_tokens(nothing.data)
    assert b"Printer" not in theirs.data
    assert dict(theirs.headers) == dict(nothing.headers)
    assert [(e.action, e.reviewer_id, e.case_id) for e in events_since(session_factory, size)
            ] == [(REFUSED, world.not_on_case.id, world.case_id),
                  (REFUSED, world.not_on_case.id, missing)]


def test_a_missing_record_in_ones_own_case_is_no_refusal(app, session_factory, services,
                                                         world):
    """Outside tester: a member's 404 for a file id that does not exist in their own case was
    logged as a refused access; the same address from someone not on the case still is."""
    path = f"/cases/{world.case_id}/files/999999"
    member = login_client(app, session_factory, services, world.on_case)
    size = log_size(session_factory)
    assert member.get(path).status_code == 404
    assert [e.action for e in events_since(session_factory, size)] == []
    outsider = login_client(app, session_factory, services, world.not_on_case)
    assert outsider.get(path).status_code == 404
    assert [(e.action, e.reviewer_id) for e in events_since(session_factory, size)
            ] == [(REFUSED, world.not_on_case.id)]


def test_unrouted_addresses_and_static_files_are_not_logged(app, session_factory, services,
                                                            world):
    client = login_client(app, session_factory, services, world.on_case)
    size = log_size(session_factory)
    for path in ("/no-such-page", "/static/no-such.css", "/cases/not-a-number",
                 "/web/static/no-such.css"):
        assert client.get(path).status_code == 404, path
    assert events_since(session_factory, size) == []


def test_the_portal_logs_no_refusals(config, services, session_factory, world):
    """The reporters' portal is anonymous: its 404s and refused receipts name nobody and are
    not logged as refusals."""
    from portal import create_app as create_portal
    portal = create_portal(config, services=services)
    portal.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    try:
        client = portal.test_client()
        size = log_size(session_factory)
        assert client.get("/no-such-page").status_code == 404
        client.post("/follow-up", data={"receipt": "1234 5678 9012 3456"})
        client.get("/case")
        client.get(f"/case/files/{world.file_id}")
    finally:
        portal.extensions["candor.database"].engine.dispose()
    assert [e.action for e in events_since(session_factory, size)
            if e.action == REFUSED] == []


def _recorded_in(path: Path) -> set[str]:
    """The AuditAction members a file passes to record_event (directly, or through a name
    the same function assigns them to)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text("utf-8"))

    def members(node: ast.AST) -> set[str]:
        return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name) and n.value.id == "AuditAction"}

    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        assigned: dict[str, set[str]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, set()).update(members(node.value))
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and getattr(
                    node.func, "id", getattr(node.func, "attr", None)) == "record_event"):
                continue
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                found |= members(arg)
                if isinstance(arg, ast.Name):
                    found |= assigned.get(arg.id, set())
    return found


def test_every_action_is_recorded_somewhere_or_reserved():
    recorded: set[str] = set()
    for package in ("core", "reviewer", "portal", "cli", "web"):
        for path in (ROOT / package).rglob("*.py"):
            recorded |= _recorded_in(path)
    names = {a.name for a in A}
    assert recorded <= names
    dead = names - recorded - {a.name for a in RESERVED}
    assert dead == set(), f"no code records {sorted(dead)}: record them or reserve them"
    assert {a.name for a in RESERVED} & recorded == set(), "reserved, yet recorded"
    assert all(why.strip() for why in RESERVED.values())


def test_every_action_is_checked_by_a_test():
    by_routes = {str(a) for v in ROUTE_AUDIT.values() if not isinstance(v, str) for a in v}
    for action in A:
        if str(action) in by_routes or action in RESERVED:
            continue
        assert action in ELSEWHERE, f"{action} is checked by no test"
        text = (ROOT / ELSEWHERE[action]).read_text("utf-8")
        named = (f'"{action}"', f"AuditAction.{action.name}", f"A.{action.name}")
        assert any(name in text for name in named), action
