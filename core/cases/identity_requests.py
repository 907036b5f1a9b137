"""Revealing a confidential reporter's identity takes two people.

The identity key of a confidential report is sealed only to the identity custodians and the
recovery key (core.intake.submission), never to the case team. A team member asks, with a
reason; a custodian other than the requester approves, which seals the identity key to the
requester (audited as a grant), or refuses. The requester then opens the identity
(core.cases.identity_access.reveal_identity: only with an approved request, even a custodian
who holds the key by their role), and the reporter's thread tells them that their
identity was disclosed to the case team (identity_disclosures).

The reason is encrypted under a key of its own, sealed to the requester and each custodian:
custodians judge the request without holding the case's keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import AuditAction, record_event
from core.cases.casework import UnlockedReviewer, case_keys_of
from core.cases.content import clean_text
from core.cases.exclusions import excluded_by_reporter
from core.cases.grants import (
    FIRST_EPOCH,
    find_reviewer_grant,
    grant_to_reviewer,
    is_excluded,
    open_reviewer_grant,
)
from core.cases.identity_access import (
    approval_trusted,
    identity_approved,
    request_trusted,
    tag_approval,
    tag_request,
)
from core.cases.inbox_counts import lock_case
from core.cases.retention import refuse_if_destroyed
from core.errors import AccessDenied, Conflict, NotFound
from core.intake.submission import identity_custodians
from core.keyring import Keyring
from core.models import (
    Case,
    Disclosure,
    IdentityRequest,
    IdentityRequestSeal,
    KeyKind,
    RequestStatus,
    Reviewer,
)
from core.services import Services
from core.staff.keys import CannotReceiveKeys, UntrustedPublicKey, key_alarm, sealing_key
from crypto.errors import CryptoError
from crypto.keys import new_key, open_sealed, seal_to
from crypto.records import decrypt_record, encrypt_record

MAX_REASON = 1000


def _reason_context(request: IdentityRequest) -> bytes:
    return f"identity-request:{request.id}:case:{request.case_id}:by:{request.requester_id}" \
        .encode()


@dataclass(frozen=True)
class RequestView:
    """A request as a custodian or the requester sees it (reason decrypted)."""

    id: int
    case_id: int
    reference: str
    requester: str
    reason: str
    status: RequestStatus
    requested_on: date


def request_identity(session: Session, services: Services, who: UnlockedReviewer,
                     case_id: int, reason: str) -> IdentityRequest:
    """Ask the custodians for a confidential reporter's identity; audited."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no such case")
    # The reason is sealed under a key of its own, not the case's: without the lock and the
    # check, a retention run committing after the keys are read would leave it behind.
    lock_case(session, case)
    refuse_if_destroyed(case)
    case_keys_of(session, case, who)  # a member of the team, holding its keys
    if case.disclosure is not Disclosure.CONFIDENTIAL or case.identity_ciphertext is None:
        raise Conflict("this report is anonymous: there is no identity to reveal")
    if identity_approved(session, services.keyring, case.id, who.reviewer_id):
        raise Conflict("you can already reveal this identity")
    if session.execute(select(IdentityRequest.id).where(
            IdentityRequest.case_id == case.id, IdentityRequest.requester_id == who.reviewer_id,
            IdentityRequest.status == RequestStatus.PENDING)).first():
        raise Conflict("your request is already waiting for a custodian")
    text = clean_text(reason, field="reason", limit=MAX_REASON, required=True)
    # Not to a custodian the reporter left out, nor one excluded from the case (by their row
    # or the access log): the reason is about this case.
    readers = [r for r in identity_custodians(session)
               if r.id != who.reviewer_id
               and not excluded_by_reporter(case, services.keyring, r.id)
               and not is_excluded(session, case.id, r.id)]
    if not readers:
        raise Conflict("there is no identity custodian who could approve this request")
    requester = session.get(Reviewer, who.reviewer_id)
    assert requester is not None
    key = new_key()
    request = IdentityRequest(case_id=case.id, requester_id=who.reviewer_id,
                              status=RequestStatus.PENDING, reason_ciphertext=b"",
                              requested_at=services.clock.now())
    session.add(request)
    session.flush()
    tag_request(services.keyring, request)
    request.reason_ciphertext = encrypt_record(key, text.encode("utf-8"),
                                               _reason_context(request))
    for reader in [requester, *readers]:
        try:
            sealed = seal_to(sealing_key(services.keyring, reader), key)
        except UntrustedPublicKey:
            key_alarm(session, services, reader, who.actor, where="identity-request")
            continue
        except CannotReceiveKeys:
            continue
        request.seals.append(IdentityRequestSeal(reviewer_id=reader.id, sealed_key=sealed))
    record_event(session, services.clock, AuditAction.IDENTITY_REQUESTED, who.actor,
                 case_id=case.id, detail={"request_id": request.id})
    session.flush()
    return request


