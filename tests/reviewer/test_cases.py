"""The case page, replies with attachments, downloads, grant and exclude, and the inbox."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import event, select

from core.db import transaction
from core.models import (
    Attachment,
    CaseGrant,
    CaseMember,
    CaseStatus,
    KeyKind,
    Message,
    MessageKind,
    Role,
)
from tests.core.factories import audit_actions, submit
from tests.reviewer.conftest import CANARY, login_client, new_account
from tests.reviewer.test_auth import csrf


def test_case_page_is_marked_and_not_cached(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    page = client.get(f"/cases/{world.case_id}")
    html = page.data.decode()
    assert page.headers["Cache-Control"] == "no-store"
    assert 'class="decrypted"' in html and CANARY in html
    title = html.split("<title>")[1].split("</title>")[0]
    assert CANARY not in title and "Printer" not in title
    assert "Next:" in html and 'id="case-status"' in html
    assert "Wang Fang" not in html  # identity hidden behind "reveal"
    assert "<script" not in html
    assert "case:report:decrypt" in audit_actions(session_factory)


def test_download_is_an_attachment_with_a_safe_name(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    response = client.get(f"/cases/{world.case_id}/files/{world.file_id}")
    assert response.status_code == 200
    assert response.data == b"attached bytes " * 1000
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"evidence_.txt\"")
    assert "filename*=UTF-8''evidence%20%E8%AF%81%E6%8D%AE.txt" in disposition
    assert "case:attachment:decrypt" in audit_actions(session_factory)


def _blob_path(session_factory, services, file_id):
    with session_factory() as s:
        return services.blobs._path(s.get(Attachment, file_id).blob_id)


def _refused_as_tampered(app, session_factory, services, world) -> None:
    client = login_client(app, session_factory, services, world.on_case)
    before = audit_actions(session_factory)
    response = client.get(f"/cases/{world.case_id}/files/{world.file_id}")
    assert response.status_code == 409 and b"attached bytes" not in response.data
    assert "integrity check" in response.text
    added = audit_actions(session_factory)[len(before):]
    assert "case:record:tampered" in added and "case:attachment:decrypt" not in added
    assert "access:refuse" not in added


def test_an_altered_attachment_is_refused_as_tampered(app, session_factory, services, world):
    """Outside tester: an altered blob gave a 403 "you do not have permission", logged as a
    refused access. A change in the first chunk (all of this 15 kB file) is caught before
    the response starts: the tampered page and the tampering event."""
    path = _blob_path(session_factory, services, world.file_id)
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    _refused_as_tampered(app, session_factory, services, world)


def test_a_missing_attachment_blob_is_refused_as_tampered(app, session_factory, services,
                                                          world):
    """Outside tester: a blob gone from the store gave a 500."""
    _blob_path(session_factory, services, world.file_id).unlink()
    _refused_as_tampered(app, session_factory, services, world)


def test_a_damaged_grant_is_refused_and_logged_as_tampering(app, session_factory, services,
                                                            world):
    """Outside tester: a grant with one byte changed answered "you do not have permission"
    and was logged as a refused access only. The page now says the database was changed,
    and the log names the grant as tampered, beside the refusal."""
    with transaction(session_factory) as s:
        grant = s.execute(select(CaseGrant).where(
            CaseGrant.case_id == world.case_id, CaseGrant.reviewer_id == world.on_case.id,
            CaseGrant.key_kind == KeyKind.CASE).order_by(CaseGrant.epoch.desc())).scalars().first()
        sealed = bytearray(grant.sealed_key)
        sealed[-1] ^= 1
        grant.sealed_key = bytes(sealed)
    client = login_client(app, session_factory, services, world.on_case)
    before = audit_actions(session_factory)
    response = client.get(f"/cases/{world.case_id}")
    assert response.status_code == 403 and CANARY not in response.text
    assert 'id="damaged-grant"' in response.text and 'id="nav-inbox"' in response.text
    added = audit_actions(session_factory)[len(before):]
    assert added == ["case:record:tampered", "access:refuse"]
    # A member refused for want of a grant is told nothing of the kind.
    other = login_client(app, session_factory, services, world.not_on_case)
    assert 'id="damaged-grant"' not in other.get(f"/cases/{world.case_id}").text


def _reply(client, case_id, kind, body, files=()):
    token = csrf(client, f"/cases/{case_id}")
    # (werkzeug's test encoder mangles empty fields, so empty ones are left out)
    data = {k: v for k, v in {"csrf_token": token, "kind": kind, "body": body}.items() if v}
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/cases/{case_id}/reply", data=data,
                       content_type="multipart/form-data")


def test_reply_with_attachment_and_internal_note(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    response = _reply(client, world.case_id, "clarification_request", "When did it start?",
                      [("question.txt", b"details")])
    assert response.status_code == 303
    response = _reply(client, world.case_id, "internal_note", "Team only remark",
                      [("team.txt", b"team file")])
    assert response.status_code == 303
    with session_factory() as s:
        messages = s.execute(select(Message).where(Message.case_id == world.case_id)
                             .order_by(Message.position)).scalars().all()
        kinds = [(m.kind, m.key_kind) for m in messages]
        files = s.execute(select(Attachment.key_kind).where(
            Attachment.message_id.is_not(None)).order_by(Attachment.position)).scalars().all()
        from core.models import Case
        assert s.get(Case, world.case_id).status is CaseStatus.INFO_NEEDED
    assert kinds == [(MessageKind.CLARIFICATION_REQUEST, KeyKind.CASE),
                     (MessageKind.INTERNAL_NOTE, KeyKind.TEAM)]
    assert files == [KeyKind.CASE, KeyKind.TEAM]
    page = client.get(f"/cases/{world.case_id}").data.decode()
    assert "When did it start?" in page and "Team only remark" in page and "team only" in page


def test_invalid_reply_keeps_the_text_and_stores_nothing(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    response = _reply(client, world.case_id, "", "My draft text", [("a.txt", b"x")])
    assert response.status_code == 400 and b"My draft text" in response.data
    response = _reply(client, world.case_id, "feedback", "", ())
    assert response.status_code == 400 and b"Write a message." in response.data
    with session_factory() as s:
        assert s.execute(select(Message)).scalars().all() == []
    assert list(services.blobs.list_blobs()) and len(list(services.blobs.list_blobs())) == 1


def test_reply_requires_the_csrf_token(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    response = client.post(f"/cases/{world.case_id}/reply",
                           data={"kind": "information", "body": "hi"},
                           content_type="multipart/form-data")
    assert response.status_code == 400


def test_grant_and_exclude(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    path = f"/cases/{world.case_id}/grant"
    page = client.get(path)
    assert b"bob" in page.data and b"carol" not in page.data  # excluded is not offered
    assert client.post(path, data={"csrf_token": csrf(client, path),
                                   "reviewer": str(world.not_on_case.id)}).status_code == 303
    assert "bob is now on the case team." in client.get(f"/cases/{world.case_id}").text
    bob = login_client(app, session_factory, services, world.not_on_case)
    assert CANARY.encode() in bob.get(f"/cases/{world.case_id}").data
    path = f"/cases/{world.case_id}/members/{world.not_on_case.id}/exclude"
    assert b"cannot be undone" in client.get(path).data
    # The passphrase on the form itself; without it, or wrong, nothing happens.
    assert client.post(path, data={"csrf_token": csrf(client, path)}).status_code == 400
    assert client.post(path, data={"csrf_token": csrf(client, path),
                                   "passphrase": "not it at all"}).status_code == 400
    assert CANARY.encode() in bob.get(f"/cases/{world.case_id}").data
    assert client.post(path, data={"csrf_token": csrf(client, path),
                                   "passphrase": world.on_case.passphrase}).status_code == 303
    assert bob.get(f"/cases/{world.case_id}").status_code == 404
    with session_factory() as s:
        assert s.get(CaseMember, (world.case_id, world.not_on_case.id)).excluded


def test_inbox_filters_counts_and_pages(app, session_factory, services, world):
    for _ in range(3):
        submit(session_factory, services, category="it_fault")
    submit(session_factory, services, category="security")  # bob's, not alice's
    client = login_client(app, session_factory, services, world.on_case)
    page = client.get("/cases").data.decode()
    assert page.count('class="case-link"') == 4
    assert "(4)" in page
    assert client.get("/cases?status=closed").data.count(b'class="case-link"') == 0
    assert client.get("/cases?due=overdue").data.count(b'class="case-link"') == 0
    services.clock.now = (lambda real=services.clock.now: real() + timedelta(days=8))
    client = login_client(app, session_factory, services, world.on_case)
    overdue = client.get("/cases?due=overdue")
    assert overdue.data.count(b'class="case-link"') == 4
    for query in ("?sort=oldest", "?sort=reference&page=2", "?status=bogus&page=x&category=9",
                  "?mine=1&sort=feedback_due"):
        assert client.get("/cases" + query).status_code == 200


def test_inbox_query_count_is_constant(app, session_factory, services, world):
    engine = app.extensions["candor.database"].engine
    client = login_client(app, session_factory, services, world.on_case)
    counts = []
    for n in (0, 12):
        for _ in range(n):
            submit(session_factory, services, category="it_fault")
        statements = []
        listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/cases").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_unrouted_category_is_shown_to_admins(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.admin)
    page = client.get("/admin").data.decode()
    assert 'id="unrouted"' in page and "Working environment and safety" in page
    result = submit(session_factory, services, category="environment")  # still succeeds
    assert result.unrouted
    admin_reviewers = client.get("/admin/reviewers")
    assert b"alice" in admin_reviewers.data
    # Outside tester: such a case reached nobody and nothing told an admin.
    again = client.get("/admin").text
    assert 'id="unreached"' in again and result.reference in again
    assert "candor assign REFERENCE USERNAME" in again


def test_routing_page_sets_intake(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.admin)
    token = csrf(client, "/admin/routing")
    response = client.post("/admin/routing", data={
        "category": "environment", "environment-csrf_token": token,
        "environment-reviewers": [str(world.on_case.id)]})
    assert response.status_code == 200 and b'id="routing-asked"' in response.data
    assert submit(session_factory, services, category="environment").unrouted  # not yet
    second = new_account(session_factory, services, "second.admin", Role.ADMIN)
    other = login_client(app, session_factory, services, second)
    page = other.get("/admin/approvals").text
    change = re.search(r'id="approve-(\d+)"', page).group(1)
    assert other.post(f"/admin/approvals/{change}/approve",
                      data={"csrf_token": csrf(other, "/admin/approvals")}).status_code == 303
    result = submit(session_factory, services, category="environment")
    assert not result.unrouted
    assert "category:change" in audit_actions(session_factory)


def test_admin_adds_an_account_and_resets_a_passphrase(app, session_factory, services, world,
                                                       monkeypatch):
    import reviewer.views.admin as admin_views
    hashed: list[str] = []
    original = admin_views.one_time_passphrase

    def counted(profile):
        hashed.append("one-time")
        return original(profile)

    monkeypatch.setattr(admin_views, "one_time_passphrase", counted)
    client = login_client(app, session_factory, services, world.admin)
    path = "/admin/reviewers/new"
    response = client.post(path, data={"csrf_token": csrf(client, path), "username": "dora",
                                       "role": "reviewer", "email": "dora@example.org"})
    assert response.status_code == 200 and b'id="one-time-passphrase"' in response.data
    assert hashed == ["one-time"]
    duplicate = client.post(path, data={"csrf_token": csrf(client, path), "username": "dora",
                                        "role": "reviewer"})
    assert b"already taken" in duplicate.data
    assert hashed == ["one-time"]  # a taken name is refused before the Argon2id
    path = f"/admin/reviewers/{world.on_case.id}/reset-passphrase"
    done = client.post(path, data={"csrf_token": csrf(client, path)})
    assert done.status_code == 200 and b"candor recover" in done.data
    assert new_account  # imported helper used elsewhere


def test_an_over_long_message_says_why_it_was_not_sent(app, session_factory, services, world):
    """Outside tester: it said only "The message was not sent."."""
    client = login_client(app, session_factory, services, world.on_case)
    page = f"/cases/{world.case_id}"
    with session_factory() as s:
        before = len(s.execute(select(Message.id)).all())
    response = client.post(f"{page}/reply", content_type="multipart/form-data", data={
        "csrf_token": csrf(client, page), "kind": "note", "body": "x" * 20_001})
    assert response.status_code == 400
    assert "Keep this under 20000 characters." in response.text
    with session_factory() as s:
        assert len(s.execute(select(Message.id)).all()) == before
