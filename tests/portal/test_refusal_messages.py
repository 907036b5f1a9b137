"""Refusals that say what was actually wrong (outside tester): a text field too long and a form
with too many fields are not file problems, so the page names the text, never the file limits;
a malformed "leave out" value is refused as such, not as a change of readers; and the media
type of a form is read case-insensitively (RFC 9110), as browsers and proxies may send it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from core.cases.content import MAX_LONG_TEXT
from core.services import Services
from tests.portal.conftest import (
    HttpClient,
    LiveServer,
    counts,
    csrf_token,
    live_server,
    login_via,
    multipart_body,
    post_multipart,
    receipt_of,
    report_fields,
    submit_report_via,
)
from tests.portal.test_forms import nothing_new
from tests.portal.test_readers import CHANGED

#: What the upload forms add when the files were too large or too many.
FILE_LIMITS = re.compile(r"Up to \d+ files, \d+ MB in total")
TOO_LONG = f"A text field is longer than the {MAX_LONG_TEXT} characters allowed"
TOO_MANY_FIELDS = "The form has more fields than it should"


def upload_error(html: str) -> str:
    """The text of the refusal above an upload form."""
    assert 'id="upload-error"' in html, "no refusal on the page"
    return html.split('id="upload-error"')[1].split("</div>")[0]


# -- 1. a text field too long, too many fields: said as such, without the file limits ------------


def test_a_text_field_too_long_is_named_not_the_file_limits(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services
) -> None:
    before = counts(session_factory, services)
    # 4 bytes a character is the widest UTF-8: the first text the parser refuses.
    fields = report_fields(summary="Kept", what_happened="x" * (4 * MAX_LONG_TEXT + 1))
    response = submit_report_via(client, fields, files=[("a.txt", b"a file")])
    assert 400 <= response.status_code < 500
    message = upload_error(response.text)
    assert TOO_LONG in message, message
    assert not FILE_LIMITS.search(message) and "file" not in message.split("</p>")[0]
    assert 'value="Kept"' in response.text  # the fields before it are given back
    nothing_new(before, counts(session_factory, services))


def test_the_refusals_read_in_chinese(client: FlaskClient) -> None:
    client.get("/language/zh_CN?next=/report")
    fields = report_fields(what_happened="x" * (4 * MAX_LONG_TEXT + 1))
    message = upload_error(submit_report_via(client, fields).text)
    assert f"有一栏文字超过了允许的 {MAX_LONG_TEXT} 个字" in message, message
    response = submit_report_via(client, report_fields(exclude="it_fault:abc"))
    assert "无法读取您选择排除的人员" in response.text


def test_a_text_the_form_refuses_itself_still_gets_its_field_error(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services
) -> None:
    """Control: a text over the form's limit but within the parser's is shown back with the
    field's own error (the parser's limit is at least the form's)."""
    fields = report_fields(what_happened="好" * (MAX_LONG_TEXT + 1))  # 3 bytes a character
    response = submit_report_via(client, fields)
    assert response.status_code == 400
    assert f"Keep this under {MAX_LONG_TEXT} characters." in response.text
    assert 'id="upload-error"' not in response.text


def test_too_many_fields_are_named_not_the_file_limits(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services
) -> None:
    before = counts(session_factory, services)
    token = csrf_token(client.get("/report").text)
    extra = [("exclude", f"it_fault:{n}") for n in range(250)]
    response = post_multipart(client, "/report",
                              [("csrf_token", token), *report_fields().items(), *extra],
                              [("attachments", "a.txt", b"a file")])
    assert 400 <= response.status_code < 500
    message = upload_error(response.text)
    assert TOO_MANY_FIELDS in message, message
    assert not FILE_LIMITS.search(message)
    nothing_new(before, counts(session_factory, services))


def test_a_reply_too_long_is_named_not_the_file_limits(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services
) -> None:
    login_via(client, receipt_of(submit_report_via(client).text))
    before = counts(session_factory, services)
    token = csrf_token(client.get("/case").text)
    response = post_multipart(client, "/case/reply",
                              [("csrf_token", token), ("body", "y" * (4 * MAX_LONG_TEXT + 1))])
    assert 400 <= response.status_code < 500
    message = upload_error(response.text)
    assert TOO_LONG in message and not FILE_LIMITS.search(message), message
    nothing_new(before, counts(session_factory, services), reads=True)


