"""The case file export: a member of the case team takes the whole decrypted case file away
(the console makes it a PDF with the attachments in a zip, reviewer.views.case_file).

It holds exactly what the case page and the casework page show this member: the clear facts,
the report, the thread with internal notes, the evidence log, the decision versions, the
corrective actions with their follow-ups, the outcome and the reporter's answer, and the
files their keys open. The reporter's identity only when a custodian approved this member's
request for it (core.cases.identity_requests); otherwise the file says it is withheld.

**One audit event.** The export writes a single CASE_FILE_EXPORTED in the transaction that
decrypts, not a REPORT_DECRYPTED and an ATTACHMENT_DECRYPTED per file: it is one act, at one
moment, by one person, as the inbox's SUMMARIES_DECRYPTED covers every summary of its page.
Per-item events would read as that many separate readings and downloads, and would say
nothing more: what the file held follows from the case's records as they stood then (their
rows carry their days, and casework records the hashes of their ciphertexts). The event's
detail holds counts only (files, messages) and whether the identity went with it, never a
name or any content. Two kinds of event are still written beside it, because they are
watched on their own: IDENTITY_REVEALED when the identity is included (the case history and
the auditors follow reveals by that tag), and RECORD_TAMPERED for each record that failed
its integrity check (an alarm; such records are left out of the file).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.case_file_views import CaseFacts, CaseFile, CategoryNames, ExportFile, TeamPlace
from core.cases.casework import UnlockedReviewer, case_keys_of, record_tampering
from core.cases.casework_reading import decrypt_casework
from core.cases.content import Identity
from core.cases.contexts import identity_context
from core.cases.files import attachment_key, open_file_key
from core.cases.grants import FIRST_EPOCH, CaseKeys
from core.cases.identity_access import identity_approved
from core.cases.reading import decrypt_case
from core.cases.team import case_team, get_case, is_active_member
from core.cases.views import FileView
from core.errors import AccessDenied
from core.keyring import Keyring
from core.models import (
    Attachment,
    Case,
    Disclosure,
    KeyKind,
    Reviewer,
)
from core.services import Services
from crypto.errors import DecryptionError
from crypto.records import decrypt_record


def export_case_file(session: Session, services: Services, who: UnlockedReviewer,
                     case_id: int) -> CaseFile:
    """Decrypt the case file for `who`, an active member of the team holding its keys
    (AccessDenied otherwise, as for the case page; NotFound for no such case); audited as
    one CASE_FILE_EXPORTED. The caller commits before it sends anything."""
    case = get_case(session, case_id)
    if not is_active_member(session, services.keyring, case.id, who.reviewer_id):
        raise AccessDenied("not on this case team")
    keys = case_keys_of(session, case, who)
    view = decrypt_case(case, keys)
    casework, casework_tampered = decrypt_casework(session, services, case, keys)
    tampered = [*view.tampered, *casework_tampered]
    listed = [*view.files, *(f for m in view.messages for f in m.files),
              *(f for e in casework.evidence for f in e.files)]
    files = _export_files(session, case, keys, listed, tampered)
    identity = _identity(session, services.keyring, case, who, keys)
    reviewer = session.get(Reviewer, who.reviewer_id)
    assert reviewer is not None  # case_keys_of refused a missing account
    record_event(session, services.clock, AuditAction.CASE_FILE_EXPORTED, who.actor,
                 case_id=case.id, detail={"files": len(files), "messages": len(view.messages),
                                          "identity": identity is not None})
    if identity is not None:
        record_event(session, services.clock, AuditAction.IDENTITY_REVEALED, who.actor,
                     case_id=case.id, detail={"export": True})
    record_tampering(session, services, who.actor, case.id, tampered)
    return CaseFile(facts=_facts(session, case), view=view, casework=casework,
                    identity=identity, files=files, exported_by=reviewer.username,
                    exported_on=services.clock.today())


def _export_files(session: Session, case: Case, keys: CaseKeys, listed: list[FileView],
                  tampered: list[str]) -> tuple[ExportFile, ...]:
    """The listed files that passed their integrity check, numbered in order, each with its
    file key opened now: a key that does not open is a tampered file, left out and logged
    before anything is sent."""
    files: list[ExportFile] = []
    for shown in listed:
        if shown.meta is None:
            continue  # failed its check when listed: already in `tampered`
        attachment = session.get(Attachment, shown.id)
        key = attachment_key(attachment, keys) if attachment is not None else None
        if attachment is None or key is None:
            continue
        try:
            file_key = open_file_key(attachment, case.reference, key)
        except DecryptionError:
            tampered.append(f"file:{attachment.id}")
            continue
        files.append(ExportFile(number=len(files) + 1, attachment_id=attachment.id,
                                meta=shown.meta, blob_id=attachment.blob_id,
                                stream_version=attachment.stream_version, file_key=file_key))
    return tuple(files)


def _identity(session: Session, keyring: Keyring, case: Case, who: UnlockedReviewer,
              keys: CaseKeys) -> Identity | None:
    """The reporter's identity, when a custodian approved this member's request and the
    identity key sealed to them opens it; None otherwise (anonymous, or withheld). A
    custodian who is also on the team holds the key by their role, not by a request: the
    export withholds it from them too, so that only the two-person path puts an identity in
    a file that leaves the server."""
    if case.disclosure is not Disclosure.CONFIDENTIAL or case.identity_ciphertext is None:
        return None
    key = keys.get(KeyKind.IDENTITY, FIRST_EPOCH)
    if key is None or not identity_approved(session, keyring, case.id, who.reviewer_id):
        return None
    try:
        return Identity.from_bytes(decrypt_record(key, case.identity_ciphertext,
                                                  identity_context(case.reference)))
    except DecryptionError:
        return None


def _team(session: Session, case_id: int) -> Iterator[TeamPlace]:
    for member, reviewer in case_team(session, case_id):
        yield TeamPlace(username=reviewer.username, role=member.role, excluded=member.excluded)


def _facts(session: Session, case: Case) -> CaseFacts:
    category = case.category
    return CaseFacts(
        reference=case.reference, status=case.status,
        category=CategoryNames(category.code, category.name_en, category.name_zh)
        if category is not None else None,
        channel=case.channel, disclosure=case.disclosure, priority=case.priority,
        scope_decision=case.scope_decision, satisfaction=case.satisfaction,
        review_requested=case.review_requested, received_on=case.received_on,
        acknowledge_due=case.acknowledge_due, acknowledged_on=case.acknowledged_on,
        feedback_due=case.feedback_due, feedback_given_on=case.feedback_given_on,
        closed_on=case.closed_on, team=tuple(_team(session, case.id)))
