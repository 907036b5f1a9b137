"""Lookups beside the inbox page: the leads of the page's cases, and a case by reference."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.references import normalised_reference
from core.models import Case, CaseMember, MemberRole, Reviewer


def page_leads(session: Session, case_ids: list[int]) -> dict[int, str]:
    """The lead's username of each of these cases that has one (one query)."""
    if not case_ids:
        return {}
    return {case_id: name for case_id, name in session.execute(
        select(CaseMember.case_id, Reviewer.username)
        .join(Reviewer, Reviewer.id == CaseMember.reviewer_id)
        .where(CaseMember.case_id.in_(case_ids), CaseMember.role == MemberRole.LEAD,
               CaseMember.excluded.is_(False)))}


def find_by_reference(session: Session, reviewer_id: int, reference: str) -> int | None:
    """The id of the case with this reference (typed in either case, with or without its
    "C-"), if the reviewer is on its team; others' cases are not found."""
    wanted = normalised_reference(reference)
    if not wanted or len(wanted) > 32:
        return None
    return session.execute(
        select(Case.id).join(CaseMember, CaseMember.case_id == Case.id)
        .where(Case.reference == wanted, CaseMember.reviewer_id == reviewer_id,
               CaseMember.excluded.is_(False))).scalar_one_or_none()
