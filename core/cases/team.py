"""Who is on a case: its team, membership checks, and the colleagues who could be added.

Read-only lookups for the console's case pages. Changing the team (grant, exclude) is in
core.cases.team_changes, where each change writes its audit event.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.exclusion_log import logged_exclusions
from core.cases.exclusions import excluded_by_reporter
from core.cases.membership import active_membership
from core.errors import NotFound
from core.keyring import Keyring
from core.models import Attachment, Case, CaseMember, Reviewer, Role
from core.staff.keys import may_hold_case_keys


class TeamMember(NamedTuple):
    """A place on a case team, with the account holding it (unpacks as (member, reviewer))."""

    member: CaseMember
    reviewer: Reviewer


def get_case(session: Session, case_id: int) -> Case:
    """The case, or NotFound."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("no such case")
    return case


def is_active_member(session: Session, keyring: Keyring, case_id: int,
                     reviewer_id: int) -> bool:
    """True if the reviewer is on the case team in effect (core.cases.membership: not
    excluded by their row or by the access log, on a membership Candor wrote)."""
    return active_membership(session, keyring, case_id, reviewer_id) is not None


def get_member(session: Session, case_id: int, reviewer_id: int) -> TeamMember:
    """A current (not excluded) member of the case, or NotFound."""
    member = session.get(CaseMember, (case_id, reviewer_id))
    reviewer = session.get(Reviewer, reviewer_id)
    if (member is None or member.excluded or reviewer is None
            or reviewer_id in logged_exclusions(session, case_id)):
        raise NotFound("no such member")
    return TeamMember(member, reviewer)


def case_team(session: Session, case_id: int) -> list[TeamMember]:
    """Everyone on the case team (excluded members too, marked as such), by username."""
    rows = session.execute(
        select(CaseMember, Reviewer).join(Reviewer, Reviewer.id == CaseMember.reviewer_id)
        .where(CaseMember.case_id == case_id).order_by(Reviewer.username)).all()
    return [TeamMember(member, reviewer) for member, reviewer in rows]


def grant_candidates(session: Session, case: Case, keyring: Keyring) -> list[Reviewer]:
    """Case handlers who may receive case keys (active, approved, enrolled) and are not on
    the team yet (excluded members are on it: they cannot be granted again), without those
    the reporter left out. Anyone not offered would be refused (core.cases.team_changes.grant_case).

    Leaving out the reporter's exclusions tells the team who they are, as a refused grant
    did before; the database alone still holds only keyed tags (core.cases.exclusions)."""
    on_case = select(CaseMember.reviewer_id).where(CaseMember.case_id == case.id)
    found = session.execute(
        select(Reviewer).where(Reviewer.active.is_(True), Reviewer.role == Role.REVIEWER,
                               Reviewer.id.not_in(on_case))
        .order_by(Reviewer.username)).scalars()
    return [reviewer for reviewer in found if may_hold_case_keys(reviewer)
            and not excluded_by_reporter(case, keyring, reviewer.id)]


def get_case_file(session: Session, case_id: int, file_id: int) -> Attachment:
    """A file of this case, or NotFound (a file of another case is not found either)."""
    attachment = session.get(Attachment, file_id)
    if attachment is None or attachment.case_id != case_id:
        raise NotFound("no such file")
    return attachment
