"""A page left open for more than a day (the CSRF time limit): the reporter's text comes back,
nothing is stored, and a fresh form sends. Tokens that are forged, or that arrive without the
browser's session (a cross-site post), still get the plain refusal, with nothing echoed."""

from __future__ import annotations

import time

import itsdangerous.timed
import pytest
from flask.testing import FlaskClient

from core.services import Services
from tests.portal.conftest import (
    counts,
    csrf_token,
    login_via,
    post_multipart,
    receipt_of,
    report_fields,
    submit_report_via,
)

TWO_DAYS = 2 * 24 * 3600
SUMMARY = "The badge readers on floor 2 log the phones of visitors"
EXPIRED_NOTICE = "This page was open for more than a day"


@pytest.fixture
def days_later(monkeypatch):
    """Move the clock of the CSRF tokens (itsdangerous) forward by two days when called."""
    def move() -> None:
        monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                            lambda self: int(time.time()) + TWO_DAYS)
    return move


def _post_report(client: FlaskClient, token: str):
    return post_multipart(client, "/report",
                          [("csrf_token", token), *report_fields(summary=SUMMARY).items()],
                          [("attachments", "photo.jpg", b"\xff\xd8 not really a photo")])


def test_report_open_for_days_comes_back_with_its_text(client, session_factory,
                                                       services: Services, days_later) -> None:
    old_token = csrf_token(client.get("/report").text)
    days_later()
    refused = _post_report(client, old_token)
    assert refused.status_code == 400
    assert EXPIRED_NOTICE in refused.text
    assert SUMMARY in refused.text  # given back, to send again
    assert counts(session_factory, services).cases == 0
    assert counts(session_factory, services).blobs == 0
    # The page carries a fresh token: sending it again works.
    fresh = csrf_token(refused.text)
    assert fresh != old_token
    sent = _post_report(client, fresh)
    assert sent.status_code == 200, sent.text
    assert receipt_of(sent.text)
    assert counts(session_factory, services).cases == 1


def test_forged_or_cross_site_tokens_echo_nothing(client, portal_app, session_factory,
                                                  services: Services, days_later) -> None:
    token = csrf_token(client.get("/report").text)
    forged = _post_report(client, "forged." + token)
    assert forged.status_code == 400 and SUMMARY not in forged.text
    days_later()
    # Another browser (no session cookie, as in a cross-site post: the cookie is
    # SameSite=Strict) with a token that is merely old: refused, nothing echoed.
    stranger = portal_app.test_client()
    cross_site = _post_report(stranger, token)
    assert cross_site.status_code == 400
    assert SUMMARY not in cross_site.text and EXPIRED_NOTICE not in cross_site.text
    assert counts(session_factory, services).cases == 0


def test_reply_open_for_days_is_shown_back_unsent(client, session_factory, services: Services,
                                                  days_later) -> None:
    receipt = receipt_of(submit_report_via(client).text)
    assert login_via(client, receipt).status_code == 303
    token = csrf_token(client.get("/case").text)
    client.post("/case/logout", data={"csrf_token": token})  # or 30 idle minutes
    days_later()
    reply = post_multipart(client, "/case/reply",
                           [("csrf_token", token), ("body", "The readers were replaced.")], [])
    assert reply.status_code == 403
    assert "The readers were replaced." in reply.text
    assert counts(session_factory, services).messages == 0
