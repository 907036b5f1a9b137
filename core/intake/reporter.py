"""What a reporter can do with their receipt code: open the case, read, reply, add files."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.casework import answer_received
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
from core.cases.grants import SubmitterKeys, open_submitter_grant, submitter_case_keys
from core.cases.inbox_counts import lock_case
from core.cases.kinds import policy_of, reporter_visible_kinds
from core.cases.ordering import next_position
from core.cases.reading import decrypt_case
from core.cases.retention import refuse_if_destroyed
from core.cases.views import CaseView
from core.clock import DatePrecision
from core.errors import (
    InvalidInput,
    MessageLimitReached,
    NotFound,
    ReceiptNotRecognised,
)
from core.intake.receipts import derive_receipt
from core.models import Attachment, Author, Case, KeyKind, Message, MessageKind
from core.models.base import random_row_id
from core.services import Services
from crypto.errors import DecryptionError
from crypto.receipt import ReceiptSecrets
from crypto.records import encrypt_record


@dataclass(frozen=True)
class SubmitterAccess:
    """Proof that the caller knew the receipt code: the case id and what the receipt key
    opened (the first case key and the reporter's private key, which opens later epochs')."""

    case_id: int
    reference: str
    opened: SubmitterKeys = field(repr=False)


def login_submitter(session: Session, services: Services, receipt_text: str, *,
                    derived: ReceiptSecrets | None = None) -> SubmitterAccess:
    """Open a case with a receipt code: one Argon2id, one indexed lookup, one unwrap.

    Pass `derived` (core.intake.receipts.derive_receipt of the code, before the transaction
    began) so that the Argon2id runs outside it; without it, it runs here.
    Raises crypto.MalformedReceipt / crypto.MistypedReceipt before any database access, and
    ReceiptNotRecognised when no case matches.
    """
    if derived is None:
        derived = derive_receipt(services, receipt_text)
    case = session.execute(
        select(Case).where(Case.lookup_id == derived.lookup_id)
    ).scalar_one_or_none()
    if case is None:
        raise ReceiptNotRecognised("no case for this receipt code")
    opened = open_submitter_grant(session, case, derived.receipt_key)
    return SubmitterAccess(case_id=case.id, reference=case.reference, opened=opened)


def _case(session: Session, access: SubmitterAccess) -> Case:
    case = session.get(Case, access.case_id)
    if case is None:
        raise NotFound("this case no longer exists")
    return case


def read_case_for_submitter(
    session: Session, services: Services, access: SubmitterAccess
) -> CaseView:
    """The report, the messages the reporter may see and the stage, decrypted and audited."""
    case = _case(session, access)
    view = decrypt_case(case, submitter_case_keys(session, case, access.opened),
                        kinds=reporter_visible_kinds())
    record_event(session, services.clock, AuditAction.CASE_OPENED_BY_SUBMITTER,
                 Actor.submitter(), case_id=case.id)
    return view


def store_submitter_file(services: Services, access: SubmitterAccess, name: str,
                         content_type: str, chunks: Iterator[bytes], *,
                         limit: int | None = None, day: date | None = None,
                         session: Session | None = None) -> StoredFile:
    """Encrypt a file the reporter adds to their case straight into the blob store. Pass the
    `day` of the message it will belong to (`Clock.submitter_day` when the request began), so
    that an upload across midnight leaves no change of date behind. With `session` (the one
    the message will be posted in), the blob is kept only if that session commits a message
    with it (core.cases.pending_files)."""
    return store_file(services.blobs, key_kind=KeyKind.CASE, name=name,
                      content_type=content_type, chunks=chunks,
                      day=day or services.clock.submitter_day(),
                      limit=services.config.max_submission_bytes if limit is None else limit,
                      session=session)


_MESSAGE_LIMIT_REACHED = {
    DatePrecision.DAY: "You have sent many messages today. Please try again tomorrow.",
    DatePrecision.WEEK: "You have sent many messages this week. Please try again next week.",
}


def post_submitter_message(
    session: Session,
    services: Services,
    access: SubmitterAccess,
    body: str,
    files: Sequence[StoredFile] = (),
    *,
    day: date | None = None,
) -> Message:
    """Add the reporter's message (and files) to the thread; at most N per case per day (per
    stored period: a week holds 7 days' worth). `day`: as for `store_submitter_file`."""
    case = _case(session, access)
    # The session was checked when the request began, and its upload streamed in outside any
    # transaction: a retention run may have destroyed the case since.
    lock_case(session, case)
    refuse_if_destroyed(case)
    text = clean_text(body, field="body", limit=MAX_LONG_TEXT)
    if not text and not files:
        raise InvalidInput("Please write a message or choose a file.", field="body")
    today = day or services.clock.submitter_day()
    precision = services.clock.precision
    sent_in_period = session.scalar(
        select(func.count(Message.id)).where(
            Message.case_id == case.id, Message.author == Author.SUBMITTER,
            Message.created_on == today)
    ) or 0
    if sent_in_period >= services.config.messages_per_case_per_day * precision.days:
        raise MessageLimitReached(_MESSAGE_LIMIT_REACHED[precision], period=precision.value)
    kind = MessageKind.REPORTER_MESSAGE
    # Read from the policy table; the reporter holds only the case key, which it must name.
    keys = submitter_case_keys(session, case, access.opened)
    epoch, key = keys.current(policy_of(kind).key)
    message = Message(
        id=random_row_id(), case_id=case.id, position=next_position(session, Message, case.id),
        author=Author.SUBMITTER, kind=kind, key_kind=policy_of(kind).key, key_epoch=epoch,
        binding=BINDING, created_on=today,
    )
    message.body_ciphertext = encrypt_record(key, text.encode("utf-8"),
                                             message_record_context(case.reference, message))
    session.add(message)
    session.flush()
    add_file_rows(session, case, message, files, today, keys)
    case.submitter_active_on = today
    record_event(session, services.clock, AuditAction.SUBMITTER_MESSAGE_POSTED, Actor.submitter(),
                 case_id=case.id, detail={"files": len(files)},
                 day=today)
    # An answer to a request for information returns the case to where it was.
    answer_received(session, services, case, today)
    session.flush()
    return message


