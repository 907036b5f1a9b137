"""Four eyes: admin changes that decide who can read reports take effect only when a second
admin approves them.

- a new account made in the console (any role: an admin made by one admin could otherwise be
  the "second" admin who approves the first one's changes);
- a category's intake (who receives its new reports);
- giving or taking away the identity custodian role;
- a case handler's display name: reporters choose whom to leave out of their report by the
  names on the form, so one admin renaming two handlers could make a reporter leave out the
  wrong one. (An admin's or auditor's name is shown to no reporter: it changes at once.)

An account (new, or reset) is approved only once its owner has enrolled, with the enrolment
code their screen shows, read to the approver outside the console (core.staff.enrolment_codes):
the admin who saw the one-time passphrase cannot enrol in the owner's name unnoticed.

The requester cannot approve their own change, nor can the account a change is about. Until
approved, an account receives no grant and no routing and cannot approve anything; a routing
change routes nothing. Each request and decision is audited; a routing change is also told to
every case handler of the category, before and after (core.operations.notifications, and the
console's inbox lists recent routing changes).

`candor` commands run by the operator on the server act directly: whoever has the server's
shell and secrets is outside what the console can police (SECURITY.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.categories.intake_routes import read_routes, set_intake
from core.categories.lookup import get_category
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.models import (
    Category,
    ChangeKind,
    RequestStatus,
    Reviewer,
    Role,
    StaffChange,
)
from core.operations.notifications import queue_notifications
from core.services import Services
from core.staff.account_contact import edit_account
from core.staff.accounts import (
    NewReviewer,
    add_reviewer,
    check_shown_name_free,
    clean_display_name,
    get_reviewer,
    reset_passphrase,
    set_custodian,
)
from core.staff.change_tags import change_trusted, tag_change
from core.staff.enrolment_codes import require_code
from core.staff.keys import may_hold_case_keys, require_standing, tag_standing
from core.staff.passphrases import HashedPassphrase

#: How long a routing change stays listed in the affected handlers' inboxes.
ROUTING_NOTICE_DAYS = 14


def _requester(session: Session, actor: Actor) -> Reviewer:
    # Read afresh: the request's object may predate a commit (a deactivation meanwhile).
    admin = (session.get(Reviewer, actor.reviewer_id, populate_existing=True)
             if actor.reviewer_id is not None else None)
    if admin is None or not admin.active or admin.role is not Role.ADMIN:
        raise AccessDenied("only an admin can ask for this change")
    if not admin.approved:
        raise AccessDenied("an account waiting for approval cannot change anything yet")
    return admin


def _pending(session: Session, services: Services, actor: Actor, change: StaffChange) -> None:
    change.status = RequestStatus.PENDING
    change.requested_by = actor.reviewer_id or 0
    change.requested_at = services.clock.now()
    session.add(change)
    session.flush()
    tag_change(services.keyring, change)
    record_event(session, services.clock, AuditAction.STAFF_CHANGE_REQUESTED, actor,
                 detail={"change_id": change.id, "kind": str(change.kind),
                         "reviewer_id": change.reviewer_id, "category_id": change.category_id})


def request_account(session: Session, services: Services, actor: Actor, *, username: str,
                    role: Role, passphrase: str | HashedPassphrase, email: str | None = None,
                    display_name: str | None = None) -> NewReviewer:
    """Create an account that waits for a second admin (its one-time passphrase is shown to
    the requesting admin; its owner still enrols with a passphrase of their own)."""
    _requester(session, actor)
    created = add_reviewer(session, services, username=username, role=role,
                           passphrase=passphrase, email=email, display_name=display_name,
                           approved=False, actor=actor)
    _pending(session, services, actor,
             StaffChange(kind=ChangeKind.ACCOUNT, reviewer_id=created.reviewer.id))
    return created


def _intake_handlers(session: Session, services: Services, category: Category) -> set[int]:
    """The category's intake on routes Candor wrote (core.categories.intake_routes)."""
    return set(read_routes(session, services.keyring).of(category))


