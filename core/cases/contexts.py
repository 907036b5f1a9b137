"""Associated data for each encrypted record: binds a ciphertext to the place it is stored, so
that someone who can write to the database cannot move, copy or re-attribute a ciphertext
without decryption failing (core.cases.reading reports that as tampering).

Messages and attachments written since migration 0009 (`binding` 2) are bound to their case,
row id, kind, author, key and epoch; an attachment also to its message (or the report). Rows
from before (`binding` 1) keep the binding they were written with: case, kind and blob only.
"""

from __future__ import annotations

from core.models import Attachment, Author, Message, MessageKind

#: The binding of new records.
BINDING = 2


def report_context(reference: str) -> bytes:
    """The report of case `reference`."""
    return f"case:{reference}:report".encode()


def identity_context(reference: str) -> bytes:
    """The confidential identity of case `reference`."""
    return f"case:{reference}:identity".encode()


def message_context(reference: str, kind: MessageKind) -> bytes:
    """Binding 1: a message of `kind` (so a reporter's message cannot be turned into staff
    feedback)."""
    return f"case:{reference}:message:{kind}".encode()


def file_key_context(reference: str, blob_id: str) -> bytes:
    """Binding 1: the wrapped key of one attachment."""
    return f"case:{reference}:file:{blob_id}:key".encode()


def file_meta_context(reference: str, blob_id: str) -> bytes:
    """Binding 1: name, type and size of one attachment."""
    return f"case:{reference}:file:{blob_id}:meta".encode()


def _author(author: Author, reviewer_id: int | None) -> str:
    return f"{author}:{reviewer_id if reviewer_id is not None else '-'}"


def message_record_context(reference: str, message: Message) -> bytes:
    """The context of a message's body, by its binding."""
    if message.binding < BINDING:
        return message_context(reference, message.kind)
    return (f"v2|case:{reference}|message:{message.id}|kind:{message.kind}"
            f"|by:{_author(message.author, message.reviewer_id)}"
            f"|key:{message.key_kind}|epoch:{message.key_epoch}").encode()


def attachment_context(reference: str, attachment: Attachment, message: Message | None,
                       part: str) -> bytes:
    """The context of an attachment's wrapped file key (`part` "key") or metadata ("meta"),
    by its binding. `message` is the message it belongs to (None: the report itself, or the
    evidence entry the attachment names)."""
    if attachment.binding < BINDING:
        return (file_key_context if part == "key" else file_meta_context)(
            reference, attachment.blob_id)
    if attachment.evidence_id is not None:
        place = f"evidence:{attachment.evidence_id}"  # the entry names its author
    elif message is not None:
        place = f"message:{message.id}|by:{_author(message.author, message.reviewer_id)}"
    else:
        place = f"report|by:{_author(Author.SUBMITTER, None)}"
    return (f"v2|case:{reference}|file:{attachment.id}|blob:{attachment.blob_id}|on:{place}"
            f"|key:{attachment.key_kind}|epoch:{attachment.key_epoch}|{part}").encode()


def casework_context(reference: str, table: str, record_id: int, reviewer_id: int,
                     epoch: int, *extra: str) -> bytes:
    """The context of a casework record (evidence entry, decision version, corrective action
    or follow-up note; core.models.casework): its case, table, row, author, key and epoch,
    and what else places it (a version, its action)."""
    place = "".join(f"|{item}" for item in extra)
    return (f"v2|case:{reference}|{table}:{record_id}|by:{_author(Author.REVIEWER, reviewer_id)}"
            f"|key:team|epoch:{epoch}{place}").encode()


def category_example_context(reference: str, category_id: int, epoch: int,
                             tokens_version: int) -> bytes:
    """The context of a case's category example (core.cases.category_examples): its case,
    the confirmed category (so that the label cannot be changed in the database), the team
    key's epoch and the tokenizer version the counts were made with."""
    return (f"v2|case:{reference}|category-example|category:{category_id}|key:team"
            f"|epoch:{epoch}|tokens:{tokens_version}").encode()
