"""Every console route x every kind of visitor has an expected outcome, checked for real.

The table is compared with `app.url_map`: a new route without an entry fails this test.
Routes that accept GET are checked with GET, POST-only routes with an empty POST (CSRF off, so
the access decision is what is tested; an empty form changes nothing).
"""

from __future__ import annotations

import pytest

ROLES = ("anonymous", "on_case", "not_on_case", "excluded", "auditor", "admin")
LOGIN = "login"  # a redirect to the login page

#: endpoint -> outcome per role, in ROLES order.
EXPECTED: dict[str, tuple[object, ...]] = {
    "index":                 (LOGIN, 302, 302, 302, 302, 302),
    "static":                (200, 200, 200, 200, 200, 200),
    "web.static":            (200, 200, 200, 200, 200, 200),
    "auth.login":            (200, 302, 302, 302, 302, 302),
    "auth.logout":           (LOGIN, 303, 303, 303, 303, 303),
    "auth.enrol":            (LOGIN, 302, 302, 302, 302, 302),
    "auth.change_passphrase": (LOGIN, 200, 200, 200, 200, 200),
    "auth.reauth":           (LOGIN, 200, 200, 200, 200, 200),
    "auth.language":         (303, 303, 303, 303, 303, 303),
    "auth.auditor":          (LOGIN, 403, 403, 403, 303, 403),  # to the access log
    "audit_log.events":      (LOGIN, 403, 403, 403, 200, 403),
    "audit_log.checkpoints": (LOGIN, 403, 403, 403, 200, 403),
    "audit_log.sign_now":    (LOGIN, 403, 403, 403, 303, 403),
    "audit_log.export":      (LOGIN, 403, 403, 403, 200, 403),
    "audit_log.proof":       (LOGIN, 403, 403, 403, 400, 403),  # no number given
    "inbox.index":           (LOGIN, 200, 200, 200, 403, 403),
    "cases.show":            (LOGIN, 200, 404, 404, 403, 403),
    "cases.reply":           (LOGIN, 400, 404, 404, 403, 403),
    "cases.download":        (LOGIN, 200, 404, 404, 403, 403),
    "cases.reveal":          (LOGIN, 303, 404, 404, 403, 403),  # 303: no approved request
    "cases.grant":           (LOGIN, 200, 404, 404, 403, 403),
    "cases.exclude":         (LOGIN, 200, 404, 404, 403, 403),
    "case_file.export":      (LOGIN, 200, 404, 404, 403, 403),  # GET: the passphrase form
    # The case cycle: an empty form is refused with the case page and a message (400).
    "handling.acknowledge":  (LOGIN, 400, 404, 404, 403, 403),
    "handling.scope":        (LOGIN, 400, 404, 404, 403, 403),
    "handling.priority":     (LOGIN, 400, 404, 404, 403, 403),
    "handling.category":     (LOGIN, 400, 404, 404, 403, 403),
    "handling.legal_hold":   (LOGIN, 400, 404, 404, 403, 403),
    "handling.lead":         (LOGIN, 400, 404, 404, 403, 403),
    "handling.role":         (LOGIN, 400, 404, 404, 403, 403),
    "handling.feedback":     (LOGIN, 400, 404, 404, 403, 403),
    "handling.follow_up":    (LOGIN, 409, 404, 404, 403, 403),  # no open actions
    "handling.close":        (LOGIN, 409, 404, 404, 403, 403),  # a received case
    "handling.review":       (LOGIN, 400, 404, 404, 403, 403),
    "handling.reopen":       (LOGIN, 409, 404, 404, 403, 403),  # not a finished case
    "casework.show":         (LOGIN, 200, 404, 404, 403, 403),
    "history.show":          (LOGIN, 200, 404, 404, 403, 403),
    "staff_intake.new":      (LOGIN, 200, 200, 200, 403, 403),
    "casework.decision":     (LOGIN, 400, 404, 404, 403, 403),
    "casework.add_action":   (LOGIN, 400, 404, 404, 403, 403),
    "casework.update_action": (LOGIN, 400, 404, 404, 403, 403),
    "casework.evidence":     (LOGIN, 400, 404, 404, 403, 403),
    "admin.dashboard":       (LOGIN, 403, 403, 403, 403, 200),
    "admin.reviewers":       (LOGIN, 403, 403, 403, 403, 200),
    "admin.new_reviewer":    (LOGIN, 403, 403, 403, 403, 200),
    "admin.account_action":  (LOGIN, 403, 403, 403, 403, 200),
    "admin.edit_account":    (LOGIN, 403, 403, 403, 403, 200),
    "changes.routing":       (LOGIN, 403, 403, 403, 403, 200),
    "changes.approvals":     (LOGIN, 403, 403, 403, 403, 200),
    "changes.decide":        (LOGIN, 403, 403, 403, 403, 404),  # no such change
    "changes.custodian":     (LOGIN, 403, 403, 403, 403, 303),  # asked: waits for approval
    "identity.ask":          (LOGIN, 200, 404, 404, 403, 403),
    "identity.queue":        (LOGIN, 404, 404, 404, 403, 403),  # custodians only
    "identity.decide":       (LOGIN, 404, 404, 404, 403, 403),
    # Statistics: case handlers and admins, never auditors (nothing of a case is shown).
    "statistics.dashboard":  (LOGIN, 200, 200, 200, 403, 200),
    "statistics.export":     (LOGIN, 200, 200, 200, 403, 200),
    "statistics.chart":      (LOGIN, 404, 404, 404, 403, 404),  # one case: no charts
    "statistics.review":     (LOGIN, 200, 200, 200, 403, 200),
}