def request_intake(session: Session, services: Services, actor: Actor, code: str,
                   usernames: list[str]) -> StaffChange:
    """Propose the intake handlers of a category. Each must be an enrolled, approved case
    handler (core.staff.keys): an account that could not hold the keys would receive nothing."""
    _requester(session, actor)
    category = get_category(session, code)
    chosen: list[Reviewer] = []
    for username in dict.fromkeys(u.strip().lower() for u in usernames):
        reviewer = get_reviewer(session, username)
        if not may_hold_case_keys(reviewer):
            raise InvalidInput(f"{reviewer.username} cannot receive reports yet (an approved "
                               "case handler who has completed enrolment).", field="reviewers")
        chosen.append(reviewer)
    routes = read_routes(session, services.keyring)
    current = set(routes.of(category))
    # A route Candor did not write makes the same list a real change: it removes that route
    # (second reader: the dashboard's remedy was refused as "already the intake").
    if {r.id for r in chosen} == current and not routes.planted_in(category):
        raise Conflict("this is already the category's intake")
    change = StaffChange(kind=ChangeKind.INTAKE, category_id=category.id,
                         intake_ids=",".join(str(r.id) for r in chosen),
                         previous_ids=",".join(map(str, sorted(current))))
    _pending(session, services, actor, change)
    queue_notifications(session, current | {r.id for r in chosen})
    return change


def request_custodian(session: Session, services: Services, actor: Actor, username: str,
                      give: bool) -> StaffChange:
    """Propose giving (or taking away) the identity custodian role."""
    _requester(session, actor)
    reviewer = get_reviewer(session, username)
    if give and not may_hold_case_keys(reviewer):
        raise InvalidInput(f"{reviewer.username} cannot hold identity keys (an approved case "
                           "handler who has completed enrolment).", field="reviewer")
    if reviewer.identity_custodian == give:
        raise Conflict("nothing to change")
    change = StaffChange(kind=ChangeKind.CUSTODIAN, reviewer_id=reviewer.id, custodian=give)
    _pending(session, services, actor, change)
    return change


class ChangeAlreadyPending(Conflict):
    """A change of the same kind for the same account already waits for a second admin."""


def request_display_name(session: Session, services: Services, actor: Actor, username: str,
                         display_name: str | None) -> StaffChange | None:
    """Propose a case handler's new display name (None: none, reporters then see the
    username). None when the account already has this name: nothing to ask. InvalidInput
    (field display_name) for a name too long or shown for another active account;
    ChangeAlreadyPending while another new name for the account waits."""
    _requester(session, actor)
    wanted = clean_display_name(display_name)
    reviewer = get_reviewer(session, username)
    if reviewer.role is not Role.REVIEWER:
        raise InvalidInput("only a case handler's name waits for a second admin",
                           field="display_name")
    if wanted == reviewer.display_name:
        return None
    check_shown_name_free(session, wanted or reviewer.username, reviewer_id=reviewer.id)
    if session.execute(select(StaffChange.id).where(
            StaffChange.kind == ChangeKind.DISPLAY_NAME, StaffChange.reviewer_id == reviewer.id,
            StaffChange.status == RequestStatus.PENDING)).first() is not None:
        raise ChangeAlreadyPending(f"a new name for {reviewer.username!r} already waits for "
                                   "approval")
    change = StaffChange(kind=ChangeKind.DISPLAY_NAME, reviewer_id=reviewer.id,
                         display_name=wanted)
    _pending(session, services, actor, change)
    return change


def pending_changes(session: Session) -> list[StaffChange]:
    """Changes waiting for a second admin, oldest first."""
    return list(session.execute(
        select(StaffChange).where(StaffChange.status == RequestStatus.PENDING)
        .order_by(StaffChange.requested_at, StaffChange.id)).scalars())


def _ids(text: str | None) -> list[int]:
    # Digits only: a list a database writer garbled must not break the approvals page (its
    # change fails its tag and is not applied anyway).
    return [int(i) for i in (text or "").split(",") if i.isdigit()]


def intake_of(change: StaffChange) -> list[int]:
    """The proposed intake handlers' ids of an INTAKE change."""
    return _ids(change.intake_ids)


def previous_intake_of(change: StaffChange) -> list[int]:
    """The intake handlers' ids when an INTAKE change was asked for."""
    return _ids(change.previous_ids)


def tampered_changes(session: Session, services: Services) -> set[int]:
    """The ids of pending changes that fail their tag: written or edited outside Candor."""
    return {c.id for c in pending_changes(session) if not change_trusted(services.keyring, c)}


