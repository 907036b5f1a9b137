"""The instance tests/core/operations/test_backup.py backs up and restores: a populated
world of cases, messages and files, a writer that keeps committing, and the checks that a
restored case opens whole."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit.checkpoints import sign_checkpoint, verifier_key
from core.audit.export import write_export
from core.audit.store import checkpoint_files
from core.audit.verifier import verify_export
from core.blobs import BlobStore, FileSystemBlobStore
from core.cases import workflow
from core.cases.casework import (
    open_file_for_reviewer,
    read_case_for_reviewer,
    send_message,
    store_reviewer_file,
)
from core.cases.content import Identity, ReportContent
from core.cases.evidence import add_evidence
from core.clock import Clock
from core.config import Config, load_config
from core.db import make_engine, make_session_factory, transaction
from core.intake.reporter import (
    login_submitter,
    open_file_for_submitter,
    post_submitter_message,
    read_case_for_submitter,
    store_submitter_file,
    submitter_file_numbers,
)
from core.keyring import Keyring
from core.models import (
    Attachment,
    Case,
    EvidenceKind,
    KeyKind,
    MessageKind,
    ScopeDecision,
)
from core.operations.restore import restore_backup
from core.schema import check_schema
from core.services import Services
from crypto.keys import KeyPair
from migrations.runner import upgrade
from tests.conftest import CHEAP_KDF
from tests.core.factories import ReviewerHandle, handlers_and_case, submit
from tests.databases import fresh_database

FILE_A = b"%PDF-1.4 evidence of the printer\n" * 100
FILE_B = "补充材料：打印机日志".encode() * 50
FILE_C = b"reply attachment from the case handler"
FILE_D = b"team-only evidence file"
BIG = os.urandom(2 * 1024 * 1024 + 13)  # more than one secretstream chunk


@dataclass
class World:
    """An instance with content, and what a test needs to check it after a restore."""

    config: Config
    services: Services
    session_factory: sessionmaker[Session]
    alice: ReviewerHandle
    bob: ReviewerHandle
    #: reference -> receipt code
    receipts: dict[str, str] = field(default_factory=dict)
    #: (reference, file position) -> plaintext
    files: dict[tuple[str, int], bytes] = field(default_factory=dict)
    first_case: int = 0
    #: The checkpoints an auditor kept: (name, note)
    kept: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def instance(backend: str, folder: Path, recovery: KeyPair,
             keyring: Keyring | None = None) -> Iterator[tuple[Config, Services, str]]:
    """A data directory and a database with the schema (the conftest's, on any backend)."""
    folder.mkdir(parents=True, exist_ok=True)
    with fresh_database(backend, folder) as url:
        config = load_config({}, data_dir=folder / "data", database_url=url, kdf=CHEAP_KDF)
        config.data_dir.mkdir(exist_ok=True)
        yield config, Services(
            config=config, blobs=FileSystemBlobStore(config.blob_dir), clock=Clock(),
            keyring=keyring or Keyring.generate(recovery_public_key=recovery.public_key)), url


def populate(config: Config, services: Services, factory: sessionmaker[Session]) -> World:
    """Reports with files (one confidential), a reporter's follow-up with a file, a handler's
    reply with a file, evidence with corrections and a team file, and a signed checkpoint."""
    alice, bob, first = handlers_and_case(factory, services)
    world = World(config, services, factory, alice, bob, first_case=first.case_id)
    world.receipts[first.reference] = first.receipt_code
    confidential = submit(factory, services, files=[("scan.pdf", FILE_A), ("empty.txt", b"")],
                          identity=Identity(name="Wei Zhang", contact="wz@example.org"))
    large = submit(factory, services, files=[("big.bin", BIG)],
                   report=ReportContent(summary="Badge reader", description="Logs."))
    for result in (confidential, large):
        world.receipts[result.reference] = result.receipt_code
    world.files.update({(confidential.reference, 1): FILE_A, (confidential.reference, 2): b"",
                        (large.reference, 1): BIG})
    case_id = confidential.case_id
    with transaction(factory) as s:
        access = login_submitter(s, services, confidential.receipt_code)
        stored = store_submitter_file(services, access, "more.txt", "text/plain",
                                      iter([FILE_B]), session=s)
        post_submitter_message(s, services, access, "Here is more.", [stored])
    with transaction(factory) as s:
        reply = store_reviewer_file(services, alice.unlocked, s, case_id, KeyKind.CASE,
                                    "reply.txt", "text/plain", iter([FILE_C]))
        send_message(s, services, alice.unlocked, case_id, MessageKind.INFORMATION, "Thanks.",
                     [reply])
    with transaction(factory) as s:
        workflow.decide_scope(s, services, alice.unlocked, case_id, ScopeDecision.ACCEPTED,
                              lead_id=alice.id)
    with transaction(factory) as s:
        team_file = store_reviewer_file(services, alice.unlocked, s, case_id, KeyKind.TEAM,
                                        "log.txt", "text/plain", iter([FILE_D]))
        corrected = add_evidence(s, services, alice.unlocked, case_id, EvidenceKind.FILE,
                                 text="The printer's log.", files=[team_file]).id
        for n in range(3):  # a chain of corrections, whatever order their random ids take
            corrected = add_evidence(s, services, alice.unlocked, case_id, EvidenceKind.NOTE,
                                     text=f"Correction {n}.", corrects_id=corrected).id
    world.files.update({(confidential.reference, 3): FILE_B, (confidential.reference, 4): FILE_C,
                        (confidential.reference, 5): FILE_D})
    with transaction(factory) as s:
        sign_checkpoint(s, services)
    world.kept = [(path.name, path.read_text()) for path in
                  sorted(checkpoint_files(config.data_dir).folder.glob("*.txt"))]
    return world


class Writer(threading.Thread):
    """Keeps submitting reports with a file until stopped (the apps, during a backup)."""

    def __init__(self, factory: sessionmaker[Session], services: Services) -> None:
        super().__init__(daemon=True)
        self.factory, self.services = factory, services
        self.done: list[tuple[str, str, bytes]] = []  # (reference, receipt, file)
        self.failure: BaseException | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                data = os.urandom(200)
                result = submit(self.factory, self.services, files=[("w.bin", data)])
                self.done.append((result.reference, result.receipt_code, data))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failure = exc

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.done) < count:
            assert self.failure is None, self.failure
            assert time.monotonic() < deadline, "the writers were held off by the backup"
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(60)
        assert self.failure is None, self.failure


