"""core.cases.reading: a case decrypts to what the given keys open, and to nothing more; the
kinds asked for limit the thread; a wrong key fails instead of showing less."""

from __future__ import annotations

import pytest

from core.cases.casework import post_reviewer_message, store_reviewer_file
from core.cases.grants import FIRST_EPOCH, CaseKeys, open_reviewer_grant
from core.cases.reading import decrypt_case
from core.db import transaction
from core.models import Case, CaseStatus, Disclosure, KeyKind, MessageKind
from crypto.errors import DecryptionError
from tests.core.cases.test_access import REPORT
from tests.core.factories import chunks

NOTE, INFORMATION = "Check with HR first", "We received your report"


@pytest.fixture
def filed(session_factory, services, team):
    """The team's case with a team file on a second note and a case file on a reply."""
    ivy, case_id = team["ivy"], team["case"].case_id
    with transaction(session_factory) as s:
        hr = store_reviewer_file(services, ivy.unlocked, s, case_id, KeyKind.TEAM, "hr.txt",
                                 "text/plain", chunks(b"team only"))
        post_reviewer_message(s, services, ivy.unlocked, case_id, MessageKind.INTERNAL_NOTE,
                              "HR file", [hr])
        form = store_reviewer_file(services, ivy.unlocked, s, case_id, KeyKind.CASE,
                                   "form.pdf", "application/pdf", chunks(b"%PDF"))
        post_reviewer_message(s, services, ivy.unlocked, case_id, MessageKind.INFORMATION,
                              "Please fill this in", [form])
    with session_factory() as s:
        keys = {kind: open_reviewer_grant(s, case_id, ivy.id, ivy.private_key, kind)
                for kind in (KeyKind.CASE, KeyKind.TEAM)}
    return case_id, keys


def _read(session_factory, case_id, keys, **kwargs):
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        held = CaseKeys.of(case, {(FIRST_EPOCH, kind): key for kind, key in keys.items()})
        return decrypt_case(case, held, **kwargs)


def _thread(view):
    return [(m.kind, m.body, [f.meta.name for f in m.files]) for m in view.messages]


def test_the_case_and_team_keys_open_everything(session_factory, team, filed):
    """Guards the whole view a case team member gets: the report, the case's fields, the
    reporter's files and the thread in order with each message's files."""
    case_id, keys = filed
    view = _read(session_factory, case_id, keys)
    assert (view.id, view.reference) == (case_id, team["case"].reference)
    assert view.report == REPORT
    assert view.category_code == "security"
    assert view.disclosure is Disclosure.CONFIDENTIAL
    assert view.status is CaseStatus.ACKNOWLEDGED
    assert view.acknowledge_due > view.received_on
    assert [(f.meta.name, f.meta.size, f.key_kind) for f in view.files] == [
        ("payroll.csv", len(b"name,salary\n"), KeyKind.CASE)]
    assert _thread(view) == [
        (MessageKind.INTERNAL_NOTE, NOTE, []),
        (MessageKind.INFORMATION, INFORMATION, []),
        (MessageKind.INTERNAL_NOTE, "HR file", ["hr.txt"]),
        (MessageKind.INFORMATION, "Please fill this in", ["form.pdf"]),
    ]
    assert view.messages[0].reviewer_name == "ivy"


def test_the_case_key_alone_leaves_out_team_material(session_factory, filed):
    """Guards the reporter's view: without the team key, internal notes and their files are
    left out (not shown encrypted, not an error)."""
    case_id, keys = filed
    view = _read(session_factory, case_id, {KeyKind.CASE: keys[KeyKind.CASE]})
    assert view.report == REPORT
    assert _thread(view) == [(MessageKind.INFORMATION, INFORMATION, []),
                             (MessageKind.INFORMATION, "Please fill this in", ["form.pdf"])]
    assert [f.meta.name for f in view.files] == ["payroll.csv"]


def test_kinds_limit_the_thread_but_not_the_report(session_factory, filed):
    """Guards `kinds`: only messages of those kinds are shown, with their files; the report
    and the reporter's files are not messages and stay."""
    case_id, keys = filed
    notes = _read(session_factory, case_id, keys, kinds={MessageKind.INTERNAL_NOTE})
    assert [m.body for m in notes.messages] == [NOTE, "HR file"]
    nothing = _read(session_factory, case_id, keys, kinds=set())
    assert nothing.messages == ()
    assert nothing.report == REPORT and [f.meta.name for f in nothing.files] == ["payroll.csv"]


@pytest.mark.parametrize("wrong", [KeyKind.CASE, KeyKind.TEAM])
def test_a_wrong_key_fails_instead_of_showing_less(session_factory, filed, wrong):
    """Guards that a key which does not open what it claims to is an error: a reader is never
    shown a quietly shortened case. The report is the case: it fails outright; messages and
    files are each marked as failing their check (tampered), not left out."""
    case_id, keys = filed
    if wrong is KeyKind.CASE:
        with pytest.raises(DecryptionError):
            _read(session_factory, case_id, {**keys, wrong: bytes(32)})
        return
    view = _read(session_factory, case_id, {**keys, wrong: bytes(32)})
    notes = [m for m in view.messages if m.kind is MessageKind.INTERNAL_NOTE]
    assert len(notes) == 2 and all(m.tampered and m.body == "" for m in notes)
    assert len(view.tampered) == 3  # two notes and the note's file