def decide_change(session: Session, services: Services, actor: Actor, change_id: int, *,
                  approve: bool, code: str | None = None) -> StaffChange:
    """A second admin approves (the change takes effect now) or refuses a pending change.

    Approving an account (new, or after a reset) takes the enrolment code its owner read to
    the approver (core.staff.enrolment_codes): EnrolmentNotDone before the owner has enrolled,
    WrongEnrolmentCode for another code; either leaves the change pending.

    An approved change that can no longer apply (its name taken meanwhile, someone in its
    routing gone) is closed as refused, recorded with `lapsed`, rather than left pending for
    ever: the caller sees the status REFUSED after asking to approve. So is a change that fails
    its tag (written or edited outside Candor: core.staff.change_tags), recorded with
    `tampered`, and never applied."""
    approver = _requester(session, actor)
    change = session.get(StaffChange, change_id)
    if change is None:
        raise NotFound("no such change")
    # Locked, the account first, in the order a reset takes them (core.staff.accounts
    # .reset_passphrase, then the withdrawal here): a reset committed between the code check
    # and the approval would otherwise be approved with the code of the keys it removed.
    if change.kind in (ChangeKind.ACCOUNT, ChangeKind.RESET):
        session.get(Reviewer, change.reviewer_id, with_for_update={"key_share": True},
                    populate_existing=True)
    session.refresh(change, with_for_update=True)
    if change.status is not RequestStatus.PENDING:
        raise Conflict("this change has already been decided")
    if approver.id in (change.requested_by, change.reviewer_id):
        raise AccessDenied("a change is approved by an admin other than its requester and "
                           "the account it concerns")
    lapsed, tampered = False, not change_trusted(services.keyring, change)
    if approve and not tampered and change.kind in (ChangeKind.ACCOUNT, ChangeKind.RESET):
        reviewer = session.get(Reviewer, change.reviewer_id)  # locked and read above
        assert reviewer is not None
        require_code(services.keyring, reviewer, code)
    if approve and not tampered:
        try:
            with session.begin_nested():  # a change that cannot apply leaves nothing of it
                _apply(session, services, change)
        except Conflict:
            lapsed = True
    change.status = (RequestStatus.APPROVED if approve and not lapsed and not tampered
                     else RequestStatus.REFUSED)
    change.decided_by = approver.id
    change.decided_at = services.clock.now()
    if not tampered:  # a writer's change is closed, not vouched for
        tag_change(services.keyring, change)
    detail: dict[str, str | int | bool | None] = {
        "change_id": change.id, "kind": str(change.kind), "decision": str(change.status),
        "lapsed": lapsed}
    if tampered:
        detail["tampered"] = True
    record_event(session, services.clock, AuditAction.STAFF_CHANGE_DECIDED, actor,
                 detail=detail)
    session.flush()
    return change


def reset_with_approval(session: Session, services: Services, actor: Actor, username: str,
                        temporary: HashedPassphrase) -> str:
    """A console admin's reset of another account's passphrase (core.staff.accounts
    .reset_passphrase): the account then waits for a second admin (ChangeKind.RESET) before it
    may act or receive keys again. The admin saw the one-time passphrase and, resetting the
    TOTP too, could have enrolled a key pair of their own in the owner's name (outside
    tester: an admin alone read the next report routed to the handler they reset)."""
    admin = _requester(session, actor)
    text = reset_passphrase(session, services, username, actor=actor, temporary=temporary)
    reviewer = get_reviewer(session, username)
    if reviewer.id == admin.id or not reviewer.active:
        return text  # their own account, or one that cannot act anyway
    reviewer.approved = False
    tag_standing(services.keyring, reviewer)
    # A request already waiting for the account (made, or reset, by someone else) is
    # withdrawn: its approver would not be a second pair of eyes on this reset (outside
    # tester: an admin reset an account another had asked for, then approved that request).
    for waiting in session.execute(select(StaffChange).where(
            StaffChange.reviewer_id == reviewer.id, StaffChange.status == RequestStatus.PENDING,
            StaffChange.kind.in_([ChangeKind.ACCOUNT, ChangeKind.RESET]))).scalars():
        waiting.status = RequestStatus.WITHDRAWN
        waiting.decided_at = services.clock.now()
        tag_change(services.keyring, waiting)
        record_event(session, services.clock, AuditAction.STAFF_CHANGE_DECIDED, actor,
                     detail={"change_id": waiting.id, "kind": str(waiting.kind),
                             "decision": str(waiting.status), "lapsed": False})
    _pending(session, services, actor, StaffChange(kind=ChangeKind.RESET,
                                                   reviewer_id=reviewer.id))
    return text


