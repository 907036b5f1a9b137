"""What a reviewer does with a case they were granted: read, reply, share, exclude."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.content import MAX_LONG_TEXT, FileMeta, clean_text
from core.cases.contexts import BINDING, message_record_context
from core.cases.files import (
    FileUnreadable,
    StoredFile,
    add_file_rows,
    attachment_key,
    checked_plaintext,
    file_meta,
    store_file,
)
from core.cases.grants import (
    CaseKeys,
    reviewer_case_keys,
)
from core.cases.inbox_counts import (
    case_changed,
    lock_case,
    sync_member_keys,
)
from core.cases.kinds import allowed_in, policy_of
from core.cases.ordering import next_position
from core.cases.reading import decrypt_case
from core.cases.stages import stage_before_request
from core.cases.transitions import check_transition, legal_targets
from core.cases.views import CaseView
from core.clock import add_months
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound, TamperedRecord
from core.models import (
    Attachment,
    Author,
    Case,
    CaseStatus,
    KeyKind,
    Message,
    MessageKind,
    Reviewer,
)
from core.models.base import random_row_id
from core.models.enums import FINAL_STATUSES
from core.services import Services
from crypto.errors import DecryptionError
from crypto.records import encrypt_record


@dataclass(frozen=True)
class UnlockedReviewer:
    """A reviewer whose private key is available for this request (from their session)."""

    reviewer_id: int
    private_key: bytes = field(repr=False)

    @property
    def actor(self) -> Actor:
        """The audit actor for this reviewer."""
        return Actor.reviewer(self.reviewer_id)


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no such case")
    return case


def _keys(session: Session, case: Case, who: UnlockedReviewer) -> CaseKeys:
    """The keys of `case` the reviewer holds, every epoch; AccessDenied without the current
    case key or when the account is deactivated (its grants remain for the record but may
    not be used)."""
    reviewer = session.get(Reviewer, who.reviewer_id)
    if reviewer is None or not reviewer.active:
        raise AccessDenied("this account is deactivated")
    return reviewer_case_keys(session, case, who.reviewer_id, who.private_key)


def case_keys_of(session: Session, case: Case, who: UnlockedReviewer) -> CaseKeys:
    """The keys of `case` the reviewer holds (see _keys): proof that they are on the team."""
    return _keys(session, case, who)


def record_tampering(session: Session, services: Services, actor: Actor, case_id: int,
                     tampered: Sequence[str]) -> None:
    """Audit records that failed their integrity check when read (an alarm for the auditors,
    who read the access log: someone wrote to the database)."""
    for record in tampered:
        record_event(session, services.clock, AuditAction.RECORD_TAMPERED, actor,
                     case_id=case_id, detail={"record": record})


def read_case_for_reviewer(session: Session, services: Services, who: UnlockedReviewer,
                           case_id: int) -> CaseView:
    """Decrypt the report, the thread, internal notes and file names; audited."""
    case = _case(session, case_id)
    view = decrypt_case(case, _keys(session, case, who))
    record_event(session, services.clock, AuditAction.REPORT_DECRYPTED, who.actor,
                 case_id=case.id)
    record_tampering(session, services, who.actor, case.id, view.tampered)
    return view


def store_reviewer_file(services: Services, who: UnlockedReviewer, session: Session,
                        case_id: int, kind: KeyKind, name: str, content_type: str,
                        chunks: Iterator[bytes]) -> StoredFile:
    """Encrypt a file a reviewer attaches (case key: the reporter sees it; team key: not).
    The blob is kept only if `session` commits a message with it (core.cases.pending_files).
    Reads the database first: a view streaming an upload uses `check_reviewer_file_key`, ends
    that transaction, then `store_checked_reviewer_file`."""
    check_reviewer_file_key(session, who, case_id, kind)
    return store_checked_reviewer_file(services, session, kind, name, content_type, chunks)


def check_reviewer_file_key(session: Session, who: UnlockedReviewer, case_id: int,
                            kind: KeyKind) -> None:
    """AccessDenied unless `who` holds the case's `kind` key (checked again when the message
    or evidence is recorded: this only keeps a stranger from uploading at all)."""
    case = _case(session, case_id)
    if not _keys(session, case, who).holds(kind):
        raise AccessDenied("no grant for this key")


def store_checked_reviewer_file(services: Services, session: Session, kind: KeyKind, name: str,
                                content_type: str, chunks: Iterator[bytes]) -> StoredFile:
    """Encrypt an attachment into the blob store without touching the database: no
    transaction is open while it streams in (on SQLite one would hold the write lock for the
    whole upload). The blob is held on `session`, kept only if it commits a row for it."""
    return store_file(services.blobs, key_kind=kind, name=name, content_type=content_type,
                      chunks=chunks, day=services.clock.today(),
                      limit=services.config.max_submission_bytes, session=session)


def add_message(session: Session, services: Services, case: Case, who: UnlockedReviewer,
                kind: MessageKind, keys: CaseKeys, body: str,
                files: Sequence[StoredFile] = ()) -> Message:
    """Write a staff message of `kind` under its key, with no stage rule (send_message is the
    use case; this is for records a step keeps, such as a reveal's reason)."""
    key_kind = policy_of(kind).key
    if not keys.holds(key_kind):
        raise AccessDenied("no grant for this message's key")
    if any(f.key_kind is not key_kind for f in files):
        # A file travels under its message's key: team files never reach the reporter, and
        # a case-key file on an internal note would be readable by them.
        raise InvalidInput("Files must be encrypted for the same readers as their message.",
                           field="attachments")
    epoch, key = keys.current(key_kind)
    message = Message(
        id=random_row_id(), case_id=case.id, position=next_position(session, Message, case.id),
        author=Author.REVIEWER, reviewer_id=who.reviewer_id, kind=kind,
        key_kind=key_kind, key_epoch=epoch, binding=BINDING,
        created_on=services.clock.today(),
    )
    message.body_ciphertext = encrypt_record(key, body.encode("utf-8"),
                                             message_record_context(case.reference, message))
    session.add(message)
    session.flush()
    add_file_rows(session, case, message, files, services.clock.today(), keys)
    return message


class StageRefused(Conflict):
    """Something the case's stage does not allow (the message says what)."""


def post_reviewer_message(session: Session, services: Services, who: UnlockedReviewer,
                          case_id: int, kind: MessageKind, body: str,
                          files: Sequence[StoredFile] = ()) -> Message:
    """A reply to the reporter (clarification request, information) or an internal note.
    The outcome is sent with its grounds by core.cases.workflow.give_feedback instead."""
    if kind is MessageKind.FEEDBACK:
        raise InvalidInput("Send the outcome with its grounds on the outcome form.",
                           field="kind")
    return send_message(session, services, who, case_id, kind, body, files)


def send_message(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                 kind: MessageKind, body: str, files: Sequence[StoredFile] = ()) -> Message:
    """Post a staff message of any staff kind. The kind's policy (core.cases.kinds) says its
    key, the stages it may be written in and the stage it moves the case to (where
    core.cases.transitions allows); the first word to the reporter acknowledges a received
    report."""
    policy = policy_of(kind)
    if policy.written_by is not Author.REVIEWER:
        raise InvalidInput("Choose the kind of message.", field="kind")
    case = _case(session, case_id)
    # The reply may change the stage (change_status): lock the case before the audit head.
    lock_case(session, case)
    if not allowed_in(kind, case.status):
        raise StageRefused(f"a {kind} cannot be sent while the case is {case.status}")
    text = clean_text(body, field="body", limit=MAX_LONG_TEXT, required=True)
    message = add_message(session, services, case, who, kind, _keys(session, case, who), text,
                           files)
    record_event(session, services.clock, AuditAction.REVIEWER_MESSAGE_POSTED, who.actor,
                 case_id=case.id, detail={"message_id": message.id, "kind": str(kind),
                                          "files": len(files)})
    new_status = policy.moves_to
    if new_status is None and policy.acknowledges and case.status is CaseStatus.RECEIVED:
        # The first word to the reporter acknowledges the report (docs/PROCESS.md, acceptance).
        new_status = CaseStatus.ACKNOWLEDGED
    if new_status is not None and case.status is not new_status and new_status in (
            legal_targets(case.status, before_request(session, case))):
        change_status(session, services, who.actor, case, new_status)
    return message


def before_request(session: Session, case: Case) -> CaseStatus | None:
    """For a case waiting for information: the stage the request was made in."""
    if case.status is not CaseStatus.INFO_NEEDED:
        return None
    return stage_before_request(session, case.id)


def change_status(session: Session, services: Services, actor: Actor, case: Case,
                  new_status: CaseStatus, *, day: date | None = None,
                  detail: dict[str, str | int | bool | None] | None = None) -> None:
    """Move a case to another stage, keeping its dates in step; audited (a reporter's change
    is dated `day`, the date of the message that caused it). IllegalTransition unless
    core.cases.transitions allows the move."""
    lock_case(session, case)  # inbox counters: the stage being left is the committed one
    old, old_category_id = case.status, case.category_id
    if case.content_destroyed_on is not None:
        # Retention destroyed its keys and records: nothing is left to handle.
        raise StageRefused("the content of this case was destroyed under the retention policy")
    check_transition(old, new_status, before_request(session, case))
    case.status = new_status
    today = services.clock.today()
    if old is CaseStatus.RECEIVED and case.acknowledged_on is None:
        # Leaving "received" acknowledges the report; the feedback deadline now runs from here.
        case.acknowledged_on = today
        case.feedback_due = add_months(today, services.config.feedback_months)
    if new_status is CaseStatus.FEEDBACK_GIVEN and case.feedback_given_on is None:
        case.feedback_given_on = today
    if new_status in FINAL_STATUSES:
        # Entering any final stage (closed, referred, not admissible) finishes the case:
        # retention counts from this day (core.cases.retention). Referred -> closed moves it
        # to the later day, which can only delay destruction.
        case.closed_on = today
    elif old in FINAL_STATUSES:
        case.closed_on = None  # reopened
    record_event(session, services.clock, AuditAction.CASE_STATUS_CHANGED, actor,
                 case_id=case.id, detail={"from": str(old), "to": str(new_status),
                                          **(detail or {})}, day=day)
    case_changed(session, case, old_status=old, old_category_id=old_category_id)
    # The memberships' copies of the stage and dates, after the counters (core.cases.inbox_counts).
    sync_member_keys(session, case)


def answer_received(session: Session, services: Services, case: Case, day: date) -> None:
    """The reporter answered: a case waiting for information returns to its earlier stage
    (audited as the reporter's, dated `day` like their message). Other stages stay."""
    if case.status is not CaseStatus.INFO_NEEDED:
        return
    change_status(session, services, Actor.submitter(), case,
                  stage_before_request(session, case.id), day=day)


def open_file_for_reviewer(session: Session, services: Services, who: UnlockedReviewer,
                           attachment_id: int) -> tuple[FileMeta, Iterator[bytes]]:
    """Metadata and a decrypting stream of one attachment; audited."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("no such file")
    case = _case(session, attachment.case_id)
    key = attachment_key(attachment, _keys(session, case, who))
    if key is None:
        raise AccessDenied("no grant for this file")
    try:
        meta = file_meta(attachment, case.reference, key)
        chunks = checked_plaintext(services.blobs, attachment, case.reference, key)
    except (DecryptionError, FileUnreadable) as exc:
        record_tampering(session, services, who.actor, case.id, [f"file:{attachment.id}"])
        raise TamperedRecord("this file failed its integrity check") from exc
    record_event(session, services.clock, AuditAction.ATTACHMENT_DECRYPTED, who.actor,
                 case_id=case.id, detail={"attachment_id": attachment.id})
    return meta, chunks
