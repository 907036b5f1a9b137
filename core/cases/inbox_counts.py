"""Per-reviewer inbox counters: how many visible cases each (assigned, status, category) holds.

The inbox shows, next to each filter value, how many cases picking it would list. Counting
them from the cases means reading every case the reviewer can see on every page view, which
grows with the archive. The table `inbox_counts` (core.models.InboxCount) holds those numbers
instead, one row per reviewer x assigned x status x category: a few hundred rows per reviewer at
most, whatever the number of cases.

Maintenance rules (every write path must follow them, in the SAME transaction as the change):

* a new non-excluded membership adds 1 to its cell (`membership_added`; `case_created` for
  the intake members of a new case);
* excluding a member subtracts 1 from the cell it was in (`membership_excluded`);
* a change of a case's stage or category moves each non-excluded member's 1 from the old cell
  to the new one (`case_changed`).

The same rules keep the inbox keys of `case_members` (copies of the case's stage, category and
dates, which the inbox filters and sorts on; core.models.CaseMember) in step: a membership is
created with them (`CaseMember.for_case`), and every change of a case's stage, category or
dates is followed by `sync_member_keys`, after `lock_case` and in the same transaction.

Concurrency. Deltas are applied as `INSERT ... ON CONFLICT DO UPDATE SET count = count + d`
(core.models.upsert): a missing cell is created, an existing one bumped under its row lock, and no
unique violation is ever raised (PostgreSQL would log it with the cell's values). Deltas are applied
in key order so that two transactions touching the same cells never wait on each other in opposite
orders. Computing a delta needs the case's current stage and team, so the use cases that change
either of them on an existing case first call `lock_case`, which takes the case row lock (SELECT ...
FOR UPDATE) and re-reads the case and its team: two concurrent changes of one case are then applied
one after the other, each against the state the other left. The use cases call `lock_case` before
their first audit event and the counter functions after it, so every transaction takes its locks in
the order case row, audit head, counter rows (a reporter's transaction takes no audit head lock: its
events are queued, core.audit.log), and no two can deadlock; a case's membership rows (whose inbox
keys `sync_member_keys` rewrites last) are only ever written under its case row lock. On SQLite
every transaction starts with BEGIN IMMEDIATE (core.db), which serialises writers anyway; FOR UPDATE
is simply not emitted.

Writes that bypass the use cases (bulk loads, manual repairs) must end with
`rebuild_inbox_counts`, which recomputes the whole table from cases and memberships and copies
the inbox keys of every membership from its case again; a test checks that incremental
maintenance always equals a rebuild.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from core.models import Case, CaseMember, CaseStatus, InboxCount, MemberRole
from core.models.case import member_inbox_keys

# Roles that put a reviewer explicitly on a case team ("Assigned to me"), as opposed to
# INTAKE, which routes every case of a category to its intake reviewers.
from core.models.enums import ASSIGNED_ROLES
from core.models.upsert import conflict_insert
from core.statistics.staleness import hold_case_month

#: The `category_id` stored for a case without a category.
NO_CATEGORY = 0

_counts = cast(Table, InboxCount.__table__)


class CountKey(NamedTuple):
    """One cell of the counters."""

    reviewer_id: int
    assigned: bool
    status: CaseStatus
    category_id: int


def _key(reviewer_id: int, role: MemberRole, status: CaseStatus,
         category_id: int | None) -> CountKey:
    return CountKey(reviewer_id, role in ASSIGNED_ROLES, status,
                    NO_CATEGORY if category_id is None else category_id)


def _sort_key(key: CountKey) -> tuple[int, bool, str, int]:
    return (key.reviewer_id, key.assigned, str(key.status), key.category_id)


def apply_deltas(session: Session, deltas: Counter[CountKey]) -> None:
    """Add each delta to its counter row, creating missing rows safely under concurrency."""
    for key in sorted((k for k, d in deltas.items() if d), key=_sort_key):
        delta = deltas[key]
        upsert = conflict_insert(session, _counts).values(
            reviewer_id=key.reviewer_id, assigned=key.assigned, status=key.status,
            category_id=key.category_id, count=delta)
        session.execute(upsert.on_conflict_do_update(
            index_elements=[_counts.c.reviewer_id, _counts.c.assigned, _counts.c.status,
                            _counts.c.category_id],
            set_={"count": _counts.c.count + delta}))


def lock_case(session: Session, case: Case) -> None:
    """Lock the case row for the rest of the transaction and re-read it and its team, and
    hold its statistics month (core.statistics.staleness.hold_case_month).

    Call before reading the stage or the team to change them (see the module docstring): the
    refreshed values are the committed ones, so the counter deltas are computed from the state
    actually being changed.
    """
    # The rows must be consumed: populate_existing refreshes objects as rows are loaded.
    # FOR NO KEY UPDATE (key_share) on PostgreSQL: it still serialises changes to the case,
    # but lets rows that merely reference it (messages, events) be inserted meanwhile, so a
    # transaction holding the audit log's head cannot deadlock with this one.
    session.execute(select(Case).where(Case.id == case.id).with_for_update(key_share=True)
                    .execution_options(populate_existing=True)).scalar_one()
    session.execute(select(CaseMember).where(CaseMember.case_id == case.id)
                    .execution_options(populate_existing=True)).scalars().all()
    # Its statistics month too, before the audit head (core.statistics.staleness).
    hold_case_month(session, case)


def _active_members(session: Session, case_id: int) -> list[tuple[int, MemberRole]]:
    return [(r, role) for r, role in session.execute(
        select(CaseMember.reviewer_id, CaseMember.role)
        .where(CaseMember.case_id == case_id, CaseMember.excluded.is_(False)))]


def case_created(session: Session, case: Case) -> None:
    """Count the (non-excluded) members a new case was created with. Call after a flush."""
    deltas: Counter[CountKey] = Counter()
    for reviewer_id, role in _active_members(session, case.id):
        deltas[_key(reviewer_id, role, case.status, case.category_id)] += 1
    apply_deltas(session, deltas)


def membership_added(session: Session, case: Case, member: CaseMember) -> None:
    """Count a membership just added to an existing (locked) case."""
    if not member.excluded:
        apply_deltas(session, Counter(
            {_key(member.reviewer_id, member.role, case.status, case.category_id): 1}))


def membership_excluded(session: Session, case: Case, reviewer_id: int,
                        role: MemberRole | None) -> None:
    """Uncount a membership that was active (role given) and has just been excluded; nothing
    to do when the reviewer was not a member (role None) or already excluded."""
    if role is not None:
        apply_deltas(session, Counter(
            {_key(reviewer_id, role, case.status, case.category_id): -1}))


def role_changed(session: Session, case: Case, reviewer_id: int, old: MemberRole,
                 new: MemberRole) -> None:
    """Move an active member's count of a (locked) case from their old role to the new one
    (only INTAKE and the assigned roles count differently)."""
    deltas: Counter[CountKey] = Counter()
    deltas[_key(reviewer_id, old, case.status, case.category_id)] -= 1
    deltas[_key(reviewer_id, new, case.status, case.category_id)] += 1
    apply_deltas(session, deltas)


def case_changed(session: Session, case: Case, *, old_status: CaseStatus,
                 old_category_id: int | None) -> None:
    """Move every active member's count of a (locked) case from its old stage and category to
    the current ones."""
    if old_status is case.status and old_category_id == case.category_id:
        return
    deltas: Counter[CountKey] = Counter()
    for reviewer_id, role in _active_members(session, case.id):
        deltas[_key(reviewer_id, role, old_status, old_category_id)] -= 1
        deltas[_key(reviewer_id, role, case.status, case.category_id)] += 1
    apply_deltas(session, deltas)


def sync_member_keys(session: Session, case: Case) -> None:
    """Copy a (locked) case's stage, category and dates to its memberships' inbox keys. Call
    after every change of any of them, in the same transaction (after `lock_case`)."""
    # ORM-enabled UPDATE: membership objects already in the session are updated too.
    session.execute(update(CaseMember).where(CaseMember.case_id == case.id)
                    .values(**member_inbox_keys(case)))


#: The inbox keys of case_members and the case columns they copy.
_MEMBER_KEYS = ("status", "category_id", "received_on", "acknowledge_due", "feedback_due",
                "priority", "review_requested", "actions_due")


def stale_member_keys(session: Session) -> int:
    """How many memberships hold inbox keys that differ from their case's columns."""
    return int(session.execute(
        select(func.count()).select_from(CaseMember).join(Case, Case.id == CaseMember.case_id)
        .where(or_(*(_differs(getattr(CaseMember, k), getattr(Case, k))
                     for k in _MEMBER_KEYS)))).scalar_one())


