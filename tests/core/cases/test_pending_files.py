"""Files written before their rows (core.cases.pending_files): a blob held on a session is kept
only if a committed row references it; a rollback, a refused savepoint, a commit without the
row, a session closed half-way or a request that crashed leave no blob behind. Real blob store
in a temporary folder, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.cases.casework import post_reviewer_message, store_reviewer_file
from core.cases.content import ReportContent
from core.cases.files import file_plaintext
from core.cases.pending_files import PendingFileLost, held_blob_ids
from core.db import transaction
from core.intake.submission import SubmissionDraft, submit_report
from core.models import Attachment, Case, KeyKind, Message, MessageKind
from core.services import Services
from tests.core.factories import ReviewerHandle, add_reviewer, seed_categories, submit


@pytest.fixture
def ivy(session_factory: sessionmaker[Session], services: Services) -> ReviewerHandle:
    reviewer = add_reviewer(session_factory, services, "ivy")
    seed_categories(session_factory, {"it_fault": [reviewer.id]}, services=services)
    return reviewer


@pytest.fixture
def case_id(session_factory: sessionmaker[Session], services: Services,
            ivy: ReviewerHandle) -> int:
    return submit(session_factory, services).case_id


def blob_files(services: Services) -> list[Path]:
    """Every file under the blob store's folder, finished or temporary."""
    return sorted(p for p in services.config.blob_dir.rglob("*") if p.is_file())


def rows(session_factory: sessionmaker[Session], model: type) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def store(services: Services, ivy: ReviewerHandle, session: Session, case_id: int,
          data: bytes = b"evidence") -> str:
    return store_reviewer_file(services, ivy.unlocked, session, case_id, KeyKind.CASE, "a.txt",
                               "text/plain", iter([data])).blob_id


def test_a_committed_message_keeps_its_files(session_factory, services, ivy, case_id):
    """Positive control: the files of a committed message stay, and their rows name them."""
    with transaction(session_factory) as s:
        stored = [store_reviewer_file(services, ivy.unlocked, s, case_id, KeyKind.CASE,
                                      f"{n}.txt", "text/plain", iter([n.encode() * 1000]))
                  for n in "ab"]
        post_reviewer_message(s, services, ivy.unlocked, case_id, MessageKind.INFORMATION,
                              "two files", stored)
        assert held_blob_ids(s) == {f.blob_id for f in stored}
    assert [p.name for p in blob_files(services)] == sorted(f.blob_id for f in stored)
    with session_factory() as s:
        assert set(s.scalars(select(Attachment.blob_id))) == {f.blob_id for f in stored}


def test_files_of_a_rolled_back_transaction_are_deleted(session_factory, services, ivy,
                                                        case_id):
    before = blob_files(services)
    with pytest.raises(RuntimeError, match="after the message"), \
            transaction(session_factory) as s:
        stored = store_reviewer_file(services, ivy.unlocked, s, case_id, KeyKind.CASE,
                                     "a.txt", "text/plain", iter([b"x" * 200_000]))
        post_reviewer_message(s, services, ivy.unlocked, case_id, MessageKind.INFORMATION,
                              "lost", [stored])
        assert len(blob_files(services)) == len(before) + 1  # written, then
        raise RuntimeError("after the message")
    assert blob_files(services) == before
    assert rows(session_factory, Message) == 0


def test_files_no_committed_row_references_are_deleted(session_factory, services, ivy,
                                                       case_id):
    """The transaction commits (a refused form still records its audit events), but without
    the message: its files go."""
    before = blob_files(services)
    with transaction(session_factory) as s:
        store(services, ivy, s, case_id)
    assert blob_files(services) == before


def test_a_refused_savepoint_gives_its_files_up(session_factory, services, ivy, case_id):
    before = blob_files(services)
    with transaction(session_factory) as s:
        blob_id = store(services, ivy, s, case_id)
        with pytest.raises(ValueError), s.begin_nested():
            stored = store_reviewer_file(services, ivy.unlocked, s, case_id, KeyKind.CASE,
                                         "b.txt", "text/plain", iter([b"b"]))
            post_reviewer_message(s, services, ivy.unlocked, case_id,
                                  MessageKind.INFORMATION, "refused", [stored])
            raise ValueError("the use case refused")
        assert blob_id in held_blob_ids(s)
    assert blob_files(services) == before
    assert rows(session_factory, Attachment) == 0


