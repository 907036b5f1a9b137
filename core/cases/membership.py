"""Who is on a case team in effect: the one notion every check of membership reads.

A member counts when three things hold together:

* their row does not exclude them;
* Candor wrote the row as it stands (its tag verifies: core.cases.membership_tags), so a
  database writer who planted a row, or cleared an excluded member's flag, adds nobody;
* the access log does not record them as excluded (core.cases.exclusion_log), so a row put
  back from before the exclusion, with its still-valid tag, adds nobody either.

Pages, keys and steps all ask here: reaching a case's pages, whom a new epoch's keys are
sealed to, whom `candor recover` gives keys back, who may take the lead's steps before a case
has a lead, whom a step may name, and who is left when a member is excluded. (The inbox's
lists and counters are kept in SQL from the rows alone: a planted row can list a case there,
whose pages then answer 404.)

Retention removes the tags with everything else of a case whose content it destroyed
(core.cases.shredding): such a case has no key or content left, and its rows alone (with the
log) say who reaches its notice and history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.cases.exclusion_log import logged_exclusions, logged_exclusions_of
from core.cases.membership_tags import membership_trusted
from core.keyring import Keyring
from core.models import Case, CaseMember

__all__ = ["Team", "active_membership", "case_team_in_effect"]


@dataclass(frozen=True)
class Team:
    """A case's rows sorted: the `active` members, and the rows that claim membership but
    do not count (`untrusted`: a tag that fails, or an exclusion the log records), which a
    step that would give them something reports as tampered records."""

    active: tuple[CaseMember, ...]
    untrusted: tuple[CaseMember, ...]

    def ids(self) -> frozenset[int]:
        """The active members' account ids."""
        return frozenset(member.reviewer_id for member in self.active)

    def member(self, reviewer_id: int) -> CaseMember | None:
        """The active member with this account, if any."""
        return next((m for m in self.active if m.reviewer_id == reviewer_id), None)


def _written_by_candor(keyring: Keyring, case: Case, member: CaseMember) -> bool:
    """The row's tag verifies, or retention took the tags with the case's content."""
    return (membership_trusted(keyring, case.id, member)
            or case.content_destroyed_on is not None)


def case_team_in_effect(keyring: Keyring, case: Case) -> Team:
    """The case's team as it counts (module docstring): one query, the log's exclusions
    (a case outside any session has none to read)."""
    logged = logged_exclusions_of(case)
    active: list[CaseMember] = []
    untrusted: list[CaseMember] = []
    for member in case.members:
        if not member.excluded:
            counts = (_written_by_candor(keyring, case, member)
                      and member.reviewer_id not in logged)
            (active if counts else untrusted).append(member)
    return Team(tuple(active), tuple(untrusted))


def active_membership(session: Session, keyring: Keyring, case_id: int,
                      reviewer_id: int) -> CaseMember | None:
    """The reviewer's membership of the case if it counts (module docstring), else None.
    One query for the row, one for the log when the row counts so far."""
    member = session.get(CaseMember, (case_id, reviewer_id))
    case = session.get(Case, case_id)
    if (member is None or case is None or member.excluded
            or not _written_by_candor(keyring, case, member)):
        return None
    if reviewer_id in logged_exclusions(session, case_id):
        return None
    return member
