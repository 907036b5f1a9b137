"""Sending the same report form twice (Back then Reload, "Confirm resubmission", a double
click) creates one case, not two (outside tester: two identical cases, the first with a
receipt the reporter never saw). core.intake.submission_tokens."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import SubmissionToken
from core.services import Services
from tests.portal.conftest import (
    HttpClient,
    counts,
    csrf_token,
    form_token,
    live_server,
    post_multipart,
    receipt_of,
    report_fields,
)


def _sent_form(client: FlaskClient) -> list[tuple[str, str | bytes]]:
    """The fields of one report form as the browser sends them."""
    page = client.get("/report").text
    return [("csrf_token", csrf_token(page)), ("once", form_token(page)),
            *report_fields().items()]


def test_the_same_form_sent_twice_makes_one_case(client: FlaskClient, session_factory:
                                                  sessionmaker[Session],
                                                  services: Services) -> None:
    fields = _sent_form(client)
    files = [("attachments", "log.txt", b"the log")]
    first = post_multipart(client, "/report", fields, files)
    assert first.status_code == 200 and receipt_of(first.text)
    after_first = counts(session_factory, services)
    again = post_multipart(client, "/report", fields, files)
    assert again.status_code == 409
    assert 'id="already-sent"' in again.text and "does not create a second report" in again.text
    # Nothing of the second sending is kept: no case, grant, file, blob or log entry.
    assert counts(session_factory, services) == after_first


def test_two_forms_make_two_cases(client: FlaskClient, session_factory: sessionmaker[Session],
                                  services: Services) -> None:
    before = counts(session_factory, services).cases
    for _ in range(2):
        assert post_multipart(client, "/report", _sent_form(client)).status_code == 200
    assert counts(session_factory, services).cases == before + 2


def test_a_refused_form_can_be_corrected_and_sent(client: FlaskClient,
                                                  session_factory: sessionmaker[Session],
                                                  services: Services) -> None:
    """A refusal keeps nothing, so the corrected form (the same token) is sent once."""
    fields = [f for f in _sent_form(client) if f[0] != "summary"]
    refused = post_multipart(client, "/report", fields)
    assert refused.status_code == 400
    assert form_token(refused.text) == dict(fields)["once"]  # shown again with the page
    sent = post_multipart(client, "/report", [*fields, ("summary", "The VPN drops")])
    assert sent.status_code == 200 and receipt_of(sent.text)


def test_a_form_without_a_well_formed_token_is_still_accepted(
        client: FlaskClient, session_factory: sessionmaker[Session],
        services: Services) -> None:
    """A form opened before the upgrade (no token) or an edited one is received; only the
    guard against sending it twice is missing."""
    page = client.get("/report").text
    before = counts(session_factory, services).cases
    for once in ([], [("once", "not-a-token")]):
        fields = [("csrf_token", csrf_token(page)), *once, *report_fields().items()]
        assert post_multipart(client, "/report", fields).status_code == 200
    assert counts(session_factory, services).cases == before + 2


def test_only_a_hash_of_the_token_is_stored(client: FlaskClient,
                                            session_factory: sessionmaker[Session]) -> None:
    fields = _sent_form(client)
    assert post_multipart(client, "/report", fields).status_code == 200
    token = dict(fields)["once"]
    assert isinstance(token, str)
    with session_factory() as s:
        stored = s.execute(select(SubmissionToken.token_hash)).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).digest()]


def test_a_double_click_over_http_makes_one_case(make_portal: Callable[..., Flask],
                                                 session_factory: sessionmaker[Session],
                                                 services: Services) -> None:
    """Two sendings of one form at the same moment, with files, over real HTTP to a threaded
    server: one receipt, one "already sent", one case, and no blob of the second."""
    with live_server(make_portal(insecure_dev_cookies=True)) as server:
        http = HttpClient(server.base)
        page = http.get("/report").text
        fields = [("csrf_token", csrf_token(page)), ("once", form_token(page)),
                  *report_fields().items()]
        files = [("attachments", "big.bin", os.urandom(2 * 1024 * 1024))]
        before = counts(session_factory, services)
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(lambda _: http.post_multipart("/report", fields, files),
                                    range(2)))
    assert sorted(a.status for a in answers) == [200, 409]
    after = counts(session_factory, services)
    assert after.cases == before.cases + 1 and after.attachments == before.attachments + 1
    assert after.blobs == before.blobs + 1


def test_the_sent_forms_keep_no_order(client: FlaskClient,
                                      session_factory: sessionmaker[Session]) -> None:
    """Outside tester: SQLite's hidden rowid numbered the sent forms in the order they were
    sent, which with the cases' days narrows down whose form a token is."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    assert post_multipart(client, "/report", _sent_form(client)).status_code == 200
    with pytest.raises(DBAPIError), session_factory() as s:
        s.execute(text("SELECT rowid FROM submission_tokens")).all()


def test_a_refusal_does_not_tell_whether_a_form_was_sent(
        client: FlaskClient, session_factory: sessionmaker[Session],
        services: Services) -> None:
    """Outside tester: re-posting a copy of the form with the readers' list emptied answered
    "already sent" for a sent form and "the readers changed" otherwise, storing nothing: an
    oracle for whoever holds a copy of the page. The token is claimed last now."""
    sent_form = _sent_form(client)
    assert post_multipart(client, "/report", sent_form).status_code == 200
    fresh_form = _sent_form(client)
    before = counts(session_factory, services)
    answers = []
    for fields in (sent_form, fresh_form):
        tampered = [(name, value) for name, value in fields if name != "shown"]
        tampered.append(("shown", "nobody"))
        answers.append(post_multipart(client, "/report", tampered))
    assert [a.status_code for a in answers][0] == [a.status_code for a in answers][1]
    assert "already sent" not in answers[0].text
    assert counts(session_factory, services) == before
