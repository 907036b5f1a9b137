"""The inbox use case, its counters and the memberships' inbox keys, against a brute-force
reading of every case.

Data is arranged through the use cases (submission on shifted days, stage changes, replies,
grants, exclusions), so the counters and the inbox keys (copies of the case's stage, category
and dates on each membership) under test are the ones the app maintains incrementally; after
every use case the copies are checked against the cases.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit.log import Actor
from core.cases.casework import change_status, post_reviewer_message, send_message
from core.cases.inbox import Due, InboxFilter, InboxPage, Sort, inbox_page
from core.cases.inbox_counts import (
    computed_counts,
    rebuild_inbox_counts,
    stale_member_keys,
    stored_counts,
    sync_member_keys,
)
from core.cases.kinds import allowed_in
from core.cases.team_changes import LastMemberError, exclude_member, grant_case
from core.db import transaction
from core.models import (
    Case,
    CaseMember,
    CasePriority,
    CaseStatus,
    Category,
    MemberRole,
    MessageKind,
    Reviewer,
)
from core.services import Services
from tests.core.cases.inbox_oracle import brute_force, due_soon, overdue
from tests.core.factories import (
    ReviewerHandle,
    add_reviewer,
    next_stages,
    seed_categories,
    submit,
    walk_to,
)

TODAY = date(2026, 6, 15)


def _at(services: Services, day: date) -> None:
    services.clock.now = lambda: datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


REPLIES = [k for k in MessageKind if k is not MessageKind.REPORTER_MESSAGE]
#: The membership columns that copy the case's column of the same name.
INBOX_KEYS = ("status", "category_id", "received_on", "acknowledge_due", "feedback_due")


def assert_keys_in_step(s: Session) -> None:
    """Every membership's inbox keys equal its case's columns (read back from the database,
    not from the session), and the SQL check used by the repair agrees."""
    s.expire_all()
    cases = {c.id: c for c in s.execute(select(Case)).scalars()}
    members = list(s.execute(select(CaseMember)).scalars())
    assert members
    for m in members:
        case = cases[m.case_id]
        assert {k: getattr(m, k) for k in INBOX_KEYS} \
            == {k: getattr(case, k) for k in INBOX_KEYS}, (m.case_id, m.reviewer_id)
    assert stale_member_keys(s) == 0


@dataclass
class World:
    alice: ReviewerHandle  # intake for it_fault and security
    bob: ReviewerHandle  # intake for it_fault
    carol: ReviewerHandle  # no intake: only what she is granted
    case_ids: list[int]


def _build(session_factory: sessionmaker[Session], services: Services, rng: random.Random,
           n_cases: int = 24) -> World:
    alice = add_reviewer(session_factory, services, "alice")
    bob = add_reviewer(session_factory, services, "bob")
    carol = add_reviewer(session_factory, services, "carol")
    seed_categories(session_factory, {"it_fault": [alice.id, bob.id], "security": [alice.id],
                                      "environment": [bob.id]}, services=services)
    case_ids = []
    for _ in range(n_cases):
        _at(services, TODAY - timedelta(days=rng.randrange(0, 200)))
        category = rng.choice(["it_fault", "security", "environment", "other"])
        case_ids.append(submit(session_factory, services, category=category).case_id)
    _at(services, TODAY)
    for case_id in case_ids:
        with transaction(session_factory) as s:
            case = s.get(Case, case_id)
            assert case is not None
            holders = [m.reviewer_id for m in case.members]
            if rng.random() < 0.7:
                change_status(s, services, Actor.system(), case,
                              rng.choice(next_stages(s, case)))
            kinds = [k for k in REPLIES if allowed_in(k, case.status)]
            if holders and kinds and rng.random() < 0.3:
                replier = {alice.id: alice, bob.id: bob}[holders[0]]
                send_message(s, services, replier.unlocked, case_id, rng.choice(kinds),
                             "A reply.")
            if holders and rng.random() < 0.4:
                granter = {alice.id: alice, bob.id: bob}[holders[0]]
                grantee = s.get(Reviewer, carol.id if rng.random() < 0.7 else
                                (bob.id if granter is alice else alice.id))
                assert grantee is not None
                grant_case(s, services, granter.unlocked, case_id, grantee,
                           role=rng.choice([MemberRole.LEAD, MemberRole.INVESTIGATOR]))
            if rng.random() < 0.2:
                target = s.get(Reviewer, rng.choice([alice.id, bob.id, carol.id]))
                assert target is not None
                # The last member of a team cannot be excluded: the draw is then a no-op.
                with contextlib.suppress(LastMemberError), s.begin_nested():
                    exclude_member(s, services, Actor.system(), case_id, target)
            if rng.random() < 0.4:  # the case-cycle columns the inbox filters on
                case.priority = rng.choice(list(CasePriority))
                case.review_requested = rng.random() < 0.3
                case.actions_due = rng.choice([None, TODAY - timedelta(days=3),
                                               TODAY + timedelta(days=5),
                                               TODAY + timedelta(days=40)])
                sync_member_keys(s, case)
            if rng.random() < 0.3:  # a second move, after the team changed
                change_status(s, services, Actor.system(), case,
                              rng.choice(next_stages(s, case)))
    with session_factory() as s:
        assert_keys_in_step(s)
    return World(alice, bob, carol, case_ids)


# --- brute force -------------------------------------------------------------------------------

def _check(s: Session, reviewer_id: int, filt: InboxFilter, today: date) -> InboxPage:
    got = inbox_page(s, reviewer_id, filt, today)
    want = brute_force(s, reviewer_id, filt, today)
    context = (reviewer_id, filt, today)
    assert got.total == want.total, context
    assert got.by_status == want.by_status, context
    assert got.by_category == want.by_category, context
    assert got.by_due == want.by_due, context
    assert got.all_visible == want.all_visible, context
    assert [r.id for r in got.rows] == [c.id for c in want.rows], context  # type: ignore[attr-defined]
    for row in got.rows:
        case = s.get(Case, row.id)
        assert case is not None
        assert (row.overdue, row.due_soon) == (overdue(case, today), due_soon(case, today))
        assert row.status is case.status and row.received_on == case.received_on
        assert (row.priority, row.review_requested, row.actions_due) == (
            case.priority, case.review_requested, case.actions_due)
    return got


def test_pages_and_counts_match_brute_force(session_factory, services):
    rng = random.Random(20261128)
    world = _build(session_factory, services, rng)
    with session_factory() as s:
        category_ids = list(s.execute(select(Category.id)).scalars())
        assert stored_counts(s) == computed_counts(s)
        for reviewer in (world.alice, world.bob, world.carol):
            for today in (TODAY, TODAY - timedelta(days=60), TODAY + timedelta(days=90)):
                _check(s, reviewer.id, InboxFilter(), today)
                for sort in Sort:
                    for page in (1, 2, 5):
                        _check(s, reviewer.id, InboxFilter(sort=sort, page=page, per_page=3),
                               today)
            for _ in range(60):
                filt = InboxFilter(
                    status=rng.choice([None, None, *CaseStatus]),
                    category_id=rng.choice([None, None, 0, *category_ids]),
                    due=rng.choice([None, None, *Due]),
                    assigned_to_me=rng.random() < 0.3,
                    priority=rng.choice([None, None, None, *CasePriority]),
                    leading=rng.random() < 0.2,
                    not_satisfied=rng.random() < 0.2,
                    actions_due=rng.random() < 0.2,
                    sort=rng.choice(list(Sort)),
                    page=rng.choice([1, 1, 2, 3, 10]),
                    per_page=rng.choice([1, 2, 4, 50]),
                )
                _check(s, reviewer.id, filt, TODAY + timedelta(days=rng.randrange(-90, 120)))


def test_inbox_keys_follow_every_use_case(session_factory, services):
    """Submission, replies that acknowledge or change the stage, stage changes (including one
    that only moves the feedback deadline), grants and exclusions keep the copies in step."""
    alice = add_reviewer(session_factory, services, "alice")
    bob = add_reviewer(session_factory, services, "bob")
    carol = add_reviewer(session_factory, services, "carol")
    dave = add_reviewer(session_factory, services, "dave")
    seed_categories(session_factory, {"it_fault": [alice.id, bob.id], "security": [alice.id]},
                    services=services)
    _at(services, TODAY - timedelta(days=30))
    first = submit(session_factory, services).case_id
    second = submit(session_factory, services, category="security").case_id
    third = submit(session_factory, services).case_id
    _at(services, TODAY)

    def step(action) -> Case:  # type: ignore[no-untyped-def]
        with transaction(session_factory) as s:
            action(s)
        with session_factory() as s:
            assert_keys_in_step(s)
            return s.get(Case, first)  # type: ignore[return-value]

    step(lambda s: None)  # after submission
    # An information reply acknowledges: status and feedback deadline move.
    case = step(lambda s: post_reviewer_message(s, services, alice.unlocked, first,
                                                MessageKind.INFORMATION, "Thanks."))
    assert case.status is CaseStatus.ACKNOWLEDGED and case.feedback_due != \
        case.acknowledge_due
    case = step(lambda s: post_reviewer_message(s, services, bob.unlocked, first,
                                                MessageKind.CLARIFICATION_REQUEST, "Which?"))
    assert case.status is CaseStatus.INFO_NEEDED
    step(lambda s: post_reviewer_message(s, services, alice.unlocked, first,
                                         MessageKind.INTERNAL_NOTE, "Note."))
    step(lambda s: walk_to(s, services, Actor.system(), s.get(Case, first),
                           CaseStatus.DECIDED))
    case = step(lambda s: send_message(s, services, alice.unlocked, first,
                                       MessageKind.FEEDBACK, "Outcome."))
    assert case.status is CaseStatus.FEEDBACK_GIVEN
    # A clarification request straight from "received" (acknowledges too).
    step(lambda s: post_reviewer_message(s, services, alice.unlocked, second,
                                         MessageKind.CLARIFICATION_REQUEST, "When?"))

    def move(case_id: int, status: CaseStatus):  # type: ignore[no-untyped-def]
        def run(s: Session) -> None:
            target = s.get(Case, case_id)
            assert target is not None
            walk_to(s, services, Actor.system(), target, status)
        return run

    # "received" -> "acknowledged": the dates change too.
    with session_factory() as s:
        before = s.get(Case, third)
        assert before is not None
        due_before = before.feedback_due
    step(move(third, CaseStatus.ACKNOWLEDGED))
    with session_factory() as s:
        after = s.get(Case, third)
        assert after is not None and after.feedback_due != due_before
    for status in (CaseStatus.UNDER_INVESTIGATION, CaseStatus.CLOSED,
                   CaseStatus.UNDER_INVESTIGATION):
        step(move(first, status))

    def grant(case_id: int, grantee_id: int, role: MemberRole):  # type: ignore[no-untyped-def]
        def run(s: Session) -> None:
            grantee = s.get(Reviewer, grantee_id)
            assert grantee is not None
            grant_case(s, services, alice.unlocked, case_id, grantee, role=role)
        return run

    def exclude(case_id: int, reviewer_id: int):  # type: ignore[no-untyped-def]
        def run(s: Session) -> None:
            target = s.get(Reviewer, reviewer_id)
            assert target is not None
            exclude_member(s, services, Actor.system(), case_id, target)
        return run

    step(grant(first, carol.id, MemberRole.LEAD))
    step(grant(second, carol.id, MemberRole.INVESTIGATOR))
    step(exclude(first, bob.id))  # an existing member
    step(exclude(second, dave.id))  # not a member yet: an excluded membership is created
    step(move(second, CaseStatus.DECIDED))  # the excluded membership follows too
    with session_factory() as s:
        member = s.get(CaseMember, (second, dave.id))
        assert member is not None and member.excluded and member.status is CaseStatus.DECIDED
        assert stored_counts(s) == computed_counts(s)
        for reviewer in (alice, bob, carol, dave):
            for filt in (InboxFilter(), InboxFilter(due=Due.OVERDUE),
                         InboxFilter(assigned_to_me=True), InboxFilter(sort=Sort.FEEDBACK_DUE)):
                _check(s, reviewer.id, filt, TODAY)


def test_rebuild_repairs_inbox_keys(session_factory, services):
    world = _build(session_factory, services, random.Random(11), n_cases=10)
    with transaction(session_factory) as s:
        s.execute(CaseMember.__table__.update().values(
            status=CaseStatus.CLOSED, category_id=None, received_on=date(2000, 1, 1)))
    with session_factory() as s:
        assert stale_member_keys(s) > 0
    with transaction(session_factory) as s:
        rebuild_inbox_counts(s)
    with session_factory() as s:
        assert_keys_in_step(s)
        _check(s, world.alice.id, InboxFilter(), TODAY)


def test_excluded_member_sees_nothing(session_factory, services):
    alice = add_reviewer(session_factory, services, "alice")
    bob = add_reviewer(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id, bob.id]}, services=services)
    case_id = submit(session_factory, services).case_id
    with transaction(session_factory) as s:
        target = s.get(Reviewer, bob.id)
        assert target is not None
        exclude_member(s, services, Actor.system(), case_id, target)
    today = services.clock.today()
    with session_factory() as s:
        for filt in (InboxFilter(), InboxFilter(due=Due.SOON), InboxFilter(sort=Sort.ACTIVITY),
                     InboxFilter(status=CaseStatus.RECEIVED)):
            page = inbox_page(s, bob.id, filt, today)
            assert (page.rows, page.total, page.by_status, page.by_category) == ([], 0, {}, {})
            assert page.by_due == {Due.OVERDUE: 0, Due.SOON: 0}
        assert [r.id for r in inbox_page(s, alice.id, InboxFilter(), today).rows] == [case_id]
        assert stored_counts(s) == computed_counts(s)


def test_assigned_to_me_means_lead_or_investigator(session_factory, services):
    alice = add_reviewer(session_factory, services, "alice")
    carol = add_reviewer(session_factory, services, "carol")
    seed_categories(session_factory, {"it_fault": [alice.id], "security": [alice.id]},
                    services=services)
    routed = submit(session_factory, services).case_id
    led = submit(session_factory, services, category="security").case_id
    investigated = submit(session_factory, services).case_id
    with transaction(session_factory) as s:
        grantee = s.get(Reviewer, carol.id)
        assert grantee is not None
        grant_case(s, services, alice.unlocked, led, grantee, role=MemberRole.LEAD)
        grant_case(s, services, alice.unlocked, investigated, grantee)  # INVESTIGATOR
    today = services.clock.today()
    with session_factory() as s:
        mine = InboxFilter(assigned_to_me=True)
        assert inbox_page(s, alice.id, mine, today).total == 0  # intake only
        assert inbox_page(s, alice.id, InboxFilter(), today).total == 3
        page = inbox_page(s, carol.id, mine, today)
        assert sorted(r.id for r in page.rows) == sorted([led, investigated])
        assert routed not in {r.id for r in inbox_page(s, carol.id, InboxFilter(), today).rows}
