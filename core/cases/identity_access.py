"""Opening a confidential reporter's identity: only by a member of the case team whose
request another identity custodian approved (core.cases.identity_requests), never by a
custodian alone. A custodian holds every identity key so as to approve requests; holding it
does not let them open the identity for themselves (outside tester: a custodian on a case
team read the name without anyone's approval and the reporter was never told).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import UnlockedReviewer, add_message, case_keys_of
from core.cases.content import Identity, clean_text
from core.cases.contexts import identity_context
from core.cases.grants import FIRST_EPOCH, open_reviewer_grant
from core.errors import AccessDenied, Conflict, NotFound
from core.models import Case, IdentityRequest, KeyKind, MessageKind, RequestStatus
from core.services import Services
from crypto.records import decrypt_record


def identity_approved(session: Session, case_id: int, reviewer_id: int) -> bool:
    """Whether an identity custodian approved this member's request for the identity."""
    return session.execute(select(IdentityRequest.id).where(
        IdentityRequest.case_id == case_id, IdentityRequest.requester_id == reviewer_id,
        IdentityRequest.status == RequestStatus.APPROVED)).first() is not None


def reveal_identity(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
                    reason: str) -> Identity:
    """Open a confidential reporter's identity, with the identity key sealed to this member
    (by the approval of their request, or by their custodian role), once another custodian
    has approved their request: AccessDenied otherwise. The reason is kept as an internal
    note (encrypted under the team key); audited."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no such case")
    reason = clean_text(reason, field="reason", limit=1000, required=True)
    if case.identity_ciphertext is None:
        raise Conflict("this report is anonymous: there is no identity to reveal")
    keys = case_keys_of(session, case, who)  # on the team, with an active account
    if not identity_approved(session, case.id, who.reviewer_id):
        raise AccessDenied("the identity is opened only after another custodian approved "
                           "this member's request")
    identity_key = open_reviewer_grant(session, case.id, who.reviewer_id, who.private_key,
                                       KeyKind.IDENTITY, FIRST_EPOCH)
    identity = Identity.from_bytes(decrypt_record(identity_key, case.identity_ciphertext,
                                                  identity_context(case.reference)))
    note = add_message(session, services, case, who, MessageKind.INTERNAL_NOTE, keys,
                       f"[identity revealed] {reason}")
    record_event(session, services.clock, AuditAction.IDENTITY_REVEALED, who.actor,
                 case_id=case.id, detail={"note_id": note.id})
    return identity
