"""A file entry of the evidence log, posted as the casework page's own form names it (outside
tester: the page named its file input "files" while the upload reader accepts only
"attachments", so no file could ever be added from the browser)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from sqlalchemy import select

from core.models import Attachment
from tests.reviewer.conftest import accept_world_case, login_client
from tests.reviewer.test_auth import csrf

TEMPLATES = Path(__file__).resolve().parents[2]


def _file_inputs(html: str) -> list[str]:
    """The names of the page's file inputs."""
    return re.findall(r'<input[^>]*type="file"[^>]*name="([^"]+)"', html)


def test_a_file_entry_added_through_the_casework_form_is_stored(app, session_factory,
                                                                services, world):
    accept_world_case(session_factory, services, world)
    client = login_client(app, session_factory, services, world.on_case)
    page_path = f"/cases/{world.case_id}/casework"
    page = client.get(page_path).text
    (file_field,) = _file_inputs(page)
    action = re.search(r'<form[^>]*action="([^"]*/evidence)"', page)
    assert action is not None
    with session_factory() as s:
        before = len(s.execute(select(Attachment.id)).all())
    response = client.post(action.group(1), content_type="multipart/form-data", data={
        "csrf_token": csrf(client, page_path), "kind": "file", "text": "The reader's log.",
        file_field: [(io.BytesIO(b"door reader log"), "reader.log")]})
    assert response.status_code == 303, response.text
    with session_factory() as s:
        assert len(s.execute(select(Attachment.id)).all()) == before + 1
    assert "reader.log" in client.get(page_path).text


def test_every_file_input_is_named_as_the_upload_reader_expects():
    """web.streamed_forms refuses files under any name but its file_field ("attachments"
    unless a view says otherwise, and none does)."""
    for folder in ("portal/templates", "reviewer/templates"):
        for template in (TEMPLATES / folder).rglob("*.html"):
            for name in _file_inputs(template.read_text(encoding="utf-8")):
                assert name == "attachments", f"{template}: file input named {name!r}"


def test_a_correction_of_an_impossible_entry_is_refused(app, session_factory, services,
                                                        world):
    """Outside tester: `corrects` past a 64-bit id raised an error (500)."""
    accept_world_case(session_factory, services, world)
    client = login_client(app, session_factory, services, world.on_case)
    page_path = f"/cases/{world.case_id}/casework"
    response = client.post(f"/cases/{world.case_id}/evidence",
                           content_type="multipart/form-data", data={
                               "csrf_token": csrf(client, page_path), "kind": "note",
                               "text": "A note.", "corrects": "9" * 23})
    assert response.status_code == 400
    assert "Choose the entry to correct from the list." in response.text
    # "—" (0, the page's choice for "corrects nothing") is a plain new entry.
    plain = client.post(f"/cases/{world.case_id}/evidence",
                        content_type="multipart/form-data", data={
                            "csrf_token": csrf(client, page_path), "kind": "note",
                            "text": "A note.", "corrects": "0"})
    assert plain.status_code == 303
