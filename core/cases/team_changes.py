"""Changing a case's team: granting a colleague the case (sealing them the keys the granter
holds) and excluding a member (conflict of interest), each with its audit event. Who counts
as a member is core.cases.membership; reading the team is core.cases.team."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.casework import UnlockedReviewer, case_keys_of
from core.cases.epochs import start_epoch
from core.cases.exclusions import excluded_by_reporter
from core.cases.grants import find_reviewer_grant, grant_to_reviewer, is_excluded
from core.cases.inbox_counts import lock_case, membership_added, membership_excluded
from core.cases.lead_tags import LEAD_TAMPERED, case_leads, lead_trusted, tag_lead
from core.cases.membership import case_team_in_effect
from core.cases.membership_tags import tag_membership
from core.cases.team import get_case
from core.errors import AccessDenied, Conflict, InvalidInput
from core.keyring import Keyring
from core.models import (
    Case,
    CaseMember,
    KeyKind,
    MemberRole,
    Recipient,
    Reviewer,
    Role,
)
from core.services import Services


class LastMemberError(Conflict):
    """Excluding this member would leave the case with nobody to handle it."""


def grant_case(session: Session, services: Services, who: UnlockedReviewer, case_id: int,
               grantee: Reviewer, *, role: MemberRole = MemberRole.INVESTIGATOR,
               kinds: Sequence[KeyKind] = (KeyKind.CASE, KeyKind.TEAM)) -> None:
    """Add a reviewer to the case team by sealing the keys the granter holds to them, in
    every epoch (old records keep their epoch's keys).

    Needs someone who can already open the keys. Refused for accounts that may not hold case
    keys (core.staff.keys: inactive, not enrolled or approved, auditors, admins, a public key
    that fails its check), for anyone excluded from the case, and for the handlers the
    reporter excluded.
    """
    case = get_case(session, case_id)
    if not grantee.active or grantee.role is not Role.REVIEWER:
        raise InvalidInput("Only active case handlers can join a case team.", field="reviewer")
    lock_case(session, case)  # inbox counters: counted against the committed stage and team
    member = session.get(CaseMember, (case.id, grantee.id))
    if is_excluded(session, case.id, grantee.id) or excluded_by_reporter(
            case, services.keyring, grantee.id):
        raise Conflict("this person is excluded from the case")
    keys = case_keys_of(session, case, who)
    for kind in kinds:
        if not keys.holds(kind):
            raise AccessDenied(f"you hold no {kind} key to share")
    for (epoch, kind), key in sorted(keys.keys.items()):
        if kind in kinds and find_reviewer_grant(session, case.id, grantee.id, kind,
                                                 epoch) is None:
            grant_to_reviewer(case, grantee, kind, key, services.keyring, epoch=epoch)
    added: CaseMember | None = None
    if member is None:
        if role is MemberRole.LEAD and not lead_trusted(services.keyring, case):
            raise AccessDenied(LEAD_TAMPERED)
        added = CaseMember.for_case(case, reviewer_id=grantee.id, role=role)
        tag_membership(services.keyring, case.id, added)
        case.members.append(added)
        if role is MemberRole.LEAD:
            tag_lead(services.keyring, case)
    record_event(session, services.clock, AuditAction.CASE_GRANTED, who.actor, case_id=case.id,
                 detail={"grantee_id": grantee.id, "kinds": ",".join(sorted(map(str, kinds)))})
    if added is not None:
        membership_added(session, case, added)
    session.flush()


def may_exclude(keyring: Keyring, case: Case, reviewer_id: int) -> bool:
    """Whether this member may exclude others (and take the lead's other steps): the case
    lead, or, while the case has no lead yet, any active member (the intake handlers act
    together until one leads). Nobody, while the lead fails its tag (core.cases.lead_tags:
    a lead made or removed by SQL), and only memberships Candor wrote count."""
    if not lead_trusted(keyring, case):  # the leads' memberships included
        return False
    leads = case_leads(case.members)
    if leads:
        return reviewer_id in leads
    return reviewer_id in case_team_in_effect(keyring, case).ids()


def exclude_member(session: Session, services: Services, actor: Actor, case_id: int,
                   reviewer: Reviewer) -> None:
    """Exclude a reviewer from a case (conflict of interest): delete every grant they hold for
    it and start a new key epoch (core.cases.epochs), so that nothing written from now on
    opens with any copy of their old grants.

    Only the case lead may exclude (may_exclude; the console also asks for the passphrase).
    Refused (Conflict) for the last member not excluded: the case would vanish from every
    inbox with nobody left to handle it. A colleague is added first."""
    case = get_case(session, case_id)
    lock_case(session, case)  # inbox counters: counted against the committed stage and team
    if not lead_trusted(services.keyring, case):  # the operator's too: it would vouch for it
        raise AccessDenied(LEAD_TAMPERED)
    if actor.reviewer_id is not None and not may_exclude(services.keyring, case,
                                                         actor.reviewer_id):
        raise AccessDenied("only the case lead may exclude a member")
    member = session.get(CaseMember, (case.id, reviewer.id))
    was_active = member.role if member is not None and not member.excluded else None
    # Only members in effect are someone left to handle it (core.cases.membership).
    others = [m for m in case_team_in_effect(services.keyring, case).active
              if m.reviewer_id != reviewer.id]
    if was_active is not None and not others:
        raise LastMemberError("the last member of a case team cannot be excluded")
    if member is None:
        member = CaseMember.for_case(case, reviewer_id=reviewer.id,
                                     role=MemberRole.INVESTIGATOR)
        member.case_id = case.id
        session.add(member)
    member.excluded = True
    tag_membership(services.keyring, case.id, member)
    tag_lead(services.keyring, case)  # an excluded lead leads no more
    for grant in list(case.grants):
        if grant.recipient is Recipient.REVIEWER and grant.reviewer_id == reviewer.id:
            case.grants.remove(grant)
    record_event(session, services.clock, AuditAction.CASE_MEMBER_EXCLUDED, actor,
                 case_id=case.id, detail={"reviewer_id": reviewer.id})
    membership_excluded(session, case, reviewer.id, was_active)
    session.flush()
    if was_active is not None and case.content_destroyed_on is None:
        start_epoch(session, services, actor, case)  # (a destroyed case has no keys left)
