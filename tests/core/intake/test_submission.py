"""The reporter's path through core: submit, come back with the receipt, talk to the team."""

from __future__ import annotations

import dataclasses
import os

import pytest
from sqlalchemy import select, text

from core.cases.casework import (
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
)
from core.cases.content import ReportContent
from core.db import transaction
from core.errors import (
    ReceiptNotRecognised,
)
from core.intake.reporter import (
    login_submitter,
    open_file_for_submitter,
    post_submitter_message,
    read_case_for_submitter,
    store_submitter_file,
)
from core.models import (
    Attachment,
    Author,
    Case,
    CaseStatus,
    Disclosure,
    MessageKind,
)
from crypto.errors import MalformedReceipt, MistypedReceipt
from crypto.receipt import format_receipt, generate_receipt
from tests.core.factories import chunks, submit

FULL_WIDTH_ZERO = 0xFF10


def full_width(code: str) -> str:
    return "".join(chr(FULL_WIDTH_ZERO + int(d)) for d in code)


def read_file(services, session_factory, access, attachment_id):
    with transaction(session_factory) as s:
        meta, stream = open_file_for_submitter(s, services, access, attachment_id)
        data = b"".join(stream)
    return meta, data


# --- the whole round trip ---------------------------------------------------------------------


def test_submitter_and_reviewer_round_trip(session_factory, services, intake):
    big = os.urandom(200 * 1024)
    report = ReportContent(
        summary="VPN drops every hour",
        description="Since the update.",
        where="Building B",
        who_involved="nobody in particular",
    )
    files = [("empty.txt", b""), ("one.bin", b"\x07"), ("big.bin", big)]
    result = submit(session_factory, services, report=report, files=files)
    assert len(result.receipt_code) == 28 and result.receipt_code.isdigit()
    assert not result.unrouted

    code = result.receipt_code
    typed_forms = [
        code,
        format_receipt(code),
        "-".join(code[i : i + 4] for i in range(0, 28, 4)),
        full_width(code),
        "  " + format_receipt(full_width(code)) + "\n",
    ]
    for typed in typed_forms:
        with transaction(session_factory) as s:
            access = login_submitter(s, services, typed)
        assert access.case_id == result.case_id
        assert access.reference == result.reference

    with transaction(session_factory) as s:
        view = read_case_for_submitter(s, services, access)
    assert view.report == report
    assert view.status is CaseStatus.RECEIVED
    assert view.category_code == "it_fault"
    assert view.disclosure is Disclosure.ANONYMOUS
    assert view.messages == ()
    assert sorted(f.meta.name for f in view.files) == ["big.bin", "empty.txt", "one.bin"]
    by_name = {f.meta.name: f for f in view.files}
    for name, data in files:
        assert by_name[name].meta.size == len(data)
        meta, downloaded = read_file(services, session_factory, access, by_name[name].id)
        assert meta.name == name
        assert downloaded == data, name

    # The reporter adds information with a file.
    extra = b"log line\n" * 300
    stored = store_submitter_file(services, access, "vpn.log", "text/plain", chunks(extra))
    with transaction(session_factory) as s:
        posted = post_submitter_message(
            s, services, access, "  It also drops at night.  ", [stored]
        )
        posted_id = posted.id

    # The intake reviewer sees the report, the message and its file.
    with transaction(session_factory) as s:
        rview = read_case_for_reviewer(s, services, intake.unlocked, result.case_id)
    assert rview.report == report
    [message] = rview.messages
    assert message.id == posted_id
    assert message.author is Author.SUBMITTER
    assert message.kind is MessageKind.REPORTER_MESSAGE
    assert message.body == "It also drops at night."
    [mfile] = message.files
    assert mfile.meta.name == "vpn.log"
    with transaction(session_factory) as s:
        meta, stream = open_file_for_reviewer(s, services, intake.unlocked, mfile.id)
        assert b"".join(stream) == extra
    assert meta.content_type == "text/plain"

    # Clarification request (visible) and internal note (not visible to the reporter).
    with transaction(session_factory) as s:
        post_reviewer_message(
            s,
            services,
            intake.unlocked,
            result.case_id,
            MessageKind.CLARIFICATION_REQUEST,
            "Which VPN client?",
        )
        post_reviewer_message(
            s,
            services,
            intake.unlocked,
            result.case_id,
            MessageKind.INTERNAL_NOTE,
            "Probably the gateway cert.",
        )
    with transaction(session_factory) as s:
        assert s.get(Case, result.case_id).status is CaseStatus.INFO_NEEDED

    with transaction(session_factory) as s:
        access = login_submitter(s, services, format_receipt(code))
        again = read_case_for_submitter(s, services, access)
    assert again.status is CaseStatus.INFO_NEEDED
    bodies = [m.body for m in again.messages]
    assert bodies == ["It also drops at night.", "Which VPN client?"]
    assert all(m.kind is not MessageKind.INTERNAL_NOTE for m in again.messages)
    assert again.messages[1].author is Author.REVIEWER
    assert again.messages[1].reviewer_name == "ivy.intake"

    # The reviewer still sees all three.
    with transaction(session_factory) as s:
        rview = read_case_for_reviewer(s, services, intake.unlocked, result.case_id)
    assert [m.kind for m in rview.messages] == [
        MessageKind.REPORTER_MESSAGE,
        MessageKind.CLARIFICATION_REQUEST,
        MessageKind.INTERNAL_NOTE,
    ]
    assert rview.messages[2].body == "Probably the gateway cert."


