"""Decrypting a case's evidence log, decision versions and corrective actions for a member of
its team (one audited decryption per page that shows them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import UnlockedReviewer, case_keys_of, record_tampering
from core.cases.files import attachment_key, file_meta
from core.cases.grants import CaseKeys
from core.cases.records import Opened, Record, open_record, tamper_label
from core.cases.team import get_case
from core.cases.views import FileView
from core.models import (
    ActionStatus,
    Attachment,
    Case,
    CorrectiveAction,
    Decision,
    EvidenceEntry,
    EvidenceKind,
    Finding,
    RecognitionType,
    Reviewer,
    RootCause,
    SanctionType,
)
from core.services import Services
from crypto.errors import DecryptionError


@dataclass(frozen=True)
class EvidenceView:
    """One entry of the evidence log."""

    id: int
    position: int
    kind: EvidenceKind
    author: str
    created_on: date
    content: Opened
    files: tuple[FileView, ...]
    corrects_position: int | None


@dataclass(frozen=True)
class DecisionView:
    """One version of the decision."""

    version: int
    finding: Finding
    root_cause: RootCause | None
    sanctions: tuple[SanctionType, ...]
    recognitions: tuple[RecognitionType, ...]
    author: str
    created_on: date
    content: Opened


@dataclass(frozen=True)
class UpdateView:
    """A follow-up note on an action."""

    status: ActionStatus
    author: str
    created_on: date
    content: Opened


@dataclass(frozen=True)
class ActionView:
    """A corrective action and its follow-up notes."""

    id: int
    position: int
    owner: str
    owner_id: int
    due_on: date
    status: ActionStatus
    done_on: date | None
    overdue: bool
    content: Opened
    updates: tuple[UpdateView, ...]


@dataclass(frozen=True)
class CaseworkView:
    """A case's evidence log, decision versions (newest last) and corrective actions."""

    evidence: tuple[EvidenceView, ...]
    decisions: tuple[DecisionView, ...]
    actions: tuple[ActionView, ...]

    @property
    def decision(self) -> DecisionView | None:
        """The current version of the decision."""
        return self.decisions[-1] if self.decisions else None


def _split(values: str) -> list[str]:
    return [v for v in values.split(",") if v]


def read_casework(session: Session, services: Services, who: UnlockedReviewer,
                  case_id: int) -> CaseworkView:
    """Decrypt the case's casework records with the reviewer's keys; audited as one
    decryption. Records that fail their integrity check are marked and logged."""
    case = get_case(session, case_id)
    view, tampered = decrypt_casework(session, services, case, case_keys_of(session, case, who))
    record_event(session, services.clock, AuditAction.REPORT_DECRYPTED, who.actor,
                 case_id=case.id, detail={"records": "casework"})
    record_tampering(session, services, who.actor, case.id, tampered)
    return view


def decrypt_casework(session: Session, services: Services, case: Case,
                     keys: CaseKeys) -> tuple[CaseworkView, list[str]]:
    """The casework records `keys` open, and the labels of those that failed their integrity
    check. Writes nothing: the caller audits the decryption (read_casework, or the case file
    export's one event, core.cases.case_file)."""
    tampered: list[str] = []

    def opened(record: Record) -> Opened:
        result = open_record(case, record, keys)
        if result.tampered:
            tampered.append(tamper_label(record))
        return result

    entries = list(session.execute(select(EvidenceEntry).where(
        EvidenceEntry.case_id == case.id).order_by(EvidenceEntry.position)).scalars())
    positions = {e.id: e.position for e in entries}
    files: dict[int, list[FileView]] = {}
    for attachment in session.execute(select(Attachment).where(
            Attachment.case_id == case.id, Attachment.evidence_id.is_not(None))
            .order_by(Attachment.position)).scalars():
        key = attachment_key(attachment, keys)
        if key is None or attachment.evidence_id is None:
            continue
        try:
            meta = file_meta(attachment, case.reference, key)
        except DecryptionError:
            tampered.append(f"file:{attachment.id}")
            meta = None
        files.setdefault(attachment.evidence_id, []).append(
            FileView(id=attachment.id, meta=meta, key_kind=attachment.key_kind))
    evidence = tuple(EvidenceView(
        id=e.id, position=e.position, kind=e.kind, author=e.reviewer.username,
        created_on=e.created_on, content=opened(e), files=tuple(files.get(e.id, ())),
        corrects_position=positions.get(e.corrects_id) if e.corrects_id else None)
        for e in entries)
    decisions = tuple(DecisionView(
        version=d.version, finding=d.finding, root_cause=d.root_cause,
        sanctions=tuple(SanctionType(v) for v in _split(d.sanction_types)),
        recognitions=tuple(RecognitionType(v) for v in _split(d.recognition_types)),
        author=d.reviewer.username, created_on=d.created_on, content=opened(d))
        for d in session.execute(select(Decision).where(Decision.case_id == case.id)
                                 .order_by(Decision.version)).scalars())
    today = services.clock.today()
    actions = tuple(ActionView(
        id=a.id, position=a.position, owner=a.owner.username, owner_id=a.owner_id,
        due_on=a.due_on, status=a.status, done_on=a.done_on,
        overdue=a.status is not ActionStatus.DONE and a.due_on < today, content=opened(a),
        updates=tuple(UpdateView(status=u.status, author=_username(session, u.reviewer_id),
                                 created_on=u.created_on, content=opened(u))
                      for u in a.updates))
        for a in session.execute(select(CorrectiveAction).where(
            CorrectiveAction.case_id == case.id).order_by(CorrectiveAction.position)).scalars())
    return CaseworkView(evidence=evidence, decisions=decisions, actions=actions), tampered


def _username(session: Session, reviewer_id: int) -> str:
    reviewer = session.get(Reviewer, reviewer_id)
    return reviewer.username if reviewer is not None else ""
