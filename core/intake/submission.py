"""Submitting a report: the only use case that creates a case.

Attachments are streamed into encrypted blobs while the request is still arriving (a draft),
then the case row, its grants and its audit event are written in one transaction. Blobs added
with a session are held there (core.cases.pending_files): kept only if that transaction
commits with the case. Without one, the caller discards the draft if anything fails.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.blobs import BlobStore
from core.cases.content import Identity, ReportContent, validate_identity, validate_report
from core.cases.contexts import identity_context, report_context
from core.cases.exclusions import record_reporter_exclusions
from core.cases.files import StoredFile, add_file_rows, store_file
from core.cases.grants import (
    FIRST_EPOCH,
    CaseKeys,
    grant_to_recovery,
    grant_to_reviewer,
    grant_to_submitter,
)
from core.cases.inbox_counts import case_created
from core.cases.lead_tags import tag_lead
from core.cases.membership_tags import tag_membership
from core.categories.intake_routes import read_routes, receiving_intake
from core.clock import add_months
from core.errors import InvalidInput
from core.intake.receipts import NewReceipt, new_receipt
from core.models import (
    Case,
    CaseMember,
    CaseStatus,
    Category,
    Channel,
    Disclosure,
    KeyKind,
    MemberRole,
    Reviewer,
)
from core.models.base import random_row_id
from core.services import Services
from core.staff.keys import UntrustedPublicKey, key_alarm, may_hold_case_keys
from crypto.keys import new_key
from crypto.records import encrypt_record

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L


def new_reference() -> str:
    """A random staff-facing case reference such as `C-7K3M9Q2A`."""
    return "C-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


@dataclass
class SubmissionDraft:
    """Keys and encrypted files of a report that is still being received."""

    reference: str = field(default_factory=new_reference)
    case_key: bytes = field(default_factory=new_key, repr=False)
    team_key: bytes = field(default_factory=new_key, repr=False)
    identity_key: bytes = field(default_factory=new_key, repr=False)
    files: list[StoredFile] = field(default_factory=list)
    total_bytes: int = 0
    #: The reporter's day (core.clock.Clock.submitter_day), once the first file is stored.
    day: date | None = None

    def add_file(self, services: Services, name: str, content_type: str,
                 chunks: Iterable[bytes], *, session: Session | None = None) -> StoredFile:
        """Encrypt one attachment into the blob store, enforcing the submission's limits.

        With `session` (the one `submit_report` will run in), the blob is deleted unless that
        session's transaction commits the case."""
        config = services.config
        if len(self.files) >= config.max_files:
            raise InvalidInput(f"Please attach at most {config.max_files} files.",
                               field="attachments")
        stored = store_file(
            services.blobs, key_kind=KeyKind.CASE, name=name, content_type=content_type,
            chunks=chunks,
            day=self.reporter_day(services), limit=config.max_submission_bytes - self.total_bytes,
            session=session,
        )
        self.files.append(stored)
        self.total_bytes += stored.plaintext_size
        return stored

    def reporter_day(self, services: Services) -> date:
        """The reporter's day of the whole submission, fixed at its first file: files of an
        upload that crosses midnight (or Sunday night) would otherwise carry two dates, and
        the change between them would date the upload to that moment."""
        if self.day is None:
            self.day = services.clock.submitter_day()
        return self.day

    def discard(self, blobs: BlobStore) -> None:
        """Delete the draft's blobs (after a failed or abandoned submission whose files were
        added without a session)."""
        for stored in self.files:
            blobs.delete(stored.blob_id)
        self.files.clear()


@dataclass(frozen=True)
class SubmissionResult:
    """What the reporter is shown once. The receipt code exists nowhere else afterwards."""

    receipt_code: str = field(repr=False)
    case_id: int
    reference: str
    #: Routing problems for the admins (never shown to the reporter).
    unrouted: bool


def identity_custodians(session: Session) -> list[Reviewer]:
    """The accounts that receive the identity keys of confidential reports."""
    custodians = session.execute(
        select(Reviewer).where(Reviewer.identity_custodian.is_(True),
                               Reviewer.active.is_(True)).order_by(Reviewer.id)
    ).scalars()
    return [r for r in custodians if may_hold_case_keys(r)]


def _seal_for(session: Session, services: Services, case: Case, reviewer: Reviewer,
              keys: dict[KeyKind, bytes], day: date) -> bool:
    """Seal `keys` to the reviewer; False (and an alarm, dated like the reporter's own
    events) if their public key fails its check, in which case they get none of them."""
    try:
        for kind, key in keys.items():
            grant_to_reviewer(case, reviewer, kind, key, services.keyring)
    except UntrustedPublicKey:
        key_alarm(session, services, reviewer, Actor.submitter(), where="submission", day=day)
        return False
    return True


