"""Helpers that arrange realistic state through the core use cases (never by writing rows)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyotp
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from core.audit.log import Actor
from core.cases.casework import UnlockedReviewer, change_status
from core.cases.content import Identity, ReportContent
from core.cases.stages import stage_before_request
from core.cases.transitions import legal_targets
from core.categories.intake_routes import set_intake
from core.categories.lookup import seed_default_categories
from core.db import transaction
from core.intake.submission import SubmissionDraft, SubmissionResult, submit_report
from core.models import AuditEvent, Case, CaseStatus, Reviewer, Role
from core.services import Services
from core.staff.accounts import add_reviewer as add_reviewer_usecase
from core.staff.authentication import confirm_totp
from core.staff.keys import tag_standing
from core.staff.passphrase_change import change_passphrase
from crypto.reviewer_keys import unwrap_private_key

#: Strong passphrases (zxcvbn score 4, > 12 characters); one per index.
_WORDS = ("correct", "horse", "battery", "staple", "lantern", "meadow", "quartz", "violin")


def strong_passphrase(tag: str = "") -> str:
    """A passphrase the policy accepts, unique per call."""
    # Four different words: four times the same one with a patterned number ("violin violin
    # violin violin 1234") scores below the policy, once in about a thousand test runs.
    words = " ".join(secrets.SystemRandom().sample(_WORDS, 4))
    return f"{words} {secrets.randbelow(10**6)} {tag}".strip()


@dataclass(frozen=True)
class ReviewerHandle:
    """A created reviewer with the secrets a test needs to act as them."""

    id: int
    username: str
    passphrase: str = field(repr=False)
    private_key: bytes = field(repr=False)

    @property
    def unlocked(self) -> UnlockedReviewer:
        return UnlockedReviewer(reviewer_id=self.id, private_key=self.private_key)

    def __iter__(self):  # (reviewer_id, passphrase, private_key), as the brief's tuple
        return iter((self.id, self.passphrase, self.private_key))


def add_reviewer(
    session_factory: sessionmaker[Session],
    services: Services,
    username: str,
    role: Role = Role.REVIEWER,
    passphrase: str | None = None,
    *,
    custodian: bool = False,
) -> ReviewerHandle:
    """Create an account through the use cases and complete its enrolment as its owner would
    (TOTP confirmed, a passphrase of their own, which makes the key pair); return its keys.
    `custodian`: also an identity custodian."""
    passphrase = passphrase or strong_passphrase()
    one_time = strong_passphrase("one-time")
    with transaction(session_factory) as s:
        created = add_reviewer_usecase(
            s, services, username=username, role=role, passphrase=one_time
        )
        reviewer = created.reviewer
        code = pyotp.TOTP(created.totp_secret).at(services.clock.now())
        assert confirm_totp(s, services, reviewer, code)
        change_passphrase(s, services, reviewer, one_time, passphrase)
        reviewer.identity_custodian = custodian
        tag_standing(services.keyring, reviewer)  # as core.staff.accounts.set_custodian does
        # As an account enrolled a while ago: the code used to enrol does not stand in the
        # way of the test's own logins within the same 30 seconds.
        reviewer.totp_last_step = None
        reviewer_id = reviewer.id
        wrapped = reviewer.wrapped_private_key
    assert wrapped is not None
    return ReviewerHandle(
        reviewer_id, created.reviewer.username, passphrase, unwrap_private_key(wrapped, passphrase)
    )


def seed_categories(
    session_factory: sessionmaker[Session],
    intake: dict[str, Sequence[int]] | None = None,
    services: Services | None = None,
) -> None:
    """The default categories, with `intake` = {category code: [reviewer ids]} (routes are
    tagged under the instance key: pass `services` with them)."""
    if intake and services is None:
        raise TypeError("intake routes are tagged with the instance key: pass services")
    with transaction(session_factory) as s:
        seed_default_categories(s)
        for code, reviewer_ids in (intake or {}).items():
            reviewers = [s.get(Reviewer, rid) for rid in reviewer_ids]
            assert services is not None
            set_intake(s, services.keyring, code, [r for r in reviewers if r is not None])


def submit(
    session_factory: sessionmaker[Session],
    services: Services,
    *,
    category: str = "it_fault",
    report: ReportContent | None = None,
    identity: Identity | None = None,
    files: Iterable[tuple[str, bytes]] = (),
    content_type: str = "application/octet-stream",
    excluded_handlers: Iterable[int] = (),
) -> SubmissionResult:
    """A full web-style submission: files into a draft, then one transaction."""
    report = report or ReportContent(summary="The printer on floor 3 jams", description="Daily.")
    draft = SubmissionDraft()
    try:
        for name, data in files:
            draft.add_file(services, name, content_type, _chunks(data))
        with transaction(session_factory) as s:
            return submit_report(
                s, services, draft, category_code=category, report=report, identity=identity,
                excluded_handlers=list(excluded_handlers))
    except BaseException:
        draft.discard(services.blobs)
        raise


def _chunks(data: bytes, size: int = 10_000) -> Iterable[bytes]:
    """Feed bytes in uneven pieces, as an upload would arrive."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def chunks(data: bytes, size: int = 10_000) -> Iterable[bytes]:
    return _chunks(data, size)


def audit_actions(session_factory: sessionmaker[Session]) -> list[str]:
    """Every audit action, in log order."""
    with session_factory() as s:
        return list(s.execute(select(AuditEvent.action).order_by(AuditEvent.position)).scalars())


