"""Team memberships that Candor itself wrote: a tag, under the instance account key, over a
membership's case, account and whether it is excluded.

A new key epoch (core.cases.epochs) seals the new keys to every member on record. Without the
tag, a database writer who added an account to a team (or cleared an excluded member's flag)
got the next epoch's keys sealed to it (outside tester). Memberships whose tag fails are left
out of the epoch and reported as tampered records.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.keyring import Keyring
from core.models import CaseMember
from crypto.key_tags import key_tag, tag_matches


def _owner(case_id: int, reviewer_id: int) -> str:
    return f"member:{case_id}:{reviewer_id}"


def _facts(member: CaseMember) -> bytes:
    return _facts_of(bool(member.excluded))


def _facts_of(excluded: bool) -> bytes:
    return b"excluded" if excluded else b"member"


def tag_membership(keyring: Keyring, case_id: int, member: CaseMember) -> None:
    """Authenticate a membership as Candor just wrote it (created, or excluded)."""
    member.member_tag = key_tag(keyring.account_key, _owner(case_id, member.reviewer_id),
                                _facts(member))


def membership_trusted(keyring: Keyring, case_id: int, member: CaseMember) -> bool:
    """Whether the membership is as Candor last wrote it."""
    return tag_matches(keyring.account_key, _owner(case_id, member.reviewer_id),
                       _facts(member), member.member_tag)


def tag_untagged_memberships(session: Session, keyring: Keyring) -> int:
    """After migration 0018 (`candor db upgrade`, which holds the key): tag every membership
    as it stands then, in one statement per thousand rows. Returns how many."""
    rows = session.execute(select(CaseMember.case_id, CaseMember.reviewer_id,
                                  CaseMember.excluded)
                           .where(CaseMember.member_tag.is_(None))).all()
    statement = (update(CaseMember)
                 .where(CaseMember.case_id == bindparam("c"),
                        CaseMember.reviewer_id == bindparam("r"))
                 .values(member_tag=bindparam("t")))
    for start in range(0, len(rows), 1000):
        session.connection().execute(statement, [
            {"c": case_id, "r": reviewer_id,
             "t": key_tag(keyring.account_key, _owner(case_id, reviewer_id),
                          _facts_of(bool(excluded)))}
            for case_id, reviewer_id, excluded in rows[start:start + 1000]])
    return len(rows)