def open_file_for_submitter(
    session: Session, services: Services, access: SubmitterAccess, attachment_id: int
) -> tuple[FileMeta, Iterator[bytes]]:
    """Metadata and a decrypting stream of one of the case's files the reporter may read."""
    attachment = session.get(Attachment, attachment_id)
    if (attachment is None or attachment.case_id != access.case_id
            or not _visible_to_submitter(attachment.key_kind, attachment.message.kind
                                         if attachment.message is not None else None)):
        raise NotFound("no such file")
    key = attachment_key(attachment, submitter_case_keys(session, _case(session, access),
                                                         access.opened))
    if key is None:
        raise NotFound("no such file")
    try:
        meta = file_meta(attachment, access.reference, key)
        chunks = checked_plaintext(services.blobs, attachment, access.reference, key)
    except (DecryptionError, FileUnreadable) as exc:
        # Moved or altered by someone writing to the database, or its blob missing or
        # altered at its start: not shown, as for any file that fails its check.
        raise NotFound("no such file") from exc
    record_event(session, services.clock, AuditAction.ATTACHMENT_DECRYPTED, Actor.submitter(),
                 case_id=access.case_id)
    return meta, chunks


def submitter_file_numbers(session: Session, access: SubmitterAccess) -> dict[int, int]:
    """Each file the reporter may open, by id: its number in the case (1, 2, ... in upload
    order).

    The portal links files by number, not id: ids run over every file of the service, so a
    reporter comparing two of them would learn how many files others sent in between.
    """
    ids = _submitter_file_ids(session, access.case_id)
    return {file_id: number for number, file_id in enumerate(ids, start=1)}


def submitter_file_id(session: Session, access: SubmitterAccess, number: int) -> int:
    """The id of the reporter's file `number` (see submitter_file_numbers); NotFound if none."""
    ids = _submitter_file_ids(session, access.case_id)
    if not 1 <= number <= len(ids):
        raise NotFound("no such file")
    return ids[number - 1]


def _submitter_file_ids(session: Session, case_id: int) -> list[int]:
    rows = session.execute(
        select(Attachment.id, Attachment.key_kind, Message.kind)
        .outerjoin(Message, Attachment.message_id == Message.id)
        .where(Attachment.case_id == case_id)
        .order_by(Attachment.position, Attachment.id)
    ).all()
    return [file_id for file_id, key_kind, message_kind in rows
            if _visible_to_submitter(key_kind, message_kind)]


def _visible_to_submitter(key_kind: KeyKind, message_kind: MessageKind | None) -> bool:
    """A file the reporter may open: under the case key, on the report itself or on a message
    they can see (never on an internal note)."""
    return key_kind is KeyKind.CASE and (message_kind is None
                                         or message_kind in reporter_visible_kinds())