def audit_size(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as s:
        return int(s.execute(text("select count(*) from audit_events")).scalar_one())


def approve_identity(
    session_factory: sessionmaker[Session],
    services: Services,
    requester: ReviewerHandle,
    custodian: ReviewerHandle,
    case_id: int,
    reason: str = "needed to interview the reporter",
) -> None:
    """The two-person path to a reporter's identity: `requester` (on the case team) asks,
    `custodian` (an identity custodian) approves, which seals the identity key to the
    requester; they can then call reveal_identity."""
    from core.cases.identity_requests import decide_identity_request, request_identity

    with transaction(session_factory) as s:
        request_id = request_identity(s, services, requester.unlocked, case_id, reason).id
    with transaction(session_factory) as s:
        decide_identity_request(s, services, custodian.unlocked, request_id, approve=True)


def reset_and_reenrol(
    session_factory: sessionmaker[Session], services: Services, handle: ReviewerHandle
) -> ReviewerHandle:
    """An admin resets the passphrase (the account loses its keys and grants); its owner logs
    in with the one-time passphrase and chooses their own, which makes a new key pair."""
    from core.staff.accounts import reset_passphrase

    own = strong_passphrase("after reset")
    with transaction(session_factory) as s:
        one_time = reset_passphrase(s, services, handle.username)
    with transaction(session_factory) as s:
        row = s.get(Reviewer, handle.id)
        assert row is not None and row.wrapped_private_key is None
        change_passphrase(s, services, row, one_time, own)
        wrapped = row.wrapped_private_key
    assert wrapped is not None
    return ReviewerHandle(handle.id, handle.username, own, unwrap_private_key(wrapped, own))


def enrolment_code_of(session_factory: sessionmaker[Session], services: Services,
                      reviewer_id: int) -> str:
    """The code the enrolled account's owner sees on their screen (awaiting approval), which
    they read to the admin who approves them."""
    from core.staff.enrolment_codes import code_of

    with session_factory() as s:
        row = s.get(Reviewer, reviewer_id)
        assert row is not None
        code = code_of(services.keyring, row)
    assert code is not None, "the account has not completed enrolment"
    return code


def another_enrolment_code(code: str) -> str:
    """A well-formed enrolment code (its check digit right) other than `code`."""
    from crypto.damm import damm_check_digit

    payload = code.replace(" ", "")[:-1]
    other = f"{(int(payload) + 1) % 10 ** len(payload):0{len(payload)}d}"
    return other + damm_check_digit(other)


def next_stages(session: Session, case: Case) -> list[CaseStatus]:
    """The stages `case` may legally move to now (core.cases.transitions), sorted."""
    before = (stage_before_request(session, case.id)
              if case.status is CaseStatus.INFO_NEEDED else None)
    return sorted(legal_targets(case.status, before))


def walk_to(session: Session, services: Services, actor: Actor, case: Case,
            target: CaseStatus) -> None:
    """Move `case` to `target` along the shortest legal path of stage changes (each one a
    real change_status, audited), for tests that need a case in some stage. A case cannot
    go back to "received": AssertionError."""
    if case.status is target:
        return
    paths: dict[CaseStatus, list[CaseStatus]] = {case.status: []}
    frontier = [case.status]
    while frontier and target not in paths:
        current = frontier.pop(0)
        before = paths[current][-2] if current is CaseStatus.INFO_NEEDED and len(
            paths[current]) > 1 else (stage_before_request(session, case.id)
                                      if current is CaseStatus.INFO_NEEDED else None)
        for step in sorted(legal_targets(current, before)):
            if step not in paths:
                paths[step] = [*paths[current], step]
                frontier.append(step)
    assert target in paths, f"{target} cannot be reached from {case.status}"
    for step in paths[target]:
        change_status(session, services, actor, case, step)


def handlers_and_case(session_factory: sessionmaker[Session], services: Services,
                      submit_services: Services | None = None
                      ) -> tuple[ReviewerHandle, ReviewerHandle, SubmissionResult]:
    """alice, intake handler of it_fault; bob, added to the team by alice; one received
    case of that category (submitted with `submit_services` if given)."""
    from core.cases.team_changes import grant_case

    alice = add_reviewer(session_factory, services, "alice")
    bob = add_reviewer(session_factory, services, "bob")
    seed_categories(session_factory, {"it_fault": [alice.id]}, services=services)
    result = submit(session_factory, submit_services or services)
    with transaction(session_factory) as s:
        grant_case(s, services, alice.unlocked, result.case_id, s.get(Reviewer, bob.id))
    return alice, bob, result


def detached_case(session_factory: sessionmaker[Session], case_id: int) -> Case:
    """The case's row as it is committed now, usable after its session closed."""
    with session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        s.expunge(case)
        return case


def assert_counters_exact(session_factory: sessionmaker[Session]) -> None:
    """The inbox counters equal a rebuild from the cases and memberships."""
    from core.cases.inbox_counts import computed_counts, stored_counts

    with session_factory() as s:
        assert stored_counts(s) == computed_counts(s)


def as_if_changed_yesterday(session_factory: sessionmaker[Session]) -> None:
    """Date every statistics month's latest change a day earlier, as if the test's writes had
    been made yesterday: the statistics count a change only from the day after it
    (core.statistics.recount), and a test that looks at them today would see none."""
    from datetime import timedelta

    from sqlalchemy import update

    from core.models import StatisticsMonth

    with transaction(session_factory) as s:
        for month, changed_on in s.execute(select(StatisticsMonth.month,
                                                  StatisticsMonth.changed_on)).all():
            if changed_on is not None:
                s.execute(update(StatisticsMonth).where(StatisticsMonth.month == month)
                          .values(changed_on=changed_on - timedelta(days=1)))
