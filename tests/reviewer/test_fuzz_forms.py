"""Property-based fuzzing of every console form: never a server error, always a clear answer."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reviewer.conftest import login_client

#: name -> (who posts, path template, field names, success/expected statuses)
FORMS = {
    "login": (None, "/login", ["username", "passphrase", "code", "next"]),
    "enrol": ("on_case", "/enrol", ["code"]),
    "passphrase": ("on_case", "/passphrase", ["current", "new", "confirm"]),
    "reauth": ("on_case", "/reauth", ["passphrase", "next"]),
    "language": ("on_case", "/language", ["language", "next"]),
    "reveal": ("on_case", "/cases/{case_id}/reveal", ["reason"]),
    "grant": ("on_case", "/cases/{case_id}/grant", ["reviewer"]),
    "exclude": ("on_case", "/cases/{case_id}/members/{excluded_id}/exclude", ["x"]),
    "new_reviewer": ("admin", "/admin/reviewers/new", ["username", "role", "email"]),
    "account_action": ("admin", "/admin/reviewers/{bob_id}/revoke", ["x"]),
    "edit_account": ("admin", "/admin/reviewers/{bob_id}/edit", ["email", "display_name"]),
    "routing": ("admin", "/admin/routing", ["category", "it_fault-reviewers",
                                             "security-reviewers"]),
    "inbox": ("on_case", "/cases", ["status", "category", "due", "mine", "sort", "page"]),
}

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
values = st.one_of(st.text(max_size=80), st.sampled_from(
    ["", "0", "-1", "999999999999", "reviewer", "admin", "overdue", "closed", "it_fault",
     "zh_CN", "//evil.example", "\x00", "é" * 300, "1"]))


def _path(template: str, world) -> str:
    return template.format(case_id=world.case_id, excluded_id=world.excluded.id,
                           bob_id=world.not_on_case.id)


@pytest.mark.parametrize("name", sorted(FORMS))
def test_form_never_fails_with_a_server_error(app_nocsrf, session_factory, services, world,
                                              name):
    who, template, fields = FORMS[name]
    client = login_client(app_nocsrf, session_factory, services,
                          getattr(world, who) if who else None)
    path = _path(template, world)

    @SETTINGS
    @given(st.dictionaries(st.sampled_from(fields) | st.text(min_size=1, max_size=10), values,
                           max_size=6))
    def check(data):
        if name == "inbox":
            response = client.get(path, query_string=data)
        else:
            response = client.post(path, data=data)
        assert response.status_code < 500, (name, data)
        if response.status_code == 400:
            assert b"<h1>" in response.data  # a page that says what went wrong

    check()


def test_reply_form_never_fails_with_a_server_error(app_nocsrf, session_factory, services,
                                                    world):
    client = login_client(app_nocsrf, session_factory, services, world.on_case)
    path = f"/cases/{world.case_id}/reply"

    @SETTINGS
    @given(kind=st.sampled_from(["information", "internal_note", "feedback", "bogus",
                                 "reporter_message", "clarification_request"]),
           body=st.text(min_size=1, max_size=300),
           files=st.lists(st.tuples(st.text(min_size=1, max_size=40), st.binary(max_size=300)),
                          max_size=2))
    def check(kind, body, files):
        data = {"kind": kind, "body": body}
        if files:
            data["attachments"] = [(io.BytesIO(content), fname or "f")
                                   for fname, content in files]
        response = client.post(path, data=data, content_type="multipart/form-data")
        assert response.status_code in (303, 400), (kind, body, response.status_code)

    check()


@pytest.mark.parametrize("name", sorted(FORMS))
def test_a_nul_in_any_field_is_a_clear_answer(app_nocsrf, session_factory, services, world,
                                              name):
    """NUL in each field, one at a time and all at once: browsers never send it, PostgreSQL
    text refuses it, so it must be turned away before any query (hypothesis draws it only
    sometimes)."""
    who, template, fields = FORMS[name]
    client = login_client(app_nocsrf, session_factory, services,
                          getattr(world, who) if who else None)
    path = _path(template, world)
    for data in [{f: "\x00" for f in fields}, *({f: "a\x00"} for f in fields)]:
        if name == "inbox":
            response = client.get(path, query_string=data)
        else:
            response = client.post(path, data=data)
        assert response.status_code < 500, (name, data)


@pytest.mark.parametrize(("who", "path"), [
    ("on_case", "/cases?ref=%00"), ("on_case", "/cases?q=a%00b"),
    ("auditor", "/audit?case=%00"), ("admin", "/statistics?period=2026%00"),
    (None, "/login?next=%00")])
def test_a_nul_in_the_address_is_a_clear_answer(app, session_factory, services, world, who,
                                                path):
    """Outside tester: "/cases?ref=%00" answered 500 on PostgreSQL (text refuses NUL). Any
    NUL in a query is now a 400, before any query of the database."""
    client = login_client(app, session_factory, services, getattr(world, who) if who else None)
    answer = client.get(path)
    assert answer.status_code == 400, answer.status_code
    assert "Traceback" not in answer.text