def test_a_released_savepoint_keeps_its_files_if_the_whole_commits(session_factory, services,
                                                                   ivy, case_id):
    with transaction(session_factory) as s, s.begin_nested(), s.begin_nested():
        stored = store_reviewer_file(services, ivy.unlocked, s, case_id, KeyKind.CASE, "a.txt",
                                     "text/plain", iter([b"kept"]))
        post_reviewer_message(s, services, ivy.unlocked, case_id, MessageKind.INFORMATION,
                              "nested", [stored])
    assert b"".join(services.blobs.read(stored.blob_id))
    # ... and loses them if the whole rolls back after the savepoints were released.
    before = blob_files(services)
    with pytest.raises(RuntimeError), transaction(session_factory) as s:
        with s.begin_nested():
            stored = store_reviewer_file(services, ivy.unlocked, s, case_id, KeyKind.CASE,
                                         "b.txt", "text/plain", iter([b"lost"]))
            post_reviewer_message(s, services, ivy.unlocked, case_id,
                                  MessageKind.INFORMATION, "nested", [stored])
        raise RuntimeError("after the savepoint")
    assert blob_files(services) == before


def test_a_session_closed_without_commit_deletes_its_files(session_factory, services, ivy,
                                                           case_id):
    """A request that crashed after storing files: its session is closed, never committed
    (and the store happened before any statement of that session)."""
    before = blob_files(services)
    draft = SubmissionDraft()
    s = session_factory()
    draft.add_file(services, "a.txt", "text/plain", [b"a" * 300_000], session=s)
    draft.add_file(services, "b.txt", "text/plain", [b"b"], session=s)
    assert len(blob_files(services)) == len(before) + 2
    s.close()
    assert blob_files(services) == before


def test_a_new_report_keeps_its_files_only_with_the_case(session_factory, services, ivy):
    report = ReportContent(summary="Printer", description="jams")
    before = blob_files(services)
    with pytest.raises(RuntimeError), transaction(session_factory) as s:
        draft = SubmissionDraft()
        draft.add_file(services, "a.txt", "text/plain", [b"a"], session=s)
        submit_report(s, services, draft, category_code="it_fault", report=report)
        raise RuntimeError("the notification queue is down")
    assert blob_files(services) == before and rows(session_factory, Case) == 0
    with transaction(session_factory) as s:
        draft = SubmissionDraft()
        stored = draft.add_file(services, "a.txt", "text/plain", [b"kept"], session=s)
        submit_report(s, services, draft, category_code="it_fault", report=report)
    with session_factory() as s:
        attachment = s.scalars(select(Attachment)).one()
        reference = s.scalars(select(Case.reference)).one()
        assert attachment.blob_id == stored.blob_id
        assert b"".join(file_plaintext(services.blobs, attachment, reference,
                                       draft.case_key)) == b"kept"


def test_a_file_of_an_ended_transaction_is_never_referenced(session_factory, services, ivy,
                                                            case_id):
    """Its blob was deleted when its transaction ended: a row for it would point nowhere."""
    with session_factory() as s:
        with s.begin():
            stored = store_reviewer_file(services, ivy.unlocked, s, case_id, KeyKind.CASE,
                                         "a.txt", "text/plain", iter([b"a"]))
        with pytest.raises(PendingFileLost), s.begin():
            post_reviewer_message(s, services, ivy.unlocked, case_id,
                                  MessageKind.INFORMATION, "too late", [stored])
    assert rows(session_factory, Message) == 0


def test_files_written_outside_a_session_are_left_to_their_writer(session_factory, services,
                                                                  ivy):
    """Without a session nothing is held: the caller discards the draft (CLI, imports)."""
    draft = SubmissionDraft()
    draft.add_file(services, "a.txt", "text/plain", [b"a"])
    with transaction(session_factory) as s:
        s.execute(select(1))
    assert len(blob_files(services)) == 1
    draft.discard(services.blobs)
    assert blob_files(services) == []
