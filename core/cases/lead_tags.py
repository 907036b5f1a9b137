"""Who leads a case, as Candor set it: a tag, under the instance account key, over the case's
lead (the team members whose role is lead and who are not excluded; none before the scope
decision names one).

The lead alone may exclude members, record the decision, close, reopen and hold a case
(core.cases.team_changes.may_exclude). Without the tag, a team member who could also write the
database made themselves lead by SQL, or removed the lead's row so that every member could
act as lead. A case whose lead fails its tag has no lead at all until an operator names one
(`candor lead`): nobody's lead-only step is taken on the writer's word.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.cases.membership import case_team_in_effect
from core.keyring import Keyring
from core.models import Case, CaseMember, MemberRole
from crypto.key_tags import key_tag, tag_matches

#: Why a lead-only step is refused on a case whose lead fails its tag.
LEAD_TAMPERED = ("the case's lead was changed outside Candor (someone wrote to the database): "
                 "an operator names the lead again with `candor lead`")


def case_leads(members: list[CaseMember]) -> list[int]:
    """The ids of the members who lead (one, or none before the scope decision)."""
    return sorted(m.reviewer_id for m in members
                  if m.role is MemberRole.LEAD and not m.excluded)


def _owner(case_id: int) -> str:
    return f"case-lead:{case_id}"


def _facts(leads: list[int]) -> bytes:
    return ("lead:" + ",".join(map(str, leads))).encode()


def tag_lead(keyring: Keyring, case: Case) -> None:
    """Authenticate the case's lead as Candor just set it (a new case, a lead chosen or
    handed over, a member excluded)."""
    assert case.id is not None, "the tag names the case: give it its id first"
    case.lead_tag = key_tag(keyring.account_key, _owner(case.id),
                            _facts(case_leads(case.members)))


def lead_trusted(keyring: Keyring, case: Case) -> bool:
    """Whether the case's lead is as Candor last set it, on a membership Candor wrote (second
    reader: with the lead's membership tag broken, the rule "no lead, every member acts"
    applied)."""
    leads = case_leads(case.members)
    # Each lead a member in effect (core.cases.membership): on a membership Candor wrote,
    # and not a row put back (with the case's lead tag) after the log excluded them.
    return (tag_matches(keyring.account_key, _owner(case.id), _facts(leads), case.lead_tag)
            and set(leads) <= case_team_in_effect(keyring, case).ids())


def tag_untagged_leads(session: Session, keyring: Keyring) -> int:
    """After migration 0019 (`candor db upgrade`, which holds the key): tag every case's lead
    as it stands then, a thousand cases per statement. Returns how many."""
    untagged = list(session.execute(select(Case.id).where(Case.lead_tag.is_(None))).scalars())
    leads: dict[int, list[int]] = {}
    for case_id, reviewer_id in session.execute(
            select(CaseMember.case_id, CaseMember.reviewer_id)
            .where(CaseMember.role == MemberRole.LEAD, CaseMember.excluded.is_(False))):
        leads.setdefault(case_id, []).append(reviewer_id)
    statement = update(Case).where(Case.id == bindparam("case")).values(
        lead_tag=bindparam("tag"))
    for start in range(0, len(untagged), 1000):
        session.connection().execute(statement, [
            {"case": case_id, "tag": key_tag(keyring.account_key, _owner(case_id),
                                             _facts(sorted(leads.get(case_id, []))))}
            for case_id in untagged[start:start + 1000]])
    return len(untagged)