def blob_digests(store: BlobStore, factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as s:
        ids = s.execute(select(Attachment.blob_id)).scalars().all()
    return {i: hashlib.sha256(b"".join(store.read(i))).hexdigest() for i in ids}


def restored(world: World, folder: Path, backend: str, source: Path,
             ) -> AbstractContextManager[tuple[Services, sessionmaker[Session]]]:
    """Restore `source` onto a new, empty database and data directory, with the same
    secrets (copied back)."""

    @contextmanager
    def run() -> Iterator[tuple[Services, sessionmaker[Session]]]:
        folder.mkdir()
        with fresh_database(backend, folder, with_schema=False) as url:
            config = load_config({}, data_dir=folder / "data", database_url=url,
                                 kdf=CHEAP_KDF)
            services = Services(config=config, keyring=world.services.keyring,
                                blobs=FileSystemBlobStore(config.blob_dir), clock=Clock())
            restore_backup(source, database_url=url, data_dir=config.data_dir,
                           blobs=services.blobs,
                           create_schema=lambda revision: upgrade(url, revision))
            engine = make_engine(url)
            try:
                check_schema(engine)
                yield services, make_session_factory(engine)
            finally:
                engine.dispose()

    return run()


def assert_opens(world: World, services: Services, factory: sessionmaker[Session],
                 receipts: dict[str, str], files: dict[tuple[str, int], bytes]) -> None:
    """Every case opens with its receipt code and with alice's keys; every file is the one
    uploaded; bob still reads the case he was granted; the access log verifies."""
    with factory() as s:
        cases = {c.reference: c.id for c in s.execute(select(Case)).scalars()}
        attachments = s.execute(select(Attachment.id, Attachment.case_id,
                                       Attachment.position)).all()
    assert set(cases) == set(receipts)
    by_id = {case_id: ref for ref, case_id in cases.items()}
    for reference, receipt in receipts.items():
        with transaction(factory) as s:
            access = login_submitter(s, services, receipt)
            assert read_case_for_submitter(s, services, access).reference == reference
            for file_id in submitter_file_numbers(s, access):
                position = s.get(Attachment, file_id).position
                _meta, stream = open_file_for_submitter(s, services, access, file_id)
                assert b"".join(stream) == files[(reference, position)]
    assert len(attachments) == len(files)
    for file_id, case_id, position in attachments:
        with transaction(factory) as s:
            _meta, stream = open_file_for_reviewer(s, services, world.alice.unlocked, file_id)
            assert b"".join(stream) == files[(by_id[case_id], position)]
    with transaction(factory) as s:
        assert read_case_for_reviewer(s, services, world.bob.unlocked, world.first_case)
        sign_checkpoint(s, services)  # audit/ agrees with the restored log
    export = services.config.data_dir.parent / "export.zip"
    with transaction(factory) as s:
        write_export(s, services, export)
    report = verify_export(export, key=verifier_key(services), kept=world.kept)
    assert report.kept == len(world.kept) == 1
    assert report.ok, report.problems
