"""The reporter's whole journey through the Flask test client: submit with files, receipt,
log in, read, reply with files; a case handler's reply with files, downloaded byte for byte."""

from __future__ import annotations

import hashlib
import os
import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Attachment
from core.services import Services
from tests.portal.conftest import (
    IntakeReviewer,
    counts,
    login_via,
    only_case_id,
    post_reviewer_reply,
    receipt_of,
    reply_via,
    report_fields,
    submit_report_via,
)

KiB = 1024
MiB = 1024 * KiB

FILE_LINK_RE = re.compile(r'<a href="/case/files/(\d+)" download>([^<]*)</a>')


def sample_files(prefix: str) -> list[tuple[str, bytes]]:
    """0 bytes, 1 byte, 200 KiB and 5 MiB of random bytes."""
    return [
        (f"{prefix}-empty.txt", b""),
        (f"{prefix}-one.bin", b"\x00"),
        (f"{prefix}-medium.bin", os.urandom(200 * KiB)),
        (f"{prefix}-big.bin", os.urandom(5 * MiB)),
    ]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_links(html: str) -> dict[str, int]:
    """File name -> file number (its place in the case), from the links on the case page."""
    return {name: int(file_id) for file_id, name in FILE_LINK_RE.findall(html)}


def assert_download(client: FlaskClient, file_id: int, name: str, content: bytes) -> None:
    response = client.get(f"/case/files/{file_id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert name in response.headers["Content-Disposition"]
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Length"] == str(len(content))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data()
    assert len(body) == len(content)
    assert sha(body) == sha(content), name


def test_submit_receipt_login_read_reply_with_files_both_ways(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
    intake_reviewer: IntakeReviewer,
) -> None:
    reporter_files = sample_files("reporter")
    response = submit_report_via(
        client, report_fields(summary="Printer on fire"), files=reporter_files
    )
    assert response.status_code == 200, response.text
    receipt = receipt_of(response.text)
    assert re.fullmatch(r"(\d{4} ){6}\d{4}", receipt)
    after_submit = counts(session_factory, services)
    assert after_submit.cases == 1
    assert after_submit.attachments == len(reporter_files)
    assert after_submit.blobs == len(reporter_files)

    login = login_via(client, receipt)
    assert login.status_code == 303
    assert login.headers["Location"].endswith("/case")
    case = client.get("/case")
    assert case.status_code == 200
    assert "Printer on fire" in case.text
    assert 'id="stage-name">Received<' in case.text
    links = file_links(case.text)
    assert set(links) == {name for name, _ in reporter_files}
    for name, content in reporter_files:
        assert_download(client, links[name], name, content)

    # A case handler answers with files, through core (the console's path).
    handler_files = sample_files("handler")
    case_id = only_case_id(session_factory)
    post_reviewer_reply(
        session_factory,
        services,
        intake_reviewer,
        case_id,
        "Thanks, here are the logs we found.",
        handler_files,
    )
    case = client.get("/case")
    assert "Thanks, here are the logs we found." in case.text
    assert "Case handler" in case.text
    links = file_links(case.text)
    for name, content in handler_files:
        assert_download(client, links[name], name, content)

    # The reporter answers with a file of their own.
    extra = os.urandom(200 * KiB + 3)
    reply = reply_via(client, "Another log from today.", [("today.log", extra)])
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith("/case#messages")
    case = client.get("/case")
    assert "Another log from today." in case.text
    assert_download(client, file_links(case.text)["today.log"], "today.log", extra)
    final = counts(session_factory, services)
    assert final.attachments == 2 * len(sample_files("x")) + 1
    assert final.blobs == final.attachments
    assert final.messages == 2


def test_files_are_numbered_within_the_case_and_never_open_another_case(
    portal_app,
    client: FlaskClient,
    session_factory: sessionmaker[Session],
) -> None:
    """Download links carry a file's number in its case, not its database id: ids run over
    every file of the service, so comparing two would tell a reporter how many files others
    sent in between. Another case's file cannot be named at all."""
    first = receipt_of(submit_report_via(client, files=[("a.txt", b"first")]).text)
    other = portal_app.test_client()
    for _ in range(3):  # other reports in between: the database ids move on
        submit_report_via(other, files=[("x.txt", b"x"), ("y.txt", b"y")])
    second = receipt_of(submit_report_via(other, files=[("b.txt", b"second"),
                                                        ("c.txt", b"third")]).text)
    assert login_via(client, first).status_code == 303
    assert login_via(other, second).status_code == 303
    assert file_links(client.get("/case").text) == {"a.txt": 1}
    assert file_links(other.get("/case").text) == {"b.txt": 1, "c.txt": 2}
    with session_factory() as s:
        assert not {1, 2} & set(s.scalars(select(Attachment.id)))  # the numbers are not ids
    assert client.get("/case/files/1").get_data() == b"first"
    assert other.get("/case/files/1").get_data() == b"second"
    assert other.get("/case/files/2").get_data() == b"third"
    for missing in (0, 2, 3, 999999):
        assert client.get(f"/case/files/{missing}").status_code == 404
    # Without a session: back to the login, no file.
    anonymous = portal_app.test_client()
    response = anonymous.get("/case/files/1")
    assert response.status_code == 303
    assert b"first" not in response.get_data()


def test_unicode_file_name_download_headers(client: FlaskClient) -> None:
    name = "résumé final 报告.pdf"
    receipt = receipt_of(submit_report_via(client, files=[(name, b"%PDF-1.4")]).text)
    login_via(client, receipt)
    page = client.get("/case").text
    match = re.search(r'<a href="/case/files/(\d+)" download>', page)
    response = client.get(f"/case/files/{match.group(1)}")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20final%20%E6%8A%A5%E5%91%8A.pdf" in disposition
    # The ASCII stand-in (web.downloads, as in the console): accents folded, the rest "_".
    assert disposition.split(";")[1].strip() == 'filename="resume_final_.pdf"'
    assert response.get_data() == b"%PDF-1.4"


def test_a_missing_or_altered_file_is_not_found_not_a_server_error(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    services: Services,
) -> None:
    """Outside tester: a blob gone from the store, or altered, gave a bare 500 page. The
    first chunk is checked before the response starts: a 404 page, like any file that fails
    its check; the other file still downloads."""
    receipt = receipt_of(submit_report_via(client, files=[("gone.txt", b"gone"),
                                                          ("altered.txt", b"altered"),
                                                          ("kept.txt", b"kept")]).text)
    assert login_via(client, receipt).status_code == 303
    links = file_links(client.get("/case").text)
    with session_factory() as s:  # in upload order, as the page numbers them
        blob_ids = list(s.scalars(select(Attachment.blob_id).order_by(Attachment.position,
                                                                      Attachment.id)))
    assert [links[name] for name in ("gone.txt", "altered.txt", "kept.txt")] == [1, 2, 3]
    gone, altered, _kept = (services.blobs._path(blob_id) for blob_id in blob_ids)
    gone.unlink()
    data = bytearray(altered.read_bytes())
    data[-5] ^= 1
    altered.write_bytes(bytes(data))
    for number, content in ((1, b"gone"), (2, b"altered")):
        response = client.get(f"/case/files/{number}")
        assert response.status_code == 404 and response.data != content, number
    assert client.get(f"/case/files/{links['kept.txt']}").get_data() == b"kept"
