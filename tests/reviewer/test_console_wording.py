"""Console wording faults (issue 11): stage and role labels read as labels (capitalised),
file sizes are in the page's language, and a changed passphrase is confirmed."""

from __future__ import annotations

import re

import pytest

from core.models import CaseStatus, MemberRole
from reviewer.labels import MEMBER_ROLE, STATUS
from tests.core.factories import strong_passphrase
from tests.reviewer.conftest import login_client
from tests.reviewer.test_auth import csrf
from web.sizes import file_size


def test_stage_and_role_labels_are_capitalised(app) -> None:
    with app.test_request_context():
        for label in [*STATUS.values(), *MEMBER_ROLE.values()]:
            text = str(label)
            assert text[0].isupper(), text
    assert set(STATUS) == set(CaseStatus) and set(MEMBER_ROLE) == set(MemberRole)


@pytest.mark.parametrize(("size", "english", "chinese"), [
    (1, "1 byte", "1 字节"), (500, "500 bytes", "500 字节"), (1500, "1.5 KB", "1.5 KB"),
    (2_000_000, "2 MB", "2 MB"), (3_400_000_000, "3.4 GB", "3.4 GB")])
def test_file_sizes_are_in_the_pages_language(app, size: int, english: str,
                                              chinese: str) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert file_size(size) == english
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert file_size(size) == chinese


def test_the_case_page_in_chinese_says_no_bytes(app, session_factory, services, world) -> None:
    client = login_client(app, session_factory, services, world.on_case)
    client.post("/language", data={"csrf_token": csrf(client, "/cases"), "language": "zh_CN",
                                   "next": "/cases"})
    page = client.get(f"/cases/{world.case_id}").text
    assert 'lang="zh-CN"' in page
    # Only the visible text: tokens in the markup (CSRF, nonces) are random and may hold "kB".
    text = re.sub(r"<[^>]*>", " ", page)
    assert "Bytes" not in text and "kB" not in text
    assert "（15 KB）" in text  # the world's attachment: 15,000 bytes, parenthesised in Chinese


def test_a_changed_passphrase_is_confirmed(app, session_factory, services, world) -> None:
    client = login_client(app, session_factory, services, world.on_case)
    new = strong_passphrase("changed")
    done = client.post("/passphrase", data={
        "csrf_token": csrf(client, "/passphrase"), "current": world.on_case.passphrase,
        "new": new, "confirm": new})
    assert done.status_code == 303
    landing = client.get(done.location).text
    assert 'id="notice"' in landing and "Your passphrase was changed." in landing
    # Shown once.
    assert 'id="notice"' not in client.get(done.location).text


def test_every_open_stage_names_a_next_step_the_console_offers(app) -> None:
    """Each stage that still waits for staff says what to do next, and no longer says that
    the step is missing (issue #13 built them: tests/reviewer/test_case_cycle.py)."""
    from reviewer.labels import next_step

    with app.test_request_context(headers={"Accept-Language": "en"}):
        for status in CaseStatus:
            text = str(next_step(status))
            assert "not yet available" not in text, (status, text)
            if status is not CaseStatus.CLOSED:
                assert text != "Nothing more is due on this case.", status



def test_an_error_page_keeps_the_consoles_menu(app, session_factory, services, world) -> None:
    """Outside tester: the console's 404 page had no navigation, only "Go to the start
    page". It is now framed like every console page, in the page's language."""
    client = login_client(app, session_factory, services, world.on_case)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert 'id="nav-inbox"' in missing.text and 'id="logout"' in missing.text
    assert "Error code: 404" in missing.text
    anonymous = app.test_client().get("/no-such-page")
    assert anonymous.status_code in (302, 303, 404)
    assert 'id="nav-inbox"' not in anonymous.text
