"""What the reporter writes, as plain dataclasses, and its (de)serialisation for encryption."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from core.errors import InvalidInput

#: Longest accepted text per field, in characters (a report is text; evidence goes in files).
MAX_SHORT_TEXT = 200
MAX_LONG_TEXT = 20_000


@dataclass(frozen=True)
class ReportContent:
    """The report: a summary, a free description and the structured questions."""

    summary: str
    description: str = ""
    what_happened: str = ""
    when: str = ""
    where: str = ""
    who_involved: str = ""
    how_known: str = ""
    evidence: str = ""
    #: The language the reporter wrote in ("en", "zh-Hans-CN", ...; "" before it was kept):
    #: messages prepared for them use it (core.cases.letters). Encrypted with the rest.
    language: str = ""

    def words(self) -> str:
        """The report's free text in one string, for the category suggestions: every field
        the reporter wrote about the matter (not `when`, whose dates say nothing of a
        category, nor `language`)."""
        return "\n".join((self.summary, self.description, self.what_happened, self.where,
                          self.who_involved, self.how_known, self.evidence))

    def to_bytes(self) -> bytes:
        """UTF-8 JSON, the plaintext that gets encrypted."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> ReportContent:
        """Inverse of `to_bytes`, tolerant of fields added by later versions."""
        return cls(**_known_fields(cls, json.loads(data)))


@dataclass(frozen=True)
class Identity:
    """A confidential reporter's identity, sealed separately from the report."""

    name: str
    contact: str = ""
    position: str = ""

    def to_bytes(self) -> bytes:
        """UTF-8 JSON, the plaintext that gets encrypted under the identity key."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Identity:
        """Inverse of `to_bytes`."""
        return cls(**_known_fields(cls, json.loads(data)))


@dataclass(frozen=True)
class FileMeta:
    """What is known about an attachment besides its bytes (encrypted as one record)."""

    name: str
    content_type: str
    size: int

    def to_bytes(self) -> bytes:
        """UTF-8 JSON for encryption."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> FileMeta:
        """Inverse of `to_bytes`."""
        return cls(**_known_fields(cls, json.loads(data)))


def _known_fields(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in values.items() if k in names}


def clean_text(value: str | None, *, field: str, limit: int, required: bool = False) -> str:
    """Trim a text field and enforce its limit; raise InvalidInput with a field name."""
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise InvalidInput("This field is required.", field=field)
    if len(text) > limit:
        raise InvalidInput(f"Please keep this under {limit} characters.", field=field)
    return text


def validate_report(report: ReportContent) -> ReportContent:
    """Return a cleaned copy of the report or raise InvalidInput naming the field."""
    cleaned: dict[str, str] = {}
    for f in fields(ReportContent):
        limit = (16 if f.name == "language" else
                 MAX_SHORT_TEXT if f.name in ("summary", "when", "where") else MAX_LONG_TEXT)
        cleaned[f.name] = clean_text(getattr(report, f.name), field=f.name, limit=limit,
                                     required=f.name == "summary")
    return ReportContent(**cleaned)


def validate_identity(identity: Identity) -> Identity:
    """Return a cleaned identity or raise InvalidInput (a confidential report needs a name)."""
    return Identity(
        name=clean_text(identity.name, field="name", limit=MAX_SHORT_TEXT, required=True),
        contact=clean_text(identity.contact, field="contact", limit=MAX_SHORT_TEXT),
        position=clean_text(identity.position, field="position", limit=MAX_SHORT_TEXT),
    )
