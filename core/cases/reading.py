"""Decrypting a case's report, messages and file list with the keys a reader holds."""

from __future__ import annotations

from collections.abc import Mapping, Set

from core.cases.content import ReportContent
from core.cases.contexts import message_context, report_context
from core.cases.files import file_meta
from core.cases.views import CaseView, FileView, MessageView
from core.models import Attachment, Case, KeyKind, Message, MessageKind
from crypto.records import decrypt_record


def _files(attachments: list[Attachment], reference: str,
           keys: Mapping[KeyKind, bytes]) -> tuple[FileView, ...]:
    return tuple(
        FileView(id=a.id, meta=file_meta(a, reference, keys[a.key_kind]), key_kind=a.key_kind)
        for a in attachments if a.key_kind in keys
    )


def _message(message: Message, reference: str, keys: Mapping[KeyKind, bytes]) -> MessageView:
    body = decrypt_record(keys[message.key_kind], message.body_ciphertext,
                          message_context(reference, message.kind))
    return MessageView(
        id=message.id,
        author=message.author,
        reviewer_name=message.reviewer.username if message.reviewer else None,
        kind=message.kind,
        created_on=message.created_on,
        body=body.decode("utf-8"),
        files=_files(message.attachments, reference, keys),
    )


def decrypt_case(case: Case, keys: Mapping[KeyKind, bytes], *,
                 kinds: Set[MessageKind] | None = None) -> CaseView:
    """Everything in `case` that the given keys open; what they do not open is left out.
    `kinds`, if given, also limits the thread to those kinds of message (and their files).

    The reporter holds only the case key, so internal notes and team files never reach a
    CaseView built for them, whatever the caller asks for; they also pass the kinds declared
    visible to them (core.cases.kinds), so that a case-key kind kept from them stays so.
    """
    ref = case.reference
    report = ReportContent.from_bytes(
        decrypt_record(keys[KeyKind.CASE], case.report_ciphertext, report_context(ref)))
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
        files=_files([a for a in case.attachments if a.message_id is None], ref, keys),
        messages=tuple(_message(m, ref, keys) for m in case.messages
                       if m.key_kind in keys and (kinds is None or m.kind in kinds)),
    )
