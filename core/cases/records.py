"""Encrypting and reading the casework records of core.models.casework: evidence entries,
decision versions, corrective actions and their follow-up notes.

Each record's content is a small JSON object under the case's team key of the current epoch,
bound to its row (core.cases.contexts.casework_context). Its audit event carries the SHA-256
of the stored ciphertext: an auditor can check that the row in the database is the one that
was written without being able to read it, and the hash says nothing about the content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core.cases.contexts import casework_context
from core.cases.grants import CaseKeys
from core.models import (
    ActionUpdate,
    Case,
    CorrectiveAction,
    Decision,
    EvidenceEntry,
    KeyKind,
)
from crypto.errors import DecryptionError
from crypto.records import decrypt_record, encrypt_record

Record = EvidenceEntry | Decision | CorrectiveAction | ActionUpdate

_TABLES: dict[type, str] = {EvidenceEntry: "evidence", Decision: "decision",
                            CorrectiveAction: "action", ActionUpdate: "action-update"}


def _context(case: Case, record: Record) -> bytes:
    extra: list[str] = []
    if isinstance(record, Decision):
        extra = [f"version:{record.version}", f"finding:{record.finding}",
                 f"root:{record.root_cause}", f"sanctions:{record.sanction_types}",
                 f"recognitions:{record.recognition_types}"]
    elif isinstance(record, ActionUpdate):
        extra = [f"of:{record.action_id}", f"status:{record.status}"]
    elif isinstance(record, EvidenceEntry):
        extra = [f"kind:{record.kind}", f"corrects:{record.corrects_id}"]
    return casework_context(case.reference, _TABLES[type(record)], record.id,
                            record.reviewer_id, record.key_epoch, *extra)


def seal_record(case: Case, record: Record, keys: CaseKeys, content: dict[str, Any]) -> str:
    """Encrypt `content` into `record` (its id, author and clear columns already set) under
    the current team key; return the ciphertext's SHA-256 for the audit event."""
    epoch, key = keys.current(KeyKind.TEAM)
    record.key_epoch = epoch
    plaintext = json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8")
    record.ciphertext = encrypt_record(key, plaintext, _context(case, record))
    return content_hash(record)


def content_hash(record: Record) -> str:
    """SHA-256 (hex) of a record's stored ciphertext."""
    return hashlib.sha256(record.ciphertext).hexdigest()


@dataclass(frozen=True)
class Opened:
    """A decrypted record: its content, or None when the reader holds no key for its epoch;
    `tampered` when it fails its integrity check (moved, altered or re-attributed)."""

    content: dict[str, Any] | None
    tampered: bool = False

    def text(self, name: str) -> str:
        """One text field ("" when absent or unreadable)."""
        value = (self.content or {}).get(name, "")
        return value if isinstance(value, str) else ""


def open_record(case: Case, record: Record, keys: CaseKeys) -> Opened:
    """Decrypt a record with the reader's keys."""
    key = keys.get(KeyKind.TEAM, record.key_epoch)
    if key is None:
        return Opened(None)
    try:
        content = json.loads(decrypt_record(key, record.ciphertext, _context(case, record)))
    except (DecryptionError, UnicodeDecodeError, ValueError):
        return Opened(None, tampered=True)
    return Opened(content if isinstance(content, dict) else None)


def tamper_label(record: Record) -> str:
    """How a tampered record is named in its RECORD_TAMPERED event."""
    return f"{_TABLES[type(record)]}:{record.id}"
