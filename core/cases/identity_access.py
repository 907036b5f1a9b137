"""Opening a confidential reporter's identity: only by a member of the case team whose
request another identity custodian approved (core.cases.identity_requests), never by a
custodian alone. A custodian holds every identity key so as to approve requests; holding it
does not let them open the identity for themselves (outside tester: a custodian on a case
team read the name without anyone's approval and the reporter was never told).

An approval carries a tag under the instance account key (request, case, requester,
approver): a custodian who can also write the database cannot approve their own request by
setting its status with SQL. A request carries one from the moment it is made (case,
requester): re-addressed to the writer between a custodian's reading and approving it
(second reader), it is not approved.
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
from core.keyring import Keyring
from core.models import Case, IdentityRequest, KeyKind, MessageKind, RequestStatus
from core.services import Services
from crypto.key_tags import key_tag, tag_matches
from crypto.records import decrypt_record


def _approval_owner(request: IdentityRequest) -> str:
    return f"identity-approval:{request.id}:{request.case_id}:{request.requester_id}"


def _approval_facts(request: IdentityRequest) -> bytes:
    return f"approved-by:{request.decided_by}".encode()


def _request_owner(request: IdentityRequest) -> str:
    return f"identity-request:{request.id}"


def _request_facts(request: IdentityRequest) -> bytes:
    return f"case:{request.case_id}:requester:{request.requester_id}".encode()


def tag_request(keyring: Keyring, request: IdentityRequest) -> None:
    """Authenticate a request as it was made (its id assigned)."""
    request.request_tag = key_tag(keyring.account_key, _request_owner(request),
                                  _request_facts(request))


def request_trusted(keyring: Keyring, request: IdentityRequest) -> bool:
    """Whether the request names the case and requester it was made with."""
    return tag_matches(keyring.account_key, _request_owner(request), _request_facts(request),
                       request.request_tag)


def tag_approval(keyring: Keyring, request: IdentityRequest) -> None:
    """Authenticate a request a custodian has just approved (status and approver set)."""
    request.approval_tag = key_tag(keyring.account_key, _approval_owner(request),
                                   _approval_facts(request))


def approval_trusted(keyring: Keyring, request: IdentityRequest) -> bool:
    """Whether the request was approved by Candor's use case, not set so with SQL."""
    return (request.status is RequestStatus.APPROVED and request.decided_by is not None
            and tag_matches(keyring.account_key, _approval_owner(request),
                            _approval_facts(request), request.approval_tag))


def identity_approved(session: Session, keyring: Keyring, case_id: int,
                      reviewer_id: int) -> bool:
    """Whether an identity custodian approved this member's request for the identity."""
    return any(approval_trusted(keyring, request) for request in session.execute(
        select(IdentityRequest).where(
            IdentityRequest.case_id == case_id, IdentityRequest.requester_id == reviewer_id,
            IdentityRequest.status == RequestStatus.APPROVED)).scalars())


def tag_untagged_requests(session: Session, keyring: Keyring) -> int:
    """After migration 0019 (`candor db upgrade`, which holds the key): tag every request,
    and every approval, as it stands then. Returns how many requests."""
    untagged = session.execute(select(IdentityRequest).where(
        IdentityRequest.request_tag.is_(None))).scalars().all()
    for request in untagged:
        tag_request(keyring, request)
        if request.status is RequestStatus.APPROVED and request.approval_tag is None:
            tag_approval(keyring, request)
    session.flush()
    return len(untagged)


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
    if not identity_approved(session, services.keyring, case.id, who.reviewer_id):
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
