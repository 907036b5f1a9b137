"""Decrypting a case's report, messages and file list with the keys a reader holds.

A record whose ciphertext does not open under its place's binding (core.cases.contexts) was
moved, copied, re-attributed or altered by someone writing to the database: it is reported as
tampered (CaseView.tampered) and its content is not shown.
"""

from __future__ import annotations

from collections.abc import Set

from core.cases.content import ReportContent
from core.cases.contexts import message_record_context, report_context
from core.cases.files import attachment_key, file_meta
from core.cases.grants import FIRST_EPOCH, CaseKeys
from core.cases.views import CaseView, FileView, MessageView
from core.errors import AccessDenied
from core.models import Attachment, Case, KeyKind, Message, MessageKind
from crypto.errors import DecryptionError
from crypto.records import decrypt_record


class _Reader:
    """Decrypts one case's records, collecting those that fail their integrity check."""

    def __init__(self, case: Case, keys: CaseKeys) -> None:
        self.case = case
        self.keys = keys
        self.tampered: list[str] = []

    def files(self, attachments: list[Attachment]) -> tuple[FileView, ...]:
        views = []
        for attachment in attachments:
            key = attachment_key(attachment, self.keys)
            if key is None:
                continue
            try:
                meta = file_meta(attachment, self.case.reference, key)
            except DecryptionError:
                self.tampered.append(f"file:{attachment.id}")
                meta = None
            views.append(FileView(id=attachment.id, meta=meta, key_kind=attachment.key_kind))
        return tuple(views)

    def message(self, message: Message, key: bytes) -> MessageView:
        try:
            body = decrypt_record(key, message.body_ciphertext,
                                  message_record_context(self.case.reference, message))
            text, tampered = body.decode("utf-8"), False
        except (DecryptionError, UnicodeDecodeError):
            self.tampered.append(f"message:{message.id}")
            text, tampered = "", True
        return MessageView(
            id=message.id,
            author=message.author,
            reviewer_name=message.reviewer.username if message.reviewer else None,
            kind=message.kind,
            created_on=message.created_on,
            body=text,
            files=self.files(message.attachments),
            tampered=tampered,
        )


def decrypt_report(reference: str, ciphertext: bytes, key: bytes) -> ReportContent:
    """The report of case `reference` under its first case key. CryptoError (or ValueError for
    a plaintext that is not a report) when it fails its integrity check."""
    return ReportContent.from_bytes(decrypt_record(key, ciphertext, report_context(reference)))


def decrypt_case(case: Case, keys: CaseKeys, *,
                 kinds: Set[MessageKind] | None = None) -> CaseView:
    """Everything in `case` that the given keys open; what they do not open is left out,
    what fails its integrity check is marked (CaseView.tampered). `kinds`, if given, also
    limits the thread to those kinds of message (and their files).

    The reporter holds only case keys, so internal notes and team files never reach a
    CaseView built for them, whatever the caller asks for; they also pass the kinds declared
    visible to them (core.cases.kinds), so that a case-key kind kept from them stays so.
    """
    ref = case.reference
    report_key = keys.get(KeyKind.CASE, FIRST_EPOCH)
    if report_key is None:
        raise AccessDenied("no key for this report")
    report = decrypt_report(ref, case.report_ciphertext, report_key)
    reader = _Reader(case, keys)
    messages = []
    for message in case.messages:
        key = keys.get(message.key_kind, message.key_epoch)
        if key is not None and (kinds is None or message.kind in kinds):
            messages.append(reader.message(message, key))
    return CaseView(
        id=case.id,
        reference=ref,
        status=case.status,
        category_code=case.category.code if case.category else None,
        disclosure=case.disclosure,
        received_on=case.received_on,
        acknowledge_due=case.acknowledge_due,
        feedback_due=case.feedback_due,
        report=report,
        files=reader.files([a for a in case.attachments
                            if a.message_id is None and a.evidence_id is None]),
        messages=tuple(messages),
        tampered=tuple(reader.tampered),
    )