def _checked_exclusions(excluded: Collection[int], offered: Collection[int]) -> set[int]:
    chosen = set(excluded)
    if not chosen <= set(offered):
        raise InvalidInput("Choose the people to leave out from the list shown.",
                           field="exclude")
    return chosen


def submit_report(
    session: Session,
    services: Services,
    draft: SubmissionDraft,
    *,
    category_code: str,
    report: ReportContent,
    identity: Identity | None = None,
    channel: Channel = Channel.WEB,
    excluded_handlers: Collection[int] = (),
    receipt: NewReceipt | None = None,
) -> SubmissionResult:
    """Create a case from a draft: encrypt, grant, audit, in the caller's transaction.

    Grants at submission use public keys only: the case and team keys go to the category's
    intake handlers, the identity key (confidential reports) only to the identity custodians;
    all three to the recovery key (if configured); the reporter gets the case key. Handlers
    the reporter chose to leave out (`excluded_handlers`, ids among those the form offered:
    core.cases.readers.category_readers) get no key at all.

    Pass `receipt` (core.intake.receipts.new_receipt, made before the transaction began): its
    Argon2id must not run inside the transaction, which on SQLite holds the write lock. Without
    it the code is made here, which only tests and scripts should rely on.
    """
    report = validate_report(report)
    if identity is not None:
        identity = validate_identity(identity)
    category = session.execute(
        select(Category).where(Category.code == category_code, Category.active.is_(True))
    ).scalar_one_or_none()
    if category is None:
        raise InvalidInput("Please choose one of the categories.", field="category")
    # Only routes Candor wrote (core.categories.intake_routes): not a database writer's.
    handlers = receiving_intake(category, read_routes(session, services.keyring))
    custodians = identity_custodians(session) if identity is not None else []
    excluded = _checked_exclusions(excluded_handlers,
                                   [r.id for r in handlers + identity_custodians(session)])

    if receipt is None:
        receipt = new_receipt(services)
    derived = receipt.secrets
    keyring = services.keyring
    # The reporter's day (or week): deadlines run from it, so they fall early, never late.
    today = draft.reporter_day(services)
    ref = draft.reference
    case = Case(
        id=random_row_id(),  # now, not at the flush: the memberships' tags name it
        reference=ref,
        lookup_id=derived.lookup_id,
        status=CaseStatus.RECEIVED,
        category=category,
        category_id=category.id,  # the memberships below copy it before any flush
        channel=channel,
        disclosure=Disclosure.CONFIDENTIAL if identity else Disclosure.ANONYMOUS,
        received_on=today,
        acknowledge_due=today + timedelta(days=services.config.acknowledge_days),
        # Provisional until acknowledgement: the acknowledgement deadline plus the feedback period.
        feedback_due=add_months(today + timedelta(days=services.config.acknowledge_days),
                                services.config.feedback_months),
        key_epoch=FIRST_EPOCH,
        report_ciphertext=encrypt_record(draft.case_key, report.to_bytes(), report_context(ref)),
        identity_ciphertext=(
            encrypt_record(draft.identity_key, identity.to_bytes(), identity_context(ref))
            if identity else None
        ),
    )
    session.add(case)
    grant_to_submitter(case, keyring, derived.receipt_key, draft.case_key)
    record_reporter_exclusions(case, keyring, excluded)
    team_keys = {KeyKind.CASE: draft.case_key, KeyKind.TEAM: draft.team_key}
    routed = 0
    for reviewer in handlers:
        if reviewer.id not in excluded and _seal_for(session, services, case, reviewer,
                                                     team_keys, today):
            member = CaseMember.for_case(case, reviewer_id=reviewer.id, role=MemberRole.INTAKE)
            tag_membership(keyring, case.id, member)
            case.members.append(member)
            routed += 1
    tag_lead(keyring, case)  # no lead yet (core.cases.lead_tags)
    for custodian in custodians:
        if custodian.id not in excluded:
            _seal_for(session, services, case, custodian,
                      {KeyKind.IDENTITY: draft.identity_key}, today)
    if keyring.recovery_public_key is not None:
        all_keys = dict(team_keys)
        if identity is not None:
            all_keys[KeyKind.IDENTITY] = draft.identity_key
        for kind, key in all_keys.items():
            grant_to_recovery(case, keyring.recovery_public_key, kind, key)
    session.flush()
    keys = CaseKeys.of(case, {(FIRST_EPOCH, kind): key for kind, key in team_keys.items()})
    add_file_rows(session, case, None, draft.files, today, keys)
    record_event(
        session, services.clock, AuditAction.CASE_SUBMITTED, Actor.submitter(), case_id=case.id,
        detail={"channel": str(channel), "files": len(draft.files), "routed_to": routed,
                "left_out": len(excluded)},
        day=today,
    )
    case_created(session, case)  # inbox counters (core.cases.inbox_counts)
    session.flush()
    return SubmissionResult(receipt_code=receipt.code, case_id=case.id, reference=ref,
                            unrouted=not routed)
