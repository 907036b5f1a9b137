"""The case file export in the console, over HTTP (CSRF on): the form, the passphrase, the
zip (the PDF's text read back with pypdf, the attachments byte for byte), English and
Chinese, hostile report text, refusals, the audit log and the logs. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.audit.log import AuditAction
from core.cases.content import ReportContent
from core.models import AuditEvent
from tests.core.cases.case_file_fixtures import TEXTS, full_case
from tests.core.factories import audit_size, submit
from tests.reviewer.conftest import login_client
from tests.reviewer.test_auth import csrf
from tests.security.test_portal_canaries import capture_all_logging

EXPORTED = str(AuditAction.CASE_FILE_EXPORTED)


def _exports(session_factory) -> list[AuditEvent]:
    with session_factory() as s:
        rows = list(s.execute(select(AuditEvent).where(AuditEvent.action == EXPORTED))
                    .scalars())
        s.expunge_all()
    return rows


def _export(client, case_id: int, passphrase: str):
    path = f"/cases/{case_id}/export"
    return client.post(path, data={"csrf_token": csrf(client, path), "passphrase": passphrase})


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _unzip(response) -> tuple[dict[str, bytes], str]:
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert archive.testzip() is None
    return {name: archive.read(name) for name in archive.namelist()}, archive.namelist()[0]


def test_the_case_page_offers_the_export_to_members(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    page = client.get(f"/cases/{world.case_id}").data.decode()
    assert f'href="/cases/{world.case_id}/export"' in page
    form = client.get(f"/cases/{world.case_id}/export")
    assert form.status_code == 200
    assert 'id="export-form"' in form.data.decode() and 'type="password"' in form.data.decode()


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_member_downloads_the_whole_case_file(app, session_factory, services, world,
                                               language):
    alice = world.on_case
    case = full_case(session_factory, services, alice)
    client = login_client(app, session_factory, services, alice)
    if language != "en":
        token = csrf(client, "/cases")
        client.post("/language", data={"csrf_token": token, "language": language,
                                       "next": "/cases"})
    with capture_all_logging() as logs:
        response = _export(client, case.case_id, alice.passphrase)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.is_streamed and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="case-{case.reference}.zip"')

    files, first = _unzip(response)
    assert first == f"case-{case.reference}.pdf"
    attachments = sorted(name for name in files if name != first)
    assert attachments == ["attachments/001-证据照片.txt", "attachments/002-meeting notes.txt",
                           "attachments/003-meeting notes.txt", "attachments/004-reader log.csv"]
    assert [files[name] for name in attachments] == [data for _name, data in case.files]

    text = _pdf_text(files[first])
    for key, value in TEXTS.items():
        assert value in text, key
    assert case.reference in text
    assert "001" in text and "证据照片.txt" in text
    if language == "en":
        for label in ("Confidential", "Internal note", "Evidence log", "Corrective actions",
                      "Version 2", "Partly substantiated", "satisfied"):
            assert label in text, label
    else:  # words of the console's catalog (docs/GLOSSARY.md)
        for label in ("内部备注", "证据记录", "处理决定", "整改措施", "部分属实", "举报内容"):
            assert label in text, label

    (event,) = _exports(session_factory)
    assert (event.reviewer_id, event.case_id) == (alice.id, case.case_id)
    assert json.loads(event.detail) == {"files": 4, "messages": 5, "identity": False}
    for value in [*TEXTS.values(), "证据照片", "meeting notes"]:
        assert value not in event.detail
        assert value not in logs.text, value


def test_reporter_text_is_text_in_the_pdf(app, session_factory, services, world):
    hostile = ("<script>alert(1)</script> <img src=file:///etc/passwd> "
               "<link rel=stylesheet href=http://127.0.0.1:9/x.css>")
    result = submit(session_factory, services,
                    report=ReportContent(summary="Hostile", description=hostile))
    client = login_client(app, session_factory, services, world.on_case)
    response = _export(client, result.case_id, world.on_case.passphrase)
    assert response.status_code == 200
    files, first = _unzip(response)
    text = " ".join(_pdf_text(files[first]).split())  # lines wrapped in the PDF, joined
    for fragment in ("<script>alert(1)</script>", "<img src=file:///etc/passwd>",
                     "<link rel=stylesheet href=http://127.0.0.1:9/x.css>"):
        assert fragment in text, fragment
    assert b"/Subtype /Image" not in files[first] and b"/Subtype/Image" not in files[first]
    assert list(files) == [first]  # no attachments


def test_a_wrong_passphrase_exports_nothing(app, session_factory, services, world):
    client = login_client(app, session_factory, services, world.on_case)
    response = _export(client, world.case_id, "not the passphrase at all")
    assert response.status_code == 400 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "The passphrase is not correct." in page and 'id="export-form"' in page
    assert _exports(session_factory) == []
    # An empty or oversized passphrase is the form again, never a server error.
    for passphrase in ("", "x" * 5000):
        assert _export(client, world.case_id, passphrase).status_code == 400
    # No CSRF token: refused, and nothing exported.
    assert client.post(f"/cases/{world.case_id}/export",
                       data={"passphrase": world.on_case.passphrase}).status_code == 400
    assert _exports(session_factory) == []


def test_without_pango_nothing_is_decrypted_or_recorded(app, session_factory, services, world,
                                                        monkeypatch):
    """A server that cannot make PDFs says so on the export page, before the passphrase: the
    case is not decrypted and no export is logged for a file that could never arrive."""
    from reviewer import pdf

    def no_pango():
        raise pdf.PdfUnavailable("PDF documents need Pango")

    monkeypatch.setattr(pdf, "_weasyprint", no_pango)
    client = login_client(app, session_factory, services, world.on_case)
    before = audit_size(session_factory)
    page = client.get(f"/cases/{world.case_id}/export")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert 'id="pdf-unavailable"' in text and 'id="export-form"' not in text
    response = _export(client, world.case_id, world.on_case.passphrase)
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert _exports(session_factory) == [] and audit_size(session_factory) == before


@pytest.mark.parametrize(("role", "status"), [("not_on_case", 404), ("excluded", 404),
                                              ("auditor", 403), ("admin", 403)])
def test_others_are_refused_as_for_the_case_page(app_nocsrf, session_factory, services, world,
                                                 role, status):
    handle = getattr(world, role)
    client = login_client(app_nocsrf, session_factory, services, handle)
    path = f"/cases/{world.case_id}/export"
    assert client.get(f"/cases/{world.case_id}").status_code == status
    assert client.get(path).status_code == status
    response = client.post(path, data={"passphrase": handle.passphrase})
    assert response.status_code == status and b"PK" not in response.data[:2]
    assert _exports(session_factory) == []


def test_long_unbroken_text_and_long_chinese_fields_render_in_bounded_time(
        app, session_factory, services, world):
    """A reporter's text cannot make the PDF's layout crawl: WeasyPrint lays out a run with
    no break opportunity in time that grows with its square (a 20,000-character run took
    6 s), and long Chinese text beside the floated labels of the report's fields took 9 s a
    field. Every field at its limit, each of the two kinds, renders in seconds, whole."""
    unbroken, chinese = "A" * 20_000, "举报内容" * 5_000
    result = submit(session_factory, services, report=ReportContent(
        summary="Long fields", description=unbroken, what_happened=chinese,
        who_involved=unbroken, how_known=chinese, evidence=unbroken))
    client = login_client(app, session_factory, services, world.on_case)
    started = time.monotonic()
    response = _export(client, result.case_id, world.on_case.passphrase)
    files, first = _unzip(response)
    took = time.monotonic() - started
    assert response.status_code == 200
    assert took < 20, f"the export took {took:.1f} s"
    text = _pdf_text(files[first])  # the pages' headers come between the lines of a run
    assert text.count("A") >= 3 * 20_000 and text.count("举") >= 2 * 5_000
