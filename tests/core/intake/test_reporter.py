"""core.intake.reporter: a reporter back with their receipt code reads their case, writes,
and opens the files they may see, numbered within the case."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.cases.casework import post_reviewer_message, store_reviewer_file
from core.db import transaction
from core.errors import InvalidInput, NotFound, ReceiptNotRecognised
from core.intake.reporter import (
    login_submitter,
    open_file_for_submitter,
    post_submitter_message,
    read_case_for_submitter,
    submitter_file_id,
    submitter_file_numbers,
)
from core.models import KeyKind, MessageKind, PendingAuditEvent
from crypto.receipt import generate_receipt
from tests.core.factories import chunks, submit


@pytest.fixture
def case(session_factory, services, intake):
    result = submit(session_factory, services, files=[("first.txt", b"first")])
    with transaction(session_factory) as s:
        note_file = store_reviewer_file(services, intake.unlocked, s, result.case_id,
                                        KeyKind.TEAM, "team.txt", "text/plain", chunks(b"t"))
        post_reviewer_message(s, services, intake.unlocked, result.case_id,
                              MessageKind.INTERNAL_NOTE, "team only", [note_file])
        shared = store_reviewer_file(services, intake.unlocked, s, result.case_id,
                                     KeyKind.CASE, "shared.txt", "text/plain", chunks(b"s"))
        post_reviewer_message(s, services, intake.unlocked, result.case_id,
                              MessageKind.INFORMATION, "for you", [shared])
    return result


def test_the_receipt_opens_the_case_and_nothing_else(session_factory, services, case):
    with transaction(session_factory) as s:
        access = login_submitter(s, services, case.receipt_code)
        assert access.case_id == case.case_id
        view = read_case_for_submitter(s, services, access)
    assert [m.body for m in view.messages] == ["for you"]
    with session_factory() as s:  # the reporter's reading is audited, queued by its day
        queued = s.execute(select(PendingAuditEvent.action)).scalars().all()
    assert "case:submitter:open" in queued
    with transaction(session_factory) as s, pytest.raises(ReceiptNotRecognised):
        login_submitter(s, services, generate_receipt())


def test_files_are_numbered_within_the_case_and_team_files_are_absent(session_factory,
                                                                      services, case):
    with transaction(session_factory) as s:
        access = login_submitter(s, services, case.receipt_code)
        numbers = submitter_file_numbers(s, access)
        assert sorted(numbers.values()) == [1, 2]  # first.txt and shared.txt, not team.txt
        names = []
        for number in (1, 2):
            meta, stream = open_file_for_submitter(s, services, access,
                                                   submitter_file_id(s, access, number))
            names.append((meta.name, b"".join(stream)))
        assert names == [("first.txt", b"first"), ("shared.txt", b"s")]
        for number in (0, 3):
            with pytest.raises(NotFound):
                submitter_file_id(s, access, number)


def test_a_reporters_message_needs_text_or_a_file(session_factory, services, case):
    with transaction(session_factory) as s:
        access = login_submitter(s, services, case.receipt_code)
        with pytest.raises(InvalidInput):
            post_submitter_message(s, services, access, "   ")
        message = post_submitter_message(s, services, access, "More detail.")
        assert message.kind is MessageKind.REPORTER_MESSAGE and message.key_kind is KeyKind.CASE
