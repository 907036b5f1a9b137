"""Open cases that reach nobody, and handing one to a case handler with the recovery key.

A case reaches nobody when no one on its team (excluded members aside) has an active account:
the reporter left out every intake handler of the category, the category had none, or the whole
team left. Only the organisation recovery key can open such a case, and nobody would
acknowledge it. Admins see the references on their dashboard (`unreached_cases`); an operator
with the recovery key hands a case to a case handler with `candor assign`
(`assign_with_recovery_key`), never to someone the reporter left out.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.exclusions import excluded_by_reporter
from core.cases.grants import (
    FIRST_EPOCH,
    find_reviewer_grant,
    grant_to_reviewer,
    is_excluded,
    open_recovery_grant,
)
from core.cases.inbox_counts import lock_case, membership_added
from core.cases.membership_tags import tag_membership
from core.errors import Conflict, InvalidInput
from core.models import Case, CaseMember, KeyKind, MemberRole, Reviewer
from core.models.enums import FINAL_STATUSES
from core.services import Services
from core.staff.keys import may_hold_case_keys

#: How many references the dashboard lists (the count is always complete).
LISTED = 50


class UnreachedCases(NamedTuple):
    """How many open cases reach nobody (`total`), and the references of the oldest
    `LISTED`."""

    total: int
    references: list[str]


def _someone_reached() -> ColumnElement[bool]:
    """SQL: the case has a current member whose account is active."""
    return exists().where(CaseMember.case_id == Case.id, CaseMember.excluded.is_(False),
                          Reviewer.id == CaseMember.reviewer_id, Reviewer.active.is_(True))


def _open_unreached() -> tuple[ColumnElement[bool], ...]:
    return (Case.status.not_in(FINAL_STATUSES), Case.content_destroyed_on.is_(None),
            ~_someone_reached())


def unreached_cases(session: Session) -> UnreachedCases:
    """Open cases (not referred, inadmissible or closed, content kept) that reach nobody."""
    conditions = _open_unreached()
    count = session.execute(select(func.count(Case.id)).where(*conditions)).scalar_one()
    references = session.execute(
        select(Case.reference).where(*conditions)
        .order_by(Case.received_on, Case.reference).limit(LISTED)).scalars().all()
    return UnreachedCases(int(count), list(references))


def reaches_nobody(session: Session, case: Case) -> bool:
    """Whether this open case has no current member with an active account."""
    return bool(session.execute(
        select(func.count(Case.id)).where(Case.id == case.id, *_open_unreached())).scalar_one())


def assign_with_recovery_key(session: Session, services: Services, recovery_private_key: bytes,
                             case: Case, reviewer: Reviewer) -> None:
    """Put `reviewer` on the team of a case that reaches nobody, as an intake handler, sealing
    them every case and team key (all epochs) opened with the organisation recovery key.

    Refused (Conflict) for a case that reaches someone (its team adds colleagues in the
    console), a finished or destroyed case, a handler the reporter left out or one excluded
    from the case; InvalidInput for an account that may not hold case keys or a case whose
    recovery grant is missing; AccessDenied for a key that is not this instance's. Audited
    as CASE_RECOVERED in the caller's transaction.
    """
    if not may_hold_case_keys(reviewer):
        raise InvalidInput(f"{reviewer.username} cannot receive case keys: only an active, "
                           "approved and enrolled case handler can.", field="reviewer")
    lock_case(session, case)
    if not reaches_nobody(session, case):
        raise Conflict(f"{case.reference} reaches its team already, or is finished: its team "
                       "adds colleagues in the console.")
    member = session.get(CaseMember, (case.id, reviewer.id))
    if is_excluded(session, case.id, reviewer.id) or excluded_by_reporter(
            case, services.keyring, reviewer.id):
        raise Conflict(f"{reviewer.username} is excluded from {case.reference}: choose "
                       "another case handler.")
    for epoch in range(FIRST_EPOCH, case.key_epoch + 1):
        for kind in (KeyKind.CASE, KeyKind.TEAM):
            if find_reviewer_grant(session, case.id, reviewer.id, kind, epoch) is not None:
                continue
            key = open_recovery_grant(session, case.id, recovery_private_key, kind, epoch)
            if key is None:
                raise InvalidInput(f"{case.reference} has no recovery grant (it came in before "
                                   "the recovery key existed): nobody can hand it over.",
                                   field="case")
            grant_to_reviewer(case, reviewer, kind, key, services.keyring, epoch=epoch)
    if member is None:
        member = CaseMember.for_case(case, reviewer_id=reviewer.id, role=MemberRole.INTAKE)
        tag_membership(services.keyring, case.id, member)
        case.members.append(member)
        session.flush()
        membership_added(session, case, member)
    record_event(session, services.clock, AuditAction.CASE_RECOVERED, Actor.system(),
                 case_id=case.id, detail={"grantee_id": reviewer.id, "joined": "intake"})
    session.flush()