def test_submitter_cannot_download_team_files_or_other_cases_files(
    session_factory, services, intake
):
    mine = submit(session_factory, services, files=[("mine.txt", b"mine")])
    other = submit(session_factory, services, files=[("other.txt", b"other")])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, mine.receipt_code)
        other_ids = (
            s.execute(select(Attachment.id).where(Attachment.case_id == other.case_id))
            .scalars()
            .all()
        )
    from core.errors import NotFound

    for attachment_id in [*other_ids, 999_999]:
        with pytest.raises(NotFound), transaction(session_factory) as s:
            open_file_for_submitter(s, services, access, attachment_id)


# --- receipts ---------------------------------------------------------------------------------


def test_unknown_receipt_is_not_recognised(session_factory, services, intake):
    submit(session_factory, services)
    with pytest.raises(ReceiptNotRecognised), transaction(session_factory) as s:
        login_submitter(s, services, generate_receipt())


def test_mistyped_receipt_is_reported_without_touching_the_database(
    session_factory, services, intake
):
    code = submit(session_factory, services).receipt_code
    last = int(code[-2])
    mistyped = code[:-2] + str((last + 1) % 10) + code[-1]
    with pytest.raises(MistypedReceipt), transaction(session_factory) as s:
        login_submitter(s, services, format_receipt(mistyped))
    swapped = code[1] + code[0] + code[2:]
    if swapped != code:
        with pytest.raises(MistypedReceipt), transaction(session_factory) as s:
            login_submitter(s, services, swapped)


@pytest.mark.parametrize("typed", ["", "1234", "abcd " * 7, "1" * 29, "1234 5678 x"])
def test_malformed_receipt(session_factory, services, typed):
    with pytest.raises(MalformedReceipt), transaction(session_factory) as s:
        login_submitter(s, services, typed)


def test_receipt_of_another_instance_does_not_open(session_factory, services, intake):
    """Same code, other pepper/salt: the lookup id differs, nothing matches."""
    from core.keyring import Keyring

    code = submit(session_factory, services).receipt_code
    foreign = dataclasses.replace(services, keyring=Keyring.generate())
    with pytest.raises(ReceiptNotRecognised), transaction(session_factory) as s:
        login_submitter(s, foreign, code)


# --- failed submissions -----------------------------------------------------------------------


def _counts(session_factory):
    with session_factory() as s:
        return {
            table: s.execute(text(f"select count(*) from {table}")).scalar_one()
            for table in (
                "cases",
                "case_grants",
                "case_members",
                "attachments",
                "audit_events",
                "messages",
            )
        }


def _blob_files(services):
    root = services.config.blob_dir
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- confidential reports ---------------------------------------------------------------------


# --- deadlines --------------------------------------------------------------------------------


# --- limits -----------------------------------------------------------------------------------


# --- time coarsening --------------------------------------------------------------------------