def _view(session: Session, services: Services, request: IdentityRequest,
          who: UnlockedReviewer) -> RequestView:
    seal = next((s for s in request.seals if s.reviewer_id == who.reviewer_id), None)
    if seal is None:
        raise AccessDenied("this request was not addressed to you")
    try:
        key = open_sealed(who.private_key, seal.sealed_key)
        reason = decrypt_record(key, request.reason_ciphertext,
                                _reason_context(request)).decode("utf-8")
    except (CryptoError, UnicodeDecodeError) as exc:
        raise AccessDenied("this request does not open with your key") from exc
    record_event(session, services.clock, AuditAction.IDENTITY_REQUEST_READ, who.actor,
                 case_id=request.case_id, detail={"request_id": request.id})
    case = session.get(Case, request.case_id)
    assert case is not None
    return RequestView(id=request.id, case_id=case.id, reference=case.reference,
                       requester=request.requester.username, reason=reason,
                       status=request.status, requested_on=request.requested_at.date())


def requests_for(session: Session, services: Services, who: UnlockedReviewer, *,
                 pending_only: bool = True) -> list[RequestView]:
    """The requests addressed to this custodian (or made by this requester), newest first,
    their reasons decrypted (each reading audited)."""
    query = (select(IdentityRequest).join(IdentityRequestSeal)
             .where(IdentityRequestSeal.reviewer_id == who.reviewer_id)
             .order_by(IdentityRequest.requested_at.desc()))
    if pending_only:
        query = query.where(IdentityRequest.status == RequestStatus.PENDING)
    return [_view(session, services, r, who) for r in session.execute(query).scalars()]


def read_request(session: Session, services: Services, who: UnlockedReviewer,
                 request_id: int) -> RequestView:
    """One request addressed to (or made by) this reviewer, reason decrypted; audited."""
    request = session.get(IdentityRequest, request_id)
    if request is None:
        raise NotFound("no such request")
    return _view(session, services, request, who)


def decide_identity_request(session: Session, services: Services, who: UnlockedReviewer,
                            request_id: int, *, approve: bool) -> IdentityRequest:
    """A custodian other than the requester approves (sealing the identity key to the
    requester: audited as a grant) or refuses the request; audited."""
    request = session.get(IdentityRequest, request_id)
    if request is None:
        raise NotFound("no such request")
    custodian = session.get(Reviewer, who.reviewer_id)
    if custodian is None or not custodian.active or not custodian.identity_custodian:
        raise AccessDenied("only an identity custodian can decide this request")
    if request.requester_id == who.reviewer_id:
        raise AccessDenied("a request is decided by a custodian other than the requester")
    if request.status is not RequestStatus.PENDING:
        raise Conflict("this request has already been decided")
    if approve and not request_trusted(services.keyring, request):
        raise Conflict("this request was altered outside Candor")
    case = session.get(Case, request.case_id)
    assert case is not None
    if approve:
        requester = session.get(Reviewer, request.requester_id)
        assert requester is not None
        if is_excluded(session, case.id, requester.id) or excluded_by_reporter(
                case, services.keyring, requester.id):
            raise Conflict("the requester is excluded from this case")
        identity_key = open_reviewer_grant(session, case.id, who.reviewer_id, who.private_key,
                                           KeyKind.IDENTITY, FIRST_EPOCH)
        # A custodian on the team holds the key by their role already: the approval alone
        # lets them open it (core.cases.identity_access).
        if find_reviewer_grant(session, case.id, requester.id, KeyKind.IDENTITY,
                               FIRST_EPOCH) is None:
            grant_to_reviewer(case, requester, KeyKind.IDENTITY, identity_key,
                              services.keyring, epoch=FIRST_EPOCH)
            record_event(session, services.clock, AuditAction.CASE_GRANTED, who.actor,
                         case_id=case.id, detail={"grantee_id": requester.id,
                                                  "kinds": "identity",
                                                  "request_id": request.id})
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    request.decided_by = who.reviewer_id
    request.decided_at = services.clock.now()
    if approve:
        tag_approval(services.keyring, request)
    record_event(session, services.clock, AuditAction.IDENTITY_REQUEST_DECIDED, who.actor,
                 case_id=case.id, detail={"request_id": request.id,
                                          "decision": str(request.status)})
    session.flush()
    return request


def identity_disclosures(session: Session, keyring: Keyring, case_id: int) -> list[date]:
    """The days on which the reporter's identity was disclosed to the case team (approved
    requests, as Candor approved them), for the reporter's thread. Staff days: the reporter
    learns no staff time."""
    approved = session.execute(
        select(IdentityRequest).where(
            IdentityRequest.case_id == case_id,
            IdentityRequest.status == RequestStatus.APPROVED)
        .order_by(IdentityRequest.decided_at)
    ).scalars()
    return [request.decided_at.date() for request in approved
            if request.decided_at is not None and approval_trusted(keyring, request)]
