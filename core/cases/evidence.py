"""The evidence log (证据): notes, files and interview records, each encrypted under the team
key, with who added it and when. Entries are never changed or deleted by the application; a
correction is a new entry pointing at the one it corrects. Each entry's audit event carries
the SHA-256 of its ciphertext (core.cases.records), so a changed row is caught.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import StageRefused, UnlockedReviewer, case_keys_of
from core.cases.content import MAX_LONG_TEXT, MAX_SHORT_TEXT, clean_text
from core.cases.files import StoredFile, add_file_rows
from core.cases.inbox_counts import lock_case
from core.cases.ordering import next_position
from core.cases.records import seal_record
from core.cases.team import get_case
from core.errors import InvalidInput, NotFound
from core.models import CaseStatus, EvidenceEntry, EvidenceKind, KeyKind
from core.models.base import random_row_id
from core.services import Services

#: Stages in which nothing is added to the evidence log any more.
CLOSED_STAGES = frozenset({CaseStatus.CLOSED})


def add_evidence(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                 kind: EvidenceKind, *, text: str = "", interviewee: str = "",
                 files: Sequence[StoredFile] = (), corrects_id: int | None = None
                 ) -> EvidenceEntry:
    """Add an entry: a note (`text`), a file (`files`, with `text` describing them) or an
    interview record (`interviewee` and a summary in `text`); `corrects_id` names the entry
    it corrects. Files must be stored under the team key."""
    case = get_case(session, case_id)
    lock_case(session, case)
    keys = case_keys_of(session, case, who)
    if case.status in CLOSED_STAGES:
        raise StageRefused("the evidence log of a closed case is archived")
    content: dict[str, Any] = {
        "text": clean_text(text, field="text", limit=MAX_LONG_TEXT,
                           required=kind is not EvidenceKind.FILE)}
    if kind is EvidenceKind.INTERVIEW:
        content["interviewee"] = clean_text(interviewee, field="interviewee",
                                            limit=MAX_SHORT_TEXT, required=True)
    if kind is EvidenceKind.FILE and not files:
        raise InvalidInput("Choose the file to add.", field="files")
    if kind is not EvidenceKind.FILE and files:
        raise InvalidInput("Files are added as a file entry.", field="files")
    if any(f.key_kind is not KeyKind.TEAM for f in files):
        raise InvalidInput("Evidence files are for the case team only.", field="files")
    if corrects_id is not None:
        corrected = session.get(EvidenceEntry, corrects_id)
        if corrected is None or corrected.case_id != case.id:
            raise NotFound("no such evidence entry")
    entry = EvidenceEntry(id=random_row_id(), case_id=case.id, reviewer_id=who.reviewer_id,
                          created_on=services.clock.today(),
                          position=next_position(session, EvidenceEntry, case.id), kind=kind,
                          corrects_id=corrects_id)
    digest = seal_record(case, entry, keys, content)
    session.add(entry)
    session.flush()
    add_file_rows(session, case, None, files, services.clock.today(), keys,
                  evidence_id=entry.id)
    record_event(session, services.clock, AuditAction.EVIDENCE_ADDED, who.actor,
                 case_id=case.id, detail={"entry_id": entry.id, "kind": str(kind),
                                          "files": len(files), "corrects_id": corrects_id,
                                          "sha256": digest})
    return entry
