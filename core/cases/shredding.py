"""Crypto-shredding a finished case whose retention period has passed (core.cases.retention
decides which): every key sealed for it and every ciphertext of it is deleted or emptied in
one transaction, so that nothing of its content can be read again by anyone, with any key,
including the recovery key. The clear columns statistics read stay, and so does every audit
event: the log's hashes never covered content, so proofs and checkpoints still verify.

Every table, and what happens to its rows of the case (each column that holds bytes is named):

- cases: kept, with its reference, stage, dates, category, channel, disclosure, priority,
  scope decision, satisfaction and key epoch. `report_ciphertext` becomes b"" (NOT NULL);
  `identity_ciphertext`, `reporter_public_key`, `reporter_key_tag` and
  `reporter_wrapped_private_key` and `lead_tag` become NULL (nobody leads a case without
  content); `lookup_id` gets fresh random bytes, so the
  receipt code finds nothing (the portal answers as for an unknown code);
  `content_destroyed_on` is set.
- case_grants (`sealed_key`): deleted, every epoch and every recipient (reviewers, the
  recovery key, the reporter).
- messages (`body_ciphertext`): deleted (no figure counts them).
- attachments (`wrapped_file_key`, `meta_ciphertext`): deleted; their blobs are deleted from
  the blob store after the commit (core.operations.retention_run); a blob left behind by
  a crash is an orphan nobody holds a key for, which `candor cleanup` sweeps.
- evidence_entries (`ciphertext`): deleted (no figure counts them).
- decisions, corrective_actions (`ciphertext`): kept for their clear columns (finding, root
  cause, sanction and recognition types; owner, due date, status, done date), which feed the
  statistics; `ciphertext` becomes b"".
- action_updates (`ciphertext`): deleted (the action keeps its status and done date).
- identity_requests (`reason_ciphertext`, `request_tag`, `approval_tag`): kept (requester,
  status, times) with b"" as the reason and no tags (there is no identity left to open); a
  pending one becomes withdrawn, as nobody could decide it any more.
- identity_request_seals (`sealed_key`): deleted.
- reporter_exclusions (`tag`): deleted.
- category_examples (`counts_ciphertext`): deleted; the suggestions no longer learn from the
  case (core.cases.category_examples).
- case_members, inbox_counts: kept unchanged: the team still finds the archived case in its
  inbox, and the counters stay exact.
- audit_events (`leaf_hash`, `chain_hash`), audit_pending_events (`token`): kept; they hold
  no content.
- submitter_sessions (`sealed_state`; or their Redis keys): a reporter logged in at the time
  keeps a session sealed under their cookie, naming the case and holding its first case key,
  which now opens nothing; the session is refused on its next use
  (core.intake.reporter_sessions) and the row expires as usual. Rows do not name their case
  in clear, so they cannot be picked out here.
- statistics_months, statistics_cells (core.statistics.month_cells): counts per month, no
  case in them; the shred marks the case's month stale, and its recount from the kept clear
  columns gives the same figures.
- reviewers, reviewer_sessions, pending_notifications, throttle_buckets, staff_changes,
  submission_tokens (a hash per sent report form, naming no case),
  audit_head, audit_checkpoints, categories, category_intake: hold nothing of a case.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.retention import due_on
from core.errors import NotFound
from core.models import (
    ActionUpdate,
    Attachment,
    Case,
    CaseGrant,
    CaseMember,
    CategoryExample,
    CorrectiveAction,
    Decision,
    EvidenceEntry,
    IdentityRequest,
    IdentityRequestSeal,
    Message,
    ReporterExclusion,
    RequestStatus,
)
from core.services import Services
from core.statistics.staleness import UNCHANGED, hold_case_month


@dataclass(frozen=True)
class ShreddedCase:
    """What destroy_case_content did to one case; `blob_ids` are to be deleted from the blob
    store once the transaction has committed."""

    case_id: int
    reference: str
    closed_on: date
    due_on: date
    blob_ids: tuple[str, ...]
    counts: dict[str, int]


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _locked(session: Session, case_id: int) -> Case:
    """The case row, re-read under a lock held to the end of the transaction. FOR UPDATE, not
    the FOR NO KEY UPDATE of core.cases.inbox_counts.lock_case: `lookup_id` (a unique column)
    changes, and inserts that reference the case wait until the content is gone."""
    case = session.execute(
        select(Case).where(Case.id == case_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if case is None:
        raise NotFound("no such case")
    hold_case_month(session, case)  # before the audit head (core.statistics.staleness)
    return case


def destroy_case_content(session: Session, services: Services, case_id: int, actor: Actor, *,
                         today: date | None = None) -> ShreddedCase | None:
    """Crypto-shred the case if it is still due on `today` (default: the clock's day), in the
    caller's transaction; audited as CASE_CONTENT_DESTROYED with counts only. Returns None,
    changing nothing, when the case is no longer due (reopened, put on legal hold, already
    destroyed, or its day moved since it was listed)."""
    day = today or services.clock.today()
    case = _locked(session, case_id)
    due = due_on(case, services.config.retention_days)
    if due is None or due > day or case.closed_on is None:
        return None
    blob_ids = tuple(sorted(session.execute(
        select(Attachment.blob_id).where(Attachment.case_id == case.id)).scalars()))
    counts: dict[str, int] = {}
    counts["grants"] = _count(session.execute(
        delete(CaseGrant).where(CaseGrant.case_id == case.id)))
    counts["files"] = _count(session.execute(
        delete(Attachment).where(Attachment.case_id == case.id)))
    actions = select(CorrectiveAction.id).where(CorrectiveAction.case_id == case.id)
    # The bulk statements on tables statistics read are marked UNCHANGED: they change no
    # clear column, and the case row's own change below marks its month (without the mark,
    # every month would be counted again: core.statistics.staleness).
    counts["action_updates"] = _count(session.execute(
        delete(ActionUpdate).where(ActionUpdate.action_id.in_(actions))
        .execution_options(**UNCHANGED)))
    counts["messages"] = _count(session.execute(
        delete(Message).where(Message.case_id == case.id)))
    counts["evidence"] = _count(session.execute(
        delete(EvidenceEntry).where(EvidenceEntry.case_id == case.id)))
    counts["decisions"] = _count(session.execute(
        update(Decision).where(Decision.case_id == case.id).values(ciphertext=b"")
        .execution_options(**UNCHANGED)))
    counts["actions"] = _count(session.execute(
        update(CorrectiveAction).where(CorrectiveAction.case_id == case.id)
        .values(ciphertext=b"").execution_options(**UNCHANGED)))
    requests = select(IdentityRequest.id).where(IdentityRequest.case_id == case.id)
    session.execute(delete(IdentityRequestSeal).where(
        IdentityRequestSeal.request_id.in_(requests)))
    counts["identity_requests"] = _count(session.execute(
        update(IdentityRequest).where(IdentityRequest.case_id == case.id)
        .values(reason_ciphertext=b"", request_tag=None, approval_tag=None)))
    session.execute(
        update(IdentityRequest)
        .where(IdentityRequest.case_id == case.id,
               IdentityRequest.status == RequestStatus.PENDING)
        .values(status=RequestStatus.WITHDRAWN, decided_at=services.clock.now()))
    counts["exclusions"] = _count(session.execute(
        delete(ReporterExclusion).where(ReporterExclusion.case_id == case.id)))
    counts["category_examples"] = _count(session.execute(
        delete(CategoryExample).where(CategoryExample.case_id == case.id)))
    # The memberships stay (inboxes, history); their tags guard key epochs, which a case
    # without keys has no more.
    session.execute(update(CaseMember).where(CaseMember.case_id == case.id)
                    .values(member_tag=None))
    case.report_ciphertext = b""
    case.identity_ciphertext = None
    case.lead_tag = None
    case.reporter_public_key = None
    case.reporter_key_tag = None
    case.reporter_wrapped_private_key = None
    # Random, of a lookup id's length: no receipt code derives it.
    case.lookup_id = secrets.token_bytes(32)
    case.content_destroyed_on = day
    record_event(session, services.clock, AuditAction.CASE_CONTENT_DESTROYED, actor,
                 case_id=case.id, detail=counts)
    session.flush()
    # The relationships loaded before the bulk deletes are stale.
    session.expire(case, ["grants", "messages", "attachments", "reporter_exclusions"])
    return ShreddedCase(case.id, case.reference, case.closed_on, due, blob_ids, counts)
