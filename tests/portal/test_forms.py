"""The submission form's behaviour on bad input: errors keep the input, files are dropped
(never stored) when the text is invalid, oversize uploads, the honeypot, confidential
reports, and no trace left behind when something fails half-way."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import core.intake.submission as submission_module
from core.models import Case, Disclosure
from core.services import Services
from tests.portal.conftest import (
    Counts,
    counts,
    csrf_token,
    login_via,
    multipart_body,
    post_multipart,
    receipt_of,
    reply_via,
    report_fields,
    submit_report_via,
)

MiB = 1024 * 1024


def nothing_new(before: Counts, after: Counts, *, reads: bool = False) -> None:
    """No row and no blob was added; with `reads`, audit events (each case page view records
    one) may have been added."""
    if reads:
        assert after.audit >= before.audit
        after = replace(after, audit=before.audit)
    assert after == before, (before, after)


def test_form_errors_keep_the_input_and_show_a_summary(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    before = counts(session_factory, services)
    fields = report_fields(
        summary="",
        what_happened="Kept <b>text</b>\nline two",
        when="Tuesday",
        where="Hall 3 & 4",
        evidence="Logs on 报告 server",
    )
    response = submit_report_via(client, fields)
    assert response.status_code == 400
    page = response.text
    assert 'class="error-summary"' in page
    assert "There is a problem" in page
    assert 'href="#summary"' in page  # the summary links to the field
    assert "Write a short summary of your report." in page
    assert html.escape("Kept <b>text</b>", quote=False) in page
    assert 'value="Tuesday"' in page
    assert 'value="Hall 3 &amp; 4"' in page
    assert "Logs on 报告 server" in page
    assert "<b>text</b>" not in page  # escaped, never markup
    checked = re.findall(r"<input[^>]*\bchecked\b[^>]*>", page)
    assert any('name="category"' in tag and 'value="it_fault"' in tag for tag in checked)
    nothing_new(before, counts(session_factory, services))


def test_invalid_form_drops_chosen_files_without_storing_a_byte(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    before = counts(session_factory, services)
    response = submit_report_via(
        client,
        report_fields(what_happened=""),
        files=[("evidence.pdf", b"%PDF" * 10_000), ("b.txt", b"b")],
    )
    assert response.status_code == 400
    assert 'id="files-dropped"' in response.text
    assert "Please choose them again." in response.text
    assert "Describe what happened." in response.text
    nothing_new(before, counts(session_factory, services))
    assert list((services.config.blob_dir / "tmp").iterdir()) == []


def test_confidential_submission_without_a_name_is_refused(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    before = counts(session_factory, services)
    response = submit_report_via(
        client, report_fields(disclosure="confidential", name="  ", contact="ext. 42")
    )
    assert response.status_code == 400
    assert "Enter your name, or choose to stay anonymous." in response.text
    assert 'value="ext. 42"' in response.text
    nothing_new(before, counts(session_factory, services))


def test_confidential_submission_with_identity(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
    intake_reviewer,
    recovery_key,
) -> None:
    response = submit_report_via(
        client,
        report_fields(
            disclosure="confidential", name="Mei Lin", contact="mei@example.org", position="Finance"
        ),
    )
    assert response.status_code == 200, response.text
    receipt_of(response.text)
    with session_factory() as s:
        case = s.scalars(select(Case)).one()
        assert case.disclosure is Disclosure.CONFIDENTIAL
        assert case.identity_ciphertext is not None
        assert b"Mei Lin" not in case.identity_ciphertext
        case_id = case.id
    # The identity key is sealed to the identity custodians and the recovery key (none of
    # the intake handlers): open it as the recovery key's holder would.
    from core.cases.content import Identity
    from core.cases.contexts import identity_context
    from core.cases.grants import open_recovery_grant
    from core.models import KeyKind
    from crypto.records import decrypt_record

    with session_factory() as s:
        case = s.get(Case, case_id)
        key = open_recovery_grant(s, case_id, recovery_key.private_key, KeyKind.IDENTITY)
        assert key is not None
        identity = Identity.from_bytes(decrypt_record(key, case.identity_ciphertext,
                                                      identity_context(case.reference)))
    assert (identity.name, identity.contact, identity.position) == (
        "Mei Lin",
        "mei@example.org",
        "Finance",
    )


def test_anonymous_submission_drops_identity_fields(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
) -> None:
    response = submit_report_via(client, report_fields(disclosure="anonymous", name="Mei Lin"))
    assert response.status_code == 200
    assert 'id="identity-dropped"' in response.text  # the reporter is told
    assert "Mei Lin" not in response.text
    plain = submit_report_via(client, report_fields(disclosure="anonymous"))
    assert 'id="identity-dropped"' not in plain.text
    with session_factory() as s:
        for case in s.scalars(select(Case)):
            assert case.disclosure is Disclosure.ANONYMOUS
            assert case.identity_ciphertext is None


def test_honeypot_submission_creates_no_case(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    before = counts(session_factory, services)
    response = submit_report_via(
        client, report_fields(website="http://spam.example"), files=[("spam.exe", b"MZ" * 1000)]
    )
    assert response.status_code == 400
    assert "Your report could not be sent." in response.text
    assert 'id="receipt-code"' not in response.text
    nothing_new(before, counts(session_factory, services))


def test_unknown_category_and_disclosure_are_refused(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    before = counts(session_factory, services)
    for fields in (
        report_fields(category="no_such_thing"),
        report_fields(disclosure="public"),
        report_fields(category=""),
    ):
        response = submit_report_via(client, fields)
        assert response.status_code == 400, fields
        assert 'class="error-summary"' in response.text
    nothing_new(before, counts(session_factory, services))


def test_missing_or_misplaced_csrf_token_stores_nothing(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    before = counts(session_factory, services)
    files = [("attachments", "a.bin", b"a" * 100_000)]
    no_token = post_multipart(client, "/report", list(report_fields().items()), files)
    assert no_token.status_code == 400
    token = csrf_token(client.get("/report").text)
    late_token = post_multipart(
        client, "/report", [*report_fields().items(), ("csrf_token", token)], files
    )
    assert late_token.status_code == 400
    forged = post_multipart(
        client, "/report", [("csrf_token", "forged." + token), *report_fields().items()], files
    )
    assert forged.status_code == 400
    nothing_new(before, counts(session_factory, services))


def test_file_over_the_limit_gives_a_clear_413(
    make_portal: Callable[..., Flask],
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    """Within the body allowance but over max_submission_bytes: refused while streaming."""
    client = make_portal(max_submission_bytes=1 * MiB).test_client()
    before = counts(session_factory, services)
    response = submit_report_via(
        client,
        report_fields(summary="Keep me"),
        files=[("small.txt", b"fine"), ("big.bin", b"\xff" * (MiB + 1))],
    )
    assert response.status_code == 413
    assert 'id="upload-error"' in response.text
    assert "larger than this service accepts" in response.text
    assert "please choose them again" in response.text
    assert 'value="Keep me"' in response.text
    assert "Content-Security-Policy" in response.headers
    nothing_new(before, counts(session_factory, services))
    assert list((services.config.blob_dir / "tmp").iterdir()) == []


def test_files_together_over_the_limit_give_413(
    make_portal: Callable[..., Flask],
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    client = make_portal(max_submission_bytes=1 * MiB).test_client()
    before = counts(session_factory, services)
    response = submit_report_via(
        client, files=[("a.bin", b"a" * (600 * 1024)), ("b.bin", b"b" * (600 * 1024))]
    )
    assert response.status_code == 413
    nothing_new(before, counts(session_factory, services))


def test_too_many_files_give_413(
    make_portal: Callable[..., Flask], session_factory: sessionmaker[Session], services: Services
) -> None:
    client = make_portal(max_files=2).test_client()
    before = counts(session_factory, services)
    response = submit_report_via(client, files=[(f"{i}.txt", b"x") for i in range(3)])
    assert response.status_code == 413
    assert 'id="upload-error"' in response.text
    nothing_new(before, counts(session_factory, services), reads=True)


def test_body_declared_over_the_limit_gives_a_clear_413(
    make_portal: Callable[..., Flask],
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    """Content-Length above limit + form allowance: refused before reading, with a 413 page."""
    app = make_portal(max_submission_bytes=1 * MiB)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    before = counts(session_factory, services)
    fields = report_fields(summary="My summary survives", what_happened="Typed for an hour")
    response = submit_report_via(client, fields, files=[("huge.bin", b"\0" * (4 * MiB))])
    assert response.status_code == 413
    summary = response.text.split('id="upload-error"')[1].split("</div>")[0]
    assert "larger than the limit" in summary and "1 MB in total" in summary
    # Only the text fields were read, and they are kept for the reporter.
    assert "My summary survives" in response.text and "Typed for an hour" in response.text
    nothing_new(before, counts(session_factory, services))


@pytest.mark.parametrize("path", ["/report", "/case/reply"])
def test_non_multipart_post_is_a_400(portal_app: Flask, path: str) -> None:
    portal_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = portal_app.test_client()
    if path == "/case/reply":
        login_via(client, receipt_of(submit_report_via(client).text))
    token = csrf_token(client.get("/report").text)
    response = client.post(path, data={"csrf_token": token, "summary": "x", "body": "x"})
    assert response.status_code == 400


def test_uncaught_exception_during_submission_leaves_nothing(
    portal_app: Flask,
    session_factory: sessionmaker[Session],
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    portal_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = portal_app.test_client()
    before = counts(session_factory, services)
    written: list[int] = []

    def explode(*args: object, **kwargs: object) -> None:
        # The blobs exist by now: submit_report runs after every file was encrypted.
        written.append(len([p for p in services.config.blob_dir.rglob("*") if p.is_file()]))
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(submission_module, "record_event", explode)
    response = submit_report_via(client, files=[("a.bin", b"a" * 70_000), ("b.bin", b"b")])
    assert response.status_code == 500
    assert written == [2], "positive control: the blobs were written before the failure"
    assert "the audit log is down" not in response.text
    assert 'id="receipt-code"' not in response.text
    assert "Content-Security-Policy" in response.headers
    nothing_new(before, counts(session_factory, services))


def test_reply_form_errors_keep_text_and_drop_files(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    login_via(client, receipt_of(submit_report_via(client).text))
    before = counts(session_factory, services)
    too_long = "x" * 20_001
    response = reply_via(client, too_long, [("note.txt", b"note")])
    assert response.status_code == 400
    assert "Keep this under 20000 characters." in response.text
    assert "Your files were not kept. Please choose them again." in response.text
    assert too_long in response.text
    nothing_new(before, counts(session_factory, services), reads=True)


def test_reply_with_only_a_file_is_accepted(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    login_via(client, receipt_of(submit_report_via(client).text))
    response = reply_via(client, "", [("only-file.txt", b"just a file")])
    assert response.status_code == 303
    assert "only-file.txt" in client.get("/case").text
    assert counts(session_factory, services).messages == 1


@pytest.mark.parametrize("files", [
    [("big.bin", b"\1" * (MiB + 10))],
    # Each under the limit, the two together not: they count together, as the page says
    # ("in total") and as a new report's do.
    [("a.bin", b"a" * (600 * 1024)), ("b.bin", b"b" * (600 * 1024))],
], ids=["one file", "two files together"])
def test_reply_files_over_the_limit_give_413_and_keep_nothing(
    make_portal: Callable[..., Flask],
    session_factory: sessionmaker[Session],
    services: Services,
    files: list[tuple[str, bytes]],
) -> None:
    client = make_portal(max_submission_bytes=1 * MiB).test_client()
    login_via(client, receipt_of(submit_report_via(client).text))
    before = counts(session_factory, services)
    page = client.get("/case")
    body, content_type = multipart_body(
        [("csrf_token", csrf_token(page.text)), ("body", "with files")],
        [("attachments", name, data) for name, data in files],
    )
    response = client.post("/case/reply", data=body, content_type=content_type)
    assert response.status_code == 413
    assert 'id="upload-error"' in response.text
    nothing_new(before, counts(session_factory, services), reads=True)