def approve_by_operator(session: Session, services: Services, username: str,
                        code: str | None) -> int:
    """The operator's approval of an account waiting for a second admin (`candor reviewer
    approve`: an instance with fewer than three admins has no one else to approve a reset of
    one of them), with the enrolment code its owner read to them, as a second admin would
    (require_code). Closes its pending account or reset changes; audited. Returns how many."""
    reviewer = get_reviewer(session, username)
    # Locked and read afresh, as in decide_change: the code is checked against the keys the
    # approval applies to.
    session.refresh(reviewer, with_for_update={"key_share": True})
    if reviewer.approved:
        raise Conflict(f"{username!r} is not waiting for approval")
    require_standing(services.keyring, reviewer)
    require_code(services.keyring, reviewer, code)
    reviewer.approved = True
    tag_standing(services.keyring, reviewer)
    closed = 0
    for change in session.execute(select(StaffChange).where(
            StaffChange.reviewer_id == reviewer.id, StaffChange.status == RequestStatus.PENDING,
            StaffChange.kind.in_([ChangeKind.ACCOUNT, ChangeKind.RESET]))).scalars():
        change.status = RequestStatus.APPROVED
        change.decided_at = services.clock.now()
        tag_change(services.keyring, change)
        closed += 1
        record_event(session, services.clock, AuditAction.STAFF_CHANGE_DECIDED, Actor.system(),
                     detail={"change_id": change.id, "kind": str(change.kind),
                             "decision": str(change.status), "lapsed": False})
    if not closed:
        record_event(session, services.clock, AuditAction.STAFF_CHANGE_DECIDED, Actor.system(),
                     detail={"reviewer_id": reviewer.id, "kind": "account",
                             "decision": "approved", "lapsed": False})
    return closed


def _apply(session: Session, services: Services, change: StaffChange) -> None:
    if change.kind in (ChangeKind.ACCOUNT, ChangeKind.RESET):
        reviewer = session.get(Reviewer, change.reviewer_id)
        assert reviewer is not None
        require_standing(services.keyring, reviewer)  # a Conflict: the change lapses
        reviewer.approved = True
        tag_standing(services.keyring, reviewer)
    elif change.kind is ChangeKind.CUSTODIAN:
        reviewer = session.get(Reviewer, change.reviewer_id)
        assert reviewer is not None
        try:
            set_custodian(session, services, reviewer, bool(change.custodian),
                          Actor.reviewer(change.requested_by))
        except InvalidInput as exc:
            raise Conflict(str(exc)) from exc
    elif change.kind is ChangeKind.DISPLAY_NAME:
        _rename(session, services, change)
    else:
        category = session.get(Category, change.category_id)
        assert category is not None
        chosen = [session.get(Reviewer, i) for i in intake_of(change)]
        if any(r is None or not may_hold_case_keys(r) for r in chosen):
            raise Conflict("someone in this routing can no longer receive reports: ask again")
        before = _intake_handlers(session, services, category)
        set_intake(session, services.keyring, category.code, [r for r in chosen if r is not None])
        queue_notifications(session, before | set(intake_of(change)))
        record_event(session, services.clock, AuditAction.CATEGORY_CHANGED,
                     Actor.reviewer(change.requested_by),
                     detail={"category": category.code, "intake": len(chosen),
                             "change_id": change.id})


def _rename(session: Session, services: Services, change: StaffChange) -> None:
    """Apply an approved display-name change, checked again: another account may have taken
    the name, or the operator renamed the handler, since it was asked for."""
    reviewer = session.get(Reviewer, change.reviewer_id)
    assert reviewer is not None
    try:
        edit_account(session, services, reviewer.username, display_name=change.display_name,
                     actor=Actor.reviewer(change.requested_by))
    except InvalidInput as exc:
        raise Conflict(str(exc)) from exc
    except Conflict as exc:
        raise Conflict("the account already has this name") from exc


def recent_routing_changes(session: Session, services: Services,
                           reviewer_id: int) -> list[StaffChange]:
    """Routing changes of the last ROUTING_NOTICE_DAYS (asked or applied) that concern this
    case handler: categories they receive, received, or would receive reports of."""
    since: datetime = services.clock.now() - timedelta(days=ROUTING_NOTICE_DAYS)
    changes = session.execute(
        select(StaffChange).where(StaffChange.kind == ChangeKind.INTAKE,
                                  StaffChange.requested_at >= since)
        .order_by(StaffChange.requested_at.desc())).scalars()
    routes = read_routes(session, services.keyring)
    mine = []
    for change in changes:
        current = routes.trusted.get(change.category_id or 0, frozenset())
        if reviewer_id in current | set(intake_of(change)) | set(previous_intake_of(change)):
            mine.append(change)
    return mine