def _differs(a: ColumnElement[object], b: ColumnElement[object]) -> ColumnElement[bool]:
    return or_(a != b, a.is_(None) != b.is_(None))


def _resync_member_keys(session: Session) -> None:
    """Copy the inbox keys of every membership whose copy is stale from its case."""
    cm = cast(Table, CaseMember.__table__)
    cases = cast(Table, Case.__table__)
    source = {k: select(cases.c[k]).where(cases.c.id == cm.c.case_id).scalar_subquery()
              for k in _MEMBER_KEYS}
    stale = select(cases.c.id).where(cases.c.id == cm.c.case_id, or_(
        *(_differs(cm.c[k], cases.c[k]) for k in _MEMBER_KEYS))).exists()
    session.execute(update(cm).where(stale).values(**source))


def computed_counts(session: Session) -> dict[CountKey, int]:
    """The counters as they should be, computed from cases and memberships (full scan)."""
    assigned = sql_case((CaseMember.role.in_(ASSIGNED_ROLES), True), else_=False).label("a")
    category = func.coalesce(Case.category_id, NO_CATEGORY).label("c")
    query = (select(CaseMember.reviewer_id, assigned, Case.status, category, func.count())
             .join(Case, Case.id == CaseMember.case_id)
             .where(CaseMember.excluded.is_(False))
             .group_by(CaseMember.reviewer_id, assigned, Case.status, category))
    return {CountKey(r, bool(a), CaseStatus(s), int(c)): int(n)
            for r, a, s, c, n in session.execute(query)}


