"""core.cases.contexts: each encrypted record is bound to its place, so that someone who can
write to the database cannot move a ciphertext to another place under the same key."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from core.cases.contexts import (
    file_key_context,
    file_meta_context,
    identity_context,
    message_context,
    report_context,
)
from core.cases.grants import CaseKeys, open_reviewer_grant
from core.cases.reading import decrypt_case
from core.db import transaction
from core.intake.reporter import login_submitter, post_submitter_message
from core.models import Attachment, Case, KeyKind, Message, MessageKind
from crypto.errors import CryptoError
from tests.core.factories import add_reviewer, seed_categories, submit


def test_no_two_places_share_a_context():
    """Guards that every place a record can be stored has its own context: two cases, every
    kind of message, two files, each file's key and metadata."""
    contexts = []
    for reference in ("RF-AAAA-1111", "RF-AAAA-1112"):
        contexts += [report_context(reference), identity_context(reference)]
        contexts += [message_context(reference, kind) for kind in MessageKind]
        for blob_id in ("a" * 32, "b" * 32):
            contexts += [file_key_context(reference, blob_id),
                         file_meta_context(reference, blob_id)]
    assert len(set(contexts)) == len(contexts) == 2 * (2 + len(MessageKind) + 4)
    assert all(b"RF-AAAA-1111" in c for c in contexts[:len(contexts) // 2])


@pytest.fixture
def case(session_factory, services):
    """A case with two files and a reporter's message, and its intake reviewer's case key."""
    ivy = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [ivy.id]}, services=services)
    result = submit(session_factory, services, files=[("a.txt", b"a"), ("b.txt", b"bb")])
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        post_submitter_message(s, services, access, "More detail")
    with session_factory() as s:
        key = open_reviewer_grant(s, result.case_id, ivy.id, ivy.private_key, KeyKind.CASE)
        keys = CaseKeys.of(s.get(Case, result.case_id), {(1, KeyKind.CASE): key})
    return result.case_id, keys


def _read(session_factory, case_id, keys):
    with session_factory() as s:
        return decrypt_case(s.get(Case, case_id), keys)


def _tamper(session_factory, statement) -> None:
    with transaction(session_factory) as s:
        s.execute(statement)


def test_the_untouched_case_reads(session_factory, case):
    case_id, keys = case
    view = _read(session_factory, case_id, keys)
    assert [f.meta.name for f in view.files] == ["a.txt", "b.txt"]
    assert [(m.kind, m.body) for m in view.messages] == [
        (MessageKind.REPORTER_MESSAGE, "More detail")]


def test_a_reporter_message_relabelled_as_feedback_does_not_read(session_factory, case):
    """Guards the kind in a message's context: a reporter's words cannot be passed off as
    the organisation's feedback (same case key) by changing one column."""
    case_id, keys = case
    assert _read(session_factory, case_id, keys).tampered == ()
    _tamper(session_factory, update(Message).where(Message.case_id == case_id)
            .values(kind=MessageKind.FEEDBACK))
    view = _read(session_factory, case_id, keys)
    (message,) = view.messages
    assert message.tampered and message.body == ""
    assert view.tampered == (f"message:{message.id}",)


def test_a_message_copied_over_the_report_does_not_read(session_factory, case):
    """Guards the report's own context: a message body, under the same case key, does not
    open as the report."""
    case_id, keys = case
    with session_factory() as s:
        body = s.execute(select(Message.body_ciphertext)
                         .where(Message.case_id == case_id)).scalar_one()
    _tamper(session_factory, update(Case).where(Case.id == case_id)
            .values(report_ciphertext=body))
    with pytest.raises(CryptoError):
        _read(session_factory, case_id, keys)


def test_two_files_swapping_names_do_not_read(session_factory, case):
    """Guards the blob id in a file's metadata context: the names and sizes of two files of
    one case cannot be exchanged."""
    case_id, keys = case
    with session_factory() as s:
        rows = s.execute(select(Attachment.id, Attachment.meta_ciphertext)
                         .where(Attachment.case_id == case_id)
                         .order_by(Attachment.id)).all()
    (first, first_meta), (second, second_meta) = rows
    _tamper(session_factory, update(Attachment).where(Attachment.id == first)
            .values(meta_ciphertext=second_meta))
    _tamper(session_factory, update(Attachment).where(Attachment.id == second)
            .values(meta_ciphertext=first_meta))
    view = _read(session_factory, case_id, keys)
    assert [f.meta for f in view.files] == [None, None]
    assert sorted(view.tampered) == sorted([f"file:{first}", f"file:{second}"])


def test_a_case_given_another_reference_does_not_read(session_factory, case):
    """Guards the reference in every context: a case's records do not read under another
    case's reference."""
    case_id, keys = case
    _tamper(session_factory, update(Case).where(Case.id == case_id)
            .values(reference="RF-ZZZZ-9999"))
    with pytest.raises(CryptoError):
        _read(session_factory, case_id, keys)
