"""Decrypted read models handed to the apps. They live in memory only, for one request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.cases.content import FileMeta, ReportContent
from core.models import Author, CaseStatus, Disclosure, KeyKind, MessageKind


@dataclass(frozen=True)
class FileView:
    """An attachment as shown in a list (id for the download link, decrypted metadata)."""

    id: int
    #: None when the record failed its integrity check (moved, copied or altered).
    meta: FileMeta | None
    key_kind: KeyKind

    @property
    def tampered(self) -> bool:
        """Whether the file's records failed their integrity check (not shown)."""
        return self.meta is None


@dataclass(frozen=True)
class MessageView:
    """One decrypted message."""

    id: int
    author: Author
    reviewer_name: str | None
    kind: MessageKind
    created_on: date
    body: str
    files: tuple[FileView, ...]
    #: The body failed its integrity check (moved, copied or re-attributed): not shown.
    tampered: bool = False


@dataclass(frozen=True)
class CaseView:
    """A case as one reader may see it."""

    id: int
    reference: str
    status: CaseStatus
    category_code: str | None
    disclosure: Disclosure
    received_on: date
    acknowledge_due: date
    feedback_due: date
    report: ReportContent
    files: tuple[FileView, ...]
    messages: tuple[MessageView, ...]
    #: Records that failed their integrity check ("message:<id>", "file:<id>"): the reader
    #: records them in the audit log (RECORD_TAMPERED); they are shown as such, not shown.
    tampered: tuple[str, ...] = ()