def stored_counts(session: Session) -> dict[CountKey, int]:
    """The counters as stored, without the rows that hold 0."""
    return {CountKey(r, bool(a), CaseStatus(s), int(c)): int(n)
            for r, a, s, c, n in session.execute(
                select(_counts.c.reviewer_id, _counts.c.assigned, _counts.c.status,
                       _counts.c.category_id, _counts.c.count).where(_counts.c.count != 0))}


def rebuild_inbox_counts(session: Session) -> int:
    """Recompute the whole counter table from cases and memberships, and repair the inbox keys
    of the memberships (copied again from their cases where they differ); returns the counter
    table's row count.

    The repair tool, and the last step of any bulk load that bypasses the use cases. On
    PostgreSQL the table is locked against concurrent writers (SHARE ROW EXCLUSIVE) first:
    transactions that already changed counters are waited for and are part of the recount;
    those that come later apply their deltas to the rebuilt rows.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE inbox_counts IN SHARE ROW EXCLUSIVE MODE"))
    _resync_member_keys(session)
    session.execute(delete(_counts))
    rows = _rows(computed_counts(session).items())
    if rows:
        session.execute(insert(_counts), rows)
    return len(rows)


def _rows(items: Iterable[tuple[CountKey, int]]) -> list[dict[str, object]]:
    return [{"reviewer_id": k.reviewer_id, "assigned": k.assigned, "status": k.status,
             "category_id": k.category_id, "count": n} for k, n in items]