def test_files_too_large_still_state_the_file_limits(
    make_portal: Callable[..., Flask], session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    """Control: when the files are the problem, the limits are still given."""
    client = make_portal(max_files=1).test_client()
    response = submit_report_via(client, files=[("a.txt", b"a"), ("b.txt", b"b")])
    assert response.status_code == 413
    assert FILE_LIMITS.search(upload_error(response.text))


@pytest.mark.parametrize("extra", [
    [("receipt", "1" * (1024 * 1024 + 1))],  # over MAX_FORM_MEMORY_SIZE
    [(f"f{n}", "x") for n in range(1001)],  # over werkzeug's MAX_FORM_PARTS
], ids=["field-too-long", "too-many-fields"])
def test_an_ordinary_form_refused_for_its_text_names_no_files(
    portal_app: Flask, extra: list[tuple[str, str]]
) -> None:
    """The follow-up login is a plain form: werkzeug's limits answer 413 with the error page,
    which must not talk about files either."""
    portal_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = portal_app.test_client()
    token = csrf_token(client.get("/follow-up").text)
    body, content_type = multipart_body([("csrf_token", token), *extra])
    response = client.post("/follow-up", data=body, content_type=content_type)
    assert response.status_code == 413
    main = response.text.split("<main")[1]
    assert "file" not in main.lower()
    assert "A text field is longer, or the form has more fields" in main


# -- 2. a malformed "leave out" value ------------------------------------------------------------


@pytest.mark.parametrize("value", ["it_fault:abc", "it_fault:" + "9" * 40, "it_fault",
                                   "it_fault:", "IT FAULT:3", ":3", "it_fault:-3"])
def test_a_malformed_exclusion_is_refused_as_such(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services,
    value: str,
) -> None:
    before = counts(session_factory, services)
    token = csrf_token(client.get("/report").text)
    response = post_multipart(
        client, "/report", [("csrf_token", token), *report_fields(summary="Kept").items(),
                            ("exclude", value)],
        [("attachments", "a.txt", b"a file")])
    assert response.status_code == 400
    assert CHANGED not in response.text
    assert "The choice of people to leave out could not be read." in response.text
    assert 'href="#exclude"' in response.text and 'id="exclude"' in response.text
    assert 'id="files-dropped"' in response.text and 'value="Kept"' in response.text
    nothing_new(before, counts(session_factory, services))


def test_a_well_formed_exclusion_not_offered_is_still_a_change(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services
) -> None:
    """Control: an id that is not (or no longer) listed means the list changed."""
    response = submit_report_via(client, report_fields(exclude="it_fault:999999"))
    assert response.status_code == 400
    assert CHANGED in response.text


# -- 3. the media type, in any case --------------------------------------------------------------


@pytest.mark.parametrize("media_type", ["MULTIPART/FORM-DATA", "Multipart/Form-Data"])
def test_an_upper_case_media_type_is_accepted(
    client: FlaskClient, session_factory: sessionmaker[Session], services: Services,
    media_type: str,
) -> None:
    token = csrf_token(client.get("/report").text)
    body, content_type = multipart_body([("csrf_token", token), *report_fields().items()],
                                        [("attachments", "a.txt", b"a file")])
    response = client.post("/report", data=body,
                           content_type=content_type.replace("multipart/form-data", media_type))
    assert response.status_code == 200, upload_error(response.text)
    receipt = receipt_of(response.text)
    assert counts(session_factory, services).attachments == 1
    login_via(client, receipt)
    token = csrf_token(client.get("/case").text)
    body, content_type = multipart_body([("csrf_token", token), ("body", "More")])
    response = client.post("/case/reply", data=body,
                           content_type=content_type.replace("multipart/form-data", media_type))
    assert response.status_code == 303


@pytest.fixture
def server(make_portal: Callable[..., Flask]) -> Iterator[LiveServer]:
    with live_server(make_portal(insecure_dev_cookies=True)) as running:
        yield running


def test_an_upper_case_media_type_is_accepted_over_http(
    server: LiveServer, session_factory: sessionmaker[Session], services: Services
) -> None:
    http = HttpClient(server.base)
    token = csrf_token(http.get("/report").text)
    body, content_type = multipart_body([("csrf_token", token), *report_fields().items()])
    response = http.request("POST", "/report", body, {
        "Content-Type": content_type.replace("multipart/form-data", "MULTIPART/FORM-DATA")})
    assert response.status == 200, response.text
    assert receipt_of(response.text)