def url_values(world) -> dict[str, object]:
    return {"case_id": world.case_id, "file_id": world.file_id,
            "reviewer_id": world.on_case.id, "action": "revoke",
            "filename": "reviewer/console.css", "change_id": 999_999, "decision": "approve",
            "give": "give", "request_id": 1, "action_id": 1,
            "name": "by_channel", "fmt": "pdf"}


def test_every_route_has_an_entry(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(EXPECTED), (
        f"missing: {sorted(endpoints - set(EXPECTED))}, stale: {sorted(set(EXPECTED) - endpoints)}")


def test_access_matrix(app_nocsrf, session_factory, services, world):
    from tests.reviewer.conftest import login_client
    app = app_nocsrf
    handles = {"anonymous": None, "on_case": world.on_case, "not_on_case": world.not_on_case,
               "excluded": world.excluded, "auditor": world.auditor, "admin": world.admin}
    values = url_values(world)
    failures = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        args = {name: values[name] for name in rule.arguments}
        if rule.endpoint == "web.static":
            args["filename"] = "web/base.css"
        with app.test_request_context():
            from flask import url_for
            path = url_for(rule.endpoint, **args)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        for role, expected in zip(ROLES, EXPECTED[rule.endpoint], strict=True):
            client = login_client(app, session_factory, services, handles[role])
            response = client.open(path, method=method, data={} if method == "POST" else None)
            got: object = response.status_code
            if got == 302 and "/login" in (response.location or "") and expected == LOGIN:
                got = LOGIN
            if got != expected:
                failures.append(f"{method} {path} as {role}: expected {expected}, got {got}")
    assert failures == []


@pytest.mark.parametrize("role", ["not_on_case", "excluded"])
def test_no_case_content_leaks_to_non_members(app, session_factory, services, world, role):
    from tests.reviewer.conftest import CANARY, login_client
    client = login_client(app, session_factory, services, getattr(world, role))
    inbox = client.get("/cases")
    assert world.reference.encode() not in inbox.data
    for path in (f"/cases/{world.case_id}", f"/cases/{world.case_id}/files/{world.file_id}"):
        response = client.get(path)
        assert response.status_code == 404 and CANARY.encode() not in response.data


def test_a_planted_membership_reaches_no_page_of_the_case(app_nocsrf, session_factory,
                                                          services, world):
    """A database writer adds an account to the team (a row without Candor's tag): before,
    its case pages answered (the history, the grant and export forms, the identity request)
    though it opened nothing. The team in effect (core.cases.membership) leaves it out: every
    route of the case answers as to a non-member."""
    from tests.reviewer.conftest import login_client
    from tests.security.key_custody_support import write_sql

    write_sql(session_factory, "INSERT INTO case_members (case_id, reviewer_id, role, excluded, "
              "status, category_id, received_on, acknowledge_due, feedback_due, priority, "
              "review_requested, actions_due) SELECT case_id, :planted, 'investigator', "
              "excluded, status, category_id, received_on, acknowledge_due, feedback_due, "
              "priority, review_requested, actions_due FROM case_members WHERE case_id = :case "
              "AND reviewer_id = :member", planted=world.not_on_case.id, case=world.case_id,
              member=world.on_case.id)
    client = login_client(app_nocsrf, session_factory, services, world.not_on_case)
    values = url_values(world)
    reached = []
    for rule in app_nocsrf.url_map.iter_rules():
        if "case_id" not in rule.arguments:
            continue
        with app_nocsrf.test_request_context():
            from flask import url_for
            path = url_for(rule.endpoint, **{n: values[n] for n in rule.arguments})
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        status = client.open(path, method=method, data={} if method == "POST" else None)
        expected = EXPECTED[rule.endpoint][ROLES.index("not_on_case")]
        if status.status_code != expected:
            reached.append(f"{method} {path}: {status.status_code}")
    assert reached == []
