"""Who leads a case: the member chosen (a member on a membership Candor wrote), handing the
lead over with its tag and audit event, and the operator's `candor lead` for a case whose team
cannot name a lead itself. The steps that choose a lead (scope decision, hand-over) are in
core.cases.workflow."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.cases.inbox_counts import lock_case, role_changed
from core.cases.lead_tags import case_leads, lead_trusted, tag_lead
from core.cases.membership import case_team_in_effect
from core.errors import Conflict, InvalidInput
from core.keyring import Keyring
from core.models import Case, CaseMember, MemberRole, Reviewer
from core.services import Services
from core.staff.keys import standing_trusted


def active_member(keyring: Keyring, case: Case, reviewer_id: int) -> CaseMember:
    """A member of the team in effect (core.cases.membership): a member planted by SQL, or
    put back after their exclusion, is not made lead, nor given a part."""
    member = case_team_in_effect(keyring, case).member(reviewer_id)
    if member is None:
        raise InvalidInput("Choose a member of the case team.", field="reviewer")
    return member


def set_lead(session: Session, services: Services, actor: Actor, case: Case,
             new_lead: CaseMember) -> None:
    """Make `new_lead` the lead; the previous lead stays on the team as an investigator."""
    for member in case.members:
        if member.role is MemberRole.LEAD and not member.excluded and member is not new_lead:
            member.role = MemberRole.INVESTIGATOR
            role_changed(session, case, member.reviewer_id, MemberRole.LEAD,
                         MemberRole.INVESTIGATOR)
    if new_lead.role is not MemberRole.LEAD:
        role_changed(session, case, new_lead.reviewer_id, new_lead.role, MemberRole.LEAD)
        new_lead.role = MemberRole.LEAD
    tag_lead(services.keyring, case)  # exactly the lead just chosen: see core.cases.lead_tags
    record_event(session, services.clock, AuditAction.CASE_LEAD_CHANGED, actor,
                 case_id=case.id, detail={"lead_id": new_lead.reviewer_id})


def name_lead_by_operator(session: Session, services: Services, case: Case,
                          reviewer: Reviewer) -> None:
    """The operator names the lead (`candor lead`): of a case whose lead failed its tag
    (core.cases.lead_tags), or whose lead can no longer act (deactivated, say), so that
    nobody on the team could take the lead's steps. The new lead is a member on a
    membership Candor wrote whose account can act (`_can_act`). Audited as
    CASE_LEAD_CHANGED by the system."""
    lock_case(session, case)
    if case.content_destroyed_on is not None:
        raise Conflict("the case's content was destroyed: there is nothing left to lead")
    _require_stuck_lead(services.keyring, case)
    if not _can_act(services.keyring, reviewer):
        raise InvalidInput(f"{reviewer.username} cannot act (deactivated, waiting for "
                           "approval, or the account was changed outside Candor): name "
                           "another member.", field="reviewer")
    set_lead(session, services, Actor.system(), case,
             active_member(services.keyring, case, reviewer.id))


def _require_stuck_lead(keyring: Keyring, case: Case) -> None:
    """Conflict unless the team cannot name its lead itself: the lead fails its tag, or no
    lead's account can act. A working lead hands over on the case page, and a case with no
    lead yet gets one from its team with the scope decision (an operator does not overrule
    either; an unreached case is `candor assign`'s)."""
    if not lead_trusted(keyring, case):
        return
    lead_ids = case_leads(case.members)
    leads = [m for m in case.members if m.reviewer_id in lead_ids]
    if not leads:
        raise Conflict(f"case {case.reference} has no lead yet: any member of its team takes "
                       "the lead's steps, and the team names its lead with the scope decision")
    acting = [m.reviewer.username for m in leads if _can_act(keyring, m.reviewer)]
    if acting:
        names = ", ".join(acting)
        raise Conflict(f"{names} leads case {case.reference} and can hand the lead over on "
                       "the case page: `candor lead` is for a case whose lead cannot")


def _can_act(keyring: Keyring, reviewer: Reviewer) -> bool:
    """Whether the account can log in and take a lead's steps: active, approved, and as
    Candor last wrote it (core.staff.keys: a writer's flipped flag is not believed)."""
    return reviewer.active and reviewer.approved and standing_trusted(keyring, reviewer)
