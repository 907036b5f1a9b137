"""Associated data for each encrypted record: binds a ciphertext to the place it is stored, so
someone who can write to the database cannot move a ciphertext from one place to another."""

from __future__ import annotations

from core.models import MessageKind


def report_context(reference: str) -> bytes:
    """The report of case `reference`."""
    return f"case:{reference}:report".encode()


def identity_context(reference: str) -> bytes:
    """The confidential identity of case `reference`."""
    return f"case:{reference}:identity".encode()


def message_context(reference: str, kind: MessageKind) -> bytes:
    """A message of `kind` (so a reporter's message cannot be turned into staff feedback)."""
    return f"case:{reference}:message:{kind}".encode()


def file_key_context(reference: str, blob_id: str) -> bytes:
    """The wrapped key of one attachment."""
    return f"case:{reference}:file:{blob_id}:key".encode()


def file_meta_context(reference: str, blob_id: str) -> bytes:
    """Name, type and size of one attachment."""
    return f"case:{reference}:file:{blob_id}:meta".encode()
