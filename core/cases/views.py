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
    meta: FileMeta
    key_kind: KeyKind


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
