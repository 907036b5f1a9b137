"""Receipt page, printable receipt, receipt login (typos, unknown codes), follow-up sessions
(idle expiry, logout) and the global throttles."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from core.kdf_slots import KdfSlots
from core.services import Services
from crypto.receipt import format_receipt, generate_receipt, normalise_receipt
from tests.portal.conftest import (
    csrf_token,
    login_via,
    post_multipart,
    receipt_of,
    reply_via,
    report_fields,
    submit_report_via,
)

FOLLOWUP_COOKIE = "__Host-candor-followup"
URL_ATTR_RE = re.compile(r'(?:href|action|src)="([^"]*)"')


def mistype(code: str) -> str:
    """Change one digit of a canonical receipt (the Damm check digit catches every such typo)."""
    digits = list(code)
    digits[5] = str((int(digits[5]) + 3) % 10)
    return "".join(digits)


def new_receipt(client: FlaskClient) -> str:
    response = submit_report_via(client)
    assert response.status_code == 200, response.text
    return receipt_of(response.text)


def test_receipt_page_is_not_cached_and_the_code_is_in_no_url(client: FlaskClient) -> None:
    response = submit_report_via(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Location" not in response.headers
    formatted = receipt_of(response.text)
    canonical = normalise_receipt(formatted)
    urls = URL_ATTR_RE.findall(response.text)
    assert urls, "positive control: the page has links and a form"
    for url in urls:
        assert canonical not in url.replace(" ", "").replace("%20", "")
        assert formatted not in url
    for name, value in response.headers.items():
        assert canonical not in value.replace(" ", ""), name
    # The code only sits in the page text and the print form's hidden field (a POST body).
    assert response.text.count(canonical) == 1
    assert f'name="receipt" type="hidden" value="{canonical}"' in response.text


def test_printable_receipt_by_post(client: FlaskClient) -> None:
    response = submit_report_via(client)
    canonical = normalise_receipt(receipt_of(response.text))
    printed = client.post(
        "/receipt/print", data={"csrf_token": csrf_token(response.text), "receipt": canonical}
    )
    assert printed.status_code == 200
    assert printed.headers["Cache-Control"] == "no-store"
    assert receipt_of(printed.text) == format_receipt(canonical)
    assert 'class="print-page"' in printed.text
    # A GET is not offered; a missing/forged token or a broken code gets the expired page.
    assert client.get("/receipt/print").status_code == 405
    no_token = client.post("/receipt/print", data={"receipt": canonical})
    assert no_token.status_code == 400
    assert canonical not in no_token.text
    broken = client.post(
        "/receipt/print",
        data={"csrf_token": csrf_token(response.text), "receipt": mistype(canonical)},
    )
    assert broken.status_code == 400
    assert "This page has expired" in broken.text


def test_mistyped_and_malformed_codes_are_told_so(client: FlaskClient) -> None:
    canonical = normalise_receipt(new_receipt(client))
    mistyped = login_via(client, format_receipt(mistype(canonical)))
    assert mistyped.status_code == 400
    assert "mistyped" in mistyped.text
    assert 'class="error-summary"' in mistyped.text
    # The code the person typed is kept in the field so they can correct it.
    assert format_receipt(mistype(canonical)) in mistyped.text
    for malformed in ("12345", "abcd efgh", canonical + "1", "１２３"):
        response = login_via(client, malformed)
        assert response.status_code == 400, malformed
        assert "28 digits" in response.text
    empty = login_via(client, "")
    assert empty.status_code == 400
    assert "Enter the receipt code" in empty.text
    # Full-width digits and dashes are folded: the real code, typed that way, works.
    fancy = "－".join(canonical[i : i + 4] for i in range(0, 28, 4)).translate(
        {ord(d): chr(0xFF10 + int(d)) for d in "0123456789"}
    )
    assert login_via(client, fancy).status_code == 303
    assert client.get("/case").status_code == 200
    assert 'id="stage"' in client.get("/case").text


def test_valid_and_unknown_codes_get_the_same_answer(
    portal_app: Flask, client: FlaskClient
) -> None:
    valid = new_receipt(client)
    unknown = format_receipt(generate_receipt())
    first = login_via(portal_app.test_client(), valid)
    second = login_via(portal_app.test_client(), unknown)
    assert first.status_code == second.status_code == 303
    assert len(first.get_data()) == len(second.get_data())
    assert first.headers["Location"] == second.headers["Location"]
    assert valid.replace(" ", "") not in first.headers["Location"]

    # The same headers, to the byte: the unknown code gets a decoy cookie of the same shape.
    def header_sizes(response):
        return sorted((name, len(value)) for name, value in response.headers.items())

    assert header_sizes(first) == header_sizes(second)
    assert sum(len(v) for v in first.headers.getlist("Set-Cookie")) == sum(
        len(v) for v in second.headers.getlist("Set-Cookie")
    )


def test_unknown_code_lands_on_the_login_page(portal_app: Flask) -> None:
    client = portal_app.test_client()
    response = login_via(client, format_receipt(generate_receipt()))
    assert response.status_code == 303
    page = client.get("/case")
    assert page.status_code == 200
    assert 'id="not-recognised"' in page.text
    assert 'id="stage"' not in page.text


def test_session_expires_after_30_idle_minutes(client: FlaskClient, services: Services) -> None:
    receipt = new_receipt(client)
    start = datetime(2030, 5, 6, 9, 0, tzinfo=UTC)
    services.clock.now = lambda: start
    assert login_via(client, receipt).status_code == 303
    # Activity slides the deadline: 29 minutes, then another 29, still in.
    for minutes in (29, 58):
        services.clock.now = lambda m=minutes: start + timedelta(minutes=m)
        page = client.get("/case")
        assert 'id="stage"' in page.text, minutes
    services.clock.now = lambda: start + timedelta(minutes=58 + 31)
    expired = client.get("/case")
    assert expired.status_code == 200
    assert 'id="stage"' not in expired.text
    assert 'id="not-recognised"' in expired.text
    assert "30 minutes" in expired.text
    # Coming back in time does not resurrect the session: it was deleted.
    services.clock.now = lambda: start + timedelta(minutes=60)
    assert 'id="stage"' not in client.get("/case").text


def test_logout_makes_the_cookie_worthless(client: FlaskClient) -> None:
    receipt = new_receipt(client)
    login_via(client, receipt)
    cookie = client.get_cookie(FOLLOWUP_COOKIE)
    assert cookie is not None
    assert cookie.secure and cookie.http_only
    assert cookie.same_site == "Strict"
    value = cookie.value
    page = client.get("/case")
    logout = client.post("/case/logout", data={"csrf_token": csrf_token(page.text)})
    assert logout.status_code == 303
    assert logout.headers["Location"] == "/"
    assert client.get_cookie(FOLLOWUP_COOKIE) is None
    assert 'id="stage"' not in client.get("/case").text
    # Replaying the old cookie does not work either: the server-side session is gone.
    client.set_cookie(FOLLOWUP_COOKIE, value, secure=True, httponly=True)
    assert 'id="stage"' not in client.get("/case").text


def test_logout_requires_csrf(client: FlaskClient) -> None:
    login_via(client, new_receipt(client))
    assert client.post("/case/logout").status_code == 400
    assert 'id="stage"' in client.get("/case").text


def test_receipt_login_when_every_argon2id_slot_stays_busy(
    make_portal: Callable[..., Flask], services: Services
) -> None:
    # One slot, held by someone else for longer than the wait: the login is turned away with
    # the friendly page, not a 500 and not a blame ("too many attempts").
    services.kdf_slots = KdfSlots(1, max_wait=0.2)
    client = make_portal().test_client()
    with services.kdf_slots.slot():
        busy = login_via(client, format_receipt(generate_receipt()))
        # A typo is still answered at once: it needs no slot.
        typo = login_via(client, format_receipt(mistype(generate_receipt())))
    assert busy.status_code == 429
    assert "This service is busy" in busy.text and "Too many attempts" not in busy.text
    retry_after = int(busy.headers["Retry-After"])
    assert retry_after == 1
    assert re.search(rf"try again in {retry_after} seconds?", busy.text), busy.text
    assert busy.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in busy.headers["Content-Security-Policy"]
    assert typo.status_code == 400
    # Once the slot is free the same client logs in as usual.
    assert login_via(client, format_receipt(generate_receipt())).status_code == 303


def test_receipt_logins_are_not_capped_per_minute(client: FlaskClient) -> None:
    # The old per-minute budget let four guessing threads lock every reporter out: logins
    # now only queue for Argon2id slots, so the 40th login of a minute works like the first.
    receipt = new_receipt(client)
    for _ in range(40):
        assert login_via(client, format_receipt(generate_receipt())).status_code == 303
    assert login_via(client, receipt).status_code == 303
    assert 'id="stage"' in client.get("/case").text


def test_submission_throttle(
    make_portal: Callable[..., Flask], session_factory, services: Services
) -> None:
    from tests.portal.conftest import counts

    moment = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)
    services.clock.now = lambda: moment  # no window roll-over between the two requests
    app = make_portal(submissions_per_minute=1)
    client = app.test_client()
    assert submit_report_via(client).status_code == 200
    busy = submit_report_via(client, report_fields(summary="Sent at a busy moment"),
                             files=[("late.txt", b"late")])
    assert busy.status_code == 429
    assert busy.headers["Retry-After"] == "40"  # the window ends at 12:01:00
    # The form comes back with the reporter's text and says when to send it again.
    assert "Sent at a busy moment" in busy.text
    assert "Please wait 40 seconds and send your report again." in busy.text
    assert "MB in total." not in busy.text.split('id="upload-error"')[1].split("</div>")[0]
    assert 'id="files-dropped"' in busy.text  # its file must be chosen again
    assert counts(session_factory, services).cases == 1
    assert counts(session_factory, services).blobs == 0
    # Without files, the page does not speak of files that were not kept.
    textonly = submit_report_via(client, report_fields(summary="No files this time"))
    assert textonly.status_code == 429 and 'id="files-dropped"' not in textonly.text


def test_refused_posts_spend_no_submission_budget(
    make_portal: Callable[..., Flask], session_factory, services: Services
) -> None:
    # The flood: posts without a cookie, with a forged token, with the honeypot
    # filled or with a broken body used to spend the shared budget before any check ran.
    from tests.portal.conftest import counts

    moment = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)
    services.clock.now = lambda: moment  # one window for the whole test
    app = make_portal(submissions_per_minute=1)
    outsider = app.test_client()
    client = app.test_client()
    page = client.get("/report")
    token = csrf_token(page.text)
    for _ in range(5):
        assert outsider.post("/report").status_code == 400
        assert post_multipart(outsider, "/report", [("csrf_token", "forged"),
                                                    *report_fields().items()]).status_code == 400
        assert post_multipart(client, "/report", [("csrf_token", token), *report_fields().items(),
                                                  ("website", "http://spam")]).status_code == 400
        broken = client.post("/report", data=b"--x\r\nnot a form",
                             content_type="multipart/form-data; boundary=x")
        assert broken.status_code == 400
    assert counts(session_factory, services).cases == 0
    # The budget of one is still whole: the reporter's real report goes through.
    assert submit_report_via(client).status_code == 200
    assert counts(session_factory, services).cases == 1


def test_per_case_message_limit(
    make_portal: Callable[..., Flask], session_factory, services: Services
) -> None:
    from tests.portal.conftest import counts

    # The budget is per day: no midnight may pass between the replies.
    moment = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)
    services.clock.now = lambda: moment
    client = make_portal(messages_per_case_per_day=2).test_client()
    login_via(client, new_receipt(client))
    assert reply_via(client, "one").status_code == 303
    assert reply_via(client, "two").status_code == 303
    blobs = counts(session_factory, services).blobs
    third = reply_via(client, "three, please read", [("extra.txt", b"extra")])
    assert third.status_code == 400
    assert "many messages today" in third.text
    assert "three, please read" in third.text  # the text is kept for tomorrow
    assert counts(session_factory, services).messages == 2
    assert counts(session_factory, services).blobs == blobs


def test_empty_reply_is_refused_with_a_message(
    client: FlaskClient, session_factory, services: Services
) -> None:
    from tests.portal.conftest import counts

    login_via(client, new_receipt(client))
    response = reply_via(client, "   ")
    assert response.status_code == 400
    assert "Write a message or choose a file." in response.text
    assert counts(session_factory, services).messages == 0


def test_reply_after_the_session_ended_is_shown_back_not_lost(
    client: FlaskClient, session_factory, services: Services
) -> None:
    from tests.portal.conftest import counts, csrf_token, post_multipart

    start = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)
    services.clock.now = lambda: start
    login_via(client, new_receipt(client))
    token = csrf_token(client.get("/case").text)
    # The reporter writes for longer than the idle limit, then sends.
    services.clock.now = lambda: start + timedelta(minutes=45)
    text = "A long answer <b>with</b> details\nwritten over an hour"
    response = post_multipart(client, "/case/reply", [("csrf_token", token), ("body", text)],
                              [("attachments", "proof.txt", b"proof bytes")])
    assert response.status_code == 403
    assert "Your message was NOT sent." in response.text
    assert "choose them again" in response.text
    assert "A long answer &lt;b&gt;with&lt;/b&gt; details" in response.text
    assert 'id="followup-form"' in response.text  # the receipt login, to carry on
    assert counts(session_factory, services).messages == 0
    assert counts(session_factory, services).blobs == 0


def test_reply_after_the_session_ended_reads_no_file(
    client: FlaskClient, services: Services
) -> None:
    """Without a session nothing may cost more than the text: the body is read up to the
    first file and no further (the read size is 1 MiB)."""
    import io

    from tests.portal.conftest import csrf_token, multipart_body

    start = datetime(2026, 11, 28, 12, 0, 20, tzinfo=UTC)
    services.clock.now = lambda: start
    login_via(client, new_receipt(client))
    token = csrf_token(client.get("/case").text)
    services.clock.now = lambda: start + timedelta(minutes=45)
    body, content_type = multipart_body([("csrf_token", token), ("body", "my words")],
                                        [("attachments", "big.bin", b"\0" * (20 * 1024 * 1024))])
    stream = io.BytesIO(body)
    response = client.post("/case/reply", input_stream=stream, content_type=content_type,
                           content_length=len(body))
    assert response.status_code == 403 and "my words" in response.text
    assert "choose them again" in response.text
    assert stream.tell() <= 2 * 1024 * 1024


def test_reply_without_session_goes_to_login(portal_app: Flask) -> None:
    client = portal_app.test_client()
    response = client.post("/case/reply", data={"body": "hi"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/case")
