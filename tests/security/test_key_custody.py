"""Issue #12, key custody: attacks by someone who can read or write the database (and, for
finding 1, who also set an account's first passphrase). Each test's docstring names the attack
that worked on the old design. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from core.audit.log import AuditAction, sequence_reporter_events
from core.cases.casework import (
    LastMemberError,
    exclude_member,
    grant_case,
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
    reveal_identity,
    send_message,
    store_reviewer_file,
)
from core.cases.content import Identity, ReportContent
from core.cases.contexts import identity_context, message_record_context
from core.cases.identity_requests import (
    decide_identity_request,
    identity_disclosures,
    request_identity,
)
from core.cases.recovery import regrant_member_cases
from core.clock import Clock, utc_now
from core.db import transaction
from core.errors import AccessDenied, Conflict, InvalidInput, TamperedRecord
from core.intake.reporter import login_submitter, read_case_for_submitter
from core.intake.submission import SubmissionDraft, SubmissionResult, submit_report
from core.models import (
    AuditEvent,
    Case,
    CaseGrant,
    CaseMember,
    CaseStatus,
    KeyKind,
    MemberRole,
    Message,
    MessageKind,
    Reviewer,
    Role,
)
from core.models.base import random_row_id
from core.services import Services
from core.staff.accounts import add_reviewer as create_account
from core.staff.accounts import reset_passphrase, totp_secret
from core.staff.authentication import confirm_totp
from core.staff.login import authenticate
from core.staff.passphrase_change import change_passphrase
from crypto.errors import CryptoError, DecryptionError
from crypto.keys import KeyPair, generate_keypair, open_sealed
from crypto.records import decrypt_record
from crypto.recovery import public_key_of
from crypto.reviewer_keys import unwrap_private_key
from tests.core.factories import (
    ReviewerHandle,
    add_reviewer,
    audit_actions,
    chunks,
    seed_categories,
    strong_passphrase,
    submit,
    walk_to,
)

Factory = sessionmaker[Session]
Team = dict[str, Any]
IDENTITY = Identity(name="Ada Reporter", contact="ada@example.org", position="Clerk")


def _opens(private_key: bytes, sealed: bytes) -> bytes | None:
    """The key a sealed grant holds, or None when `private_key` does not open it."""
    try:
        return open_sealed(private_key, sealed)
    except CryptoError:
        return None


def _grants(sf: Factory, case_id: int, reviewer_id: int | None = None) -> list[Any]:
    """(epoch, kind, sealed key) of the case's grants (of one reviewer), as a dump shows."""
    query = select(CaseGrant.epoch, CaseGrant.key_kind, CaseGrant.sealed_key).where(
        CaseGrant.case_id == case_id)
    if reviewer_id is not None:
        query = query.where(CaseGrant.reviewer_id == reviewer_id)
    with sf() as s:
        return [tuple(row) for row in s.execute(query)]


def _write(sf: Factory, sql: str, **params: Any) -> None:
    """A database writer's plain SQL, committed."""
    with transaction(sf) as s:
        s.execute(text(sql), params)


def _rev(s: Session, reviewer_id: int) -> Reviewer:
    reviewer = s.get(Reviewer, reviewer_id)
    assert reviewer is not None
    return reviewer


def _alarms(sf: Factory) -> list[dict[str, Any]]:
    """The details of the "reviewer:key:reject" events."""
    with sf() as s:
        return [json.loads(d) for d in s.execute(select(AuditEvent.detail).where(
            AuditEvent.action == AuditAction.KEY_REJECTED)).scalars()]


def _submit_excluding(sf: Factory, services: Services, excluded: list[int]) -> SubmissionResult:
    with transaction(sf) as s:
        return submit_report(s, services, SubmissionDraft(), category_code="it_fault",
                             report=ReportContent(summary="About my manager"),
                             excluded_handlers=excluded)


@pytest.fixture
def team(session_factory: Factory, services: Services) -> Team:
    """A case routed to the intake handlers ivy and kai (no lead yet)."""
    ivy = add_reviewer(session_factory, services, "ivy")
    kai = add_reviewer(session_factory, services, "kai")
    seed_categories(session_factory, {"it_fault": [ivy.id, kai.id]})
    return {"ivy": ivy, "kai": kai, "case": submit(session_factory, services)}


# --- Finding 1: no key pair under a passphrase the admin knows --------------------------------


def test_admin_copy_of_a_new_account_opens_no_grant(
        session_factory: Factory, services: Services) -> None:
    """Attack (old design): the key pair was made at creation under the admin's one-time
    passphrase; a copy of the reviewers row plus that passphrase gave the private key, which a
    passphrase change only re-wrapped, so every later grant opened for the admin."""
    one_time, own = strong_passphrase("one-time"), strong_passphrase("own")
    with transaction(session_factory) as s:
        created = create_account(s, services, username="ivy", role=Role.REVIEWER,
                                 passphrase=one_time)
        ivy_id = created.reviewer.id
    with session_factory() as s:  # the admin's copy, before the owner's first login
        copied = s.execute(text("select * from reviewers where id = :id"),
                           {"id": ivy_id}).mappings().one()
    with transaction(session_factory) as s:
        assert confirm_totp(s, services, _rev(s, ivy_id), pyotp.TOTP(created.totp_secret).now())
        change_passphrase(s, services, _rev(s, ivy_id), one_time, own)
        _rev(s, ivy_id).identity_custodian = True
    seed_categories(session_factory, {"it_fault": [ivy_id]})
    case = submit(session_factory, services, identity=IDENTITY)

    assert copied["public_key"] is None and copied["wrapped_private_key"] is None
    with session_factory() as s:
        wrapped = _rev(s, ivy_id).wrapped_private_key
    assert wrapped is not None
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped, one_time)
    # Control: the owner's passphrase opens every kind, so the grants the admin missed exist.
    grants = _grants(session_factory, case.case_id, ivy_id)
    assert {kind for _, kind, _ in grants} == {KeyKind.CASE, KeyKind.TEAM, KeyKind.IDENTITY}
    assert all(_opens(unwrap_private_key(wrapped, own), sealed) for _, _, sealed in grants)


def test_a_reset_leaves_the_admin_no_key(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): a reset made a new key pair under the temporary passphrase the
    admin was shown; the cases re-granted to it then opened for the admin."""
    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    with transaction(session_factory) as s:
        temporary = reset_passphrase(s, services, "ivy")
    with session_factory() as s:
        assert _rev(s, ivy.id).public_key is None and _rev(s, ivy.id).wrapped_private_key is None
    assert _grants(session_factory, case_id, ivy.id) == []
    own = strong_passphrase("own")
    with transaction(session_factory) as s:
        change_passphrase(s, services, _rev(s, ivy.id), temporary, own)
    with transaction(session_factory) as s:  # a teammate re-grants the case
        grant_case(s, services, kai.unlocked, case_id, _rev(s, ivy.id))
    with session_factory() as s:
        wrapped = _rev(s, ivy.id).wrapped_private_key
    assert wrapped is not None
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped, temporary)
    regranted = _grants(session_factory, case_id, ivy.id)
    assert regranted and all(_opens(unwrap_private_key(wrapped, own), g[2]) for g in regranted)


def test_an_account_not_enrolled_is_not_routed(
        session_factory: Factory, services: Services) -> None:
    """Attack (old design): an account the admin had just created (keys under the admin's
    passphrase) was routed new reports at once, before its owner ever logged in. Now it is
    left out quietly (no false key alarm) and cannot be granted."""
    ivy = add_reviewer(session_factory, services, "ivy")
    with transaction(session_factory) as s:
        pending = create_account(s, services, username="newbie", role=Role.REVIEWER,
                                 passphrase=strong_passphrase("one-time")).reviewer.id
    seed_categories(session_factory, {"it_fault": [pending, ivy.id]})
    case = submit(session_factory, services)
    assert _grants(session_factory, case.case_id, pending) == []
    with session_factory() as s:
        assert s.get(CaseMember, (case.case_id, pending)) is None
        assert s.get(CaseMember, (case.case_id, ivy.id)) is not None
    assert _alarms(session_factory) == []
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        grant_case(s, services, ivy.unlocked, case.case_id, _rev(s, pending))


# --- Finding 3: identity keys only for custodians; two people to reveal ----------------------


def test_an_intake_handler_cannot_open_the_identity(
        session_factory: Factory, services: Services) -> None:
    """Attack (old design): the identity key was sealed to every intake handler, so a handler
    with a database dump read the reporter's name without asking anyone."""
    ivy = add_reviewer(session_factory, services, "ivy")
    cora = add_reviewer(session_factory, services, "cora", custodian=True)
    seed_categories(session_factory, {"it_fault": [ivy.id]})
    case = submit(session_factory, services, identity=IDENTITY)
    with session_factory() as s:
        row = s.get(Case, case.case_id)
        assert row is not None and row.identity_ciphertext is not None
        ciphertext, context = row.identity_ciphertext, identity_context(row.reference)

    def reads_identity(private_key: bytes) -> bool:
        """Whether any grant row of the case, opened with this key, decrypts the identity."""
        for _, _, sealed in _grants(session_factory, case.case_id):
            key = _opens(private_key, sealed)
            try:
                if key and Identity.from_bytes(decrypt_record(key, ciphertext, context)):
                    return True
            except CryptoError:
                continue
        return False

    held = {kind for _, kind, _ in _grants(session_factory, case.case_id, ivy.id)}
    assert held == {KeyKind.CASE, KeyKind.TEAM}
    assert not reads_identity(ivy.private_key)
    assert reads_identity(cora.private_key)  # control: the check can succeed


def test_revealing_takes_a_custodian(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): any team member revealed the identity alone. Now a team member
    asks, a non-custodian cannot approve, an identity custodian can; the day is listed."""
    ivy, kai = team["ivy"], team["kai"]
    cora = add_reviewer(session_factory, services, "cora", custodian=True)
    case_id = submit(session_factory, services, identity=IDENTITY).case_id
    with transaction(session_factory) as s:
        request_id = request_identity(s, services, ivy.unlocked, case_id, "to interview").id
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        reveal_identity(s, services, ivy.unlocked, case_id, "curious")
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        decide_identity_request(s, services, kai.unlocked, request_id, approve=True)
    with session_factory() as s:
        assert identity_disclosures(s, case_id) == []
    with transaction(session_factory) as s:
        decide_identity_request(s, services, cora.unlocked, request_id, approve=True)
    with transaction(session_factory) as s:
        assert reveal_identity(s, services, ivy.unlocked, case_id, "interview") == IDENTITY
        assert identity_disclosures(s, case_id) == [services.clock.today()]


def _requester_turned_custodian(sf: Factory, services: Services, team: Team,
                                recovery_key: KeyPair) -> tuple[int, int, ReviewerHandle]:
    """ivy asks cora; then ivy is made a custodian and re-granted with the recovery key, so
    she holds the identity key while her own request is pending. (case, request, cora)"""
    cora = add_reviewer(sf, services, "cora", custodian=True)
    case_id = submit(sf, services, identity=IDENTITY).case_id
    with transaction(sf) as s:
        request_id = request_identity(s, services, team["ivy"].unlocked, case_id, "why").id
    with transaction(sf) as s:
        _rev(s, team["ivy"].id).identity_custodian = True
        regrant_member_cases(s, services, recovery_key.private_key, _rev(s, team["ivy"].id))
    return case_id, request_id, cora


def test_a_requester_cannot_approve_their_own_request(
        session_factory: Factory, services: Services, recovery_key: KeyPair, team: Team) -> None:
    """Even holding the identity key, the requester cannot record a disclosure as approved."""
    case_id, request_id, _ = _requester_turned_custodian(session_factory, services, team,
                                                         recovery_key)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        decide_identity_request(s, services, team["ivy"].unlocked, request_id, approve=True)
    with session_factory() as s:
        assert identity_disclosures(s, case_id) == []


def test_approving_for_a_requester_who_holds_the_key_is_not_a_crash(
        session_factory: Factory, services: Services, recovery_key: KeyPair, team: Team) -> None:
    """Found while writing the test above: approving must refuse (Conflict) or succeed."""
    _, request_id, cora = _requester_turned_custodian(session_factory, services, team,
                                                      recovery_key)
    try:
        with transaction(session_factory) as s:
            decide_identity_request(s, services, cora.unlocked, request_id, approve=True)
    except Conflict:
        pass  # refusing is as good as approving without a second grant


# --- Finding 4: key epochs --------------------------------------------------------------------


def _post(sf: Factory, services: Services, who: ReviewerHandle, case_id: int,
          kind: MessageKind, body: str) -> int:
    with transaction(sf) as s:
        return post_reviewer_message(s, services, who.unlocked, case_id, kind, body).id


def _bodies(sf: Factory, case_id: int, message_ids: list[int], keys: list[bytes]) -> list[str]:
    """What `keys` decrypt of those messages, each under its own binding."""
    found = []
    with sf() as s:
        for message_id in message_ids:
            message = s.get(Message, message_id)
            assert message is not None
            context = message_record_context(message.case.reference, message)
            for key in keys:
                try:
                    found.append(decrypt_record(key, message.body_ciphertext, context).decode())
                except DecryptionError:
                    continue
    return found


def test_copied_grants_open_nothing_written_after_exclusion(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): one case key for the case's whole life; an excluded member who had
    copied their grant rows kept reading every later note and reply from a dump. The reporter
    still reads the replies written in the new epoch."""
    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    before = [_post(session_factory, services, ivy, case_id, MessageKind.INTERNAL_NOTE, "n1"),
              _post(session_factory, services, ivy, case_id, MessageKind.INFORMATION, "r1")]
    copied = _grants(session_factory, case_id, kai.id)
    with transaction(session_factory) as s:
        exclude_member(s, services, ivy.unlocked.actor, case_id, _rev(s, kai.id))
    after = [_post(session_factory, services, ivy, case_id, MessageKind.INTERNAL_NOTE, "n2"),
             _post(session_factory, services, ivy, case_id, MessageKind.INFORMATION, "r2")]
    old_keys = [key for _, _, sealed in copied if (key := _opens(kai.private_key, sealed))]
    assert len(old_keys) == len(copied) == 2
    assert sorted(_bodies(session_factory, case_id, before, old_keys)) == ["n1", "r1"]
    assert _bodies(session_factory, case_id, after, old_keys) == []
    with transaction(session_factory) as s:
        assert s.get(Case, case_id).key_epoch == 2  # type: ignore[union-attr]
        access = login_submitter(s, services, team["case"].receipt_code)
        seen = [m.body for m in read_case_for_submitter(s, services, access).messages]
    assert seen == ["r1", "r2"]


def test_only_the_lead_excludes_and_never_the_last_member(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Who may start a new epoch: the lead once there is one; the team is never left empty."""
    ivy, kai, case_id = team["ivy"], team["kai"], team["case"].case_id
    lea = add_reviewer(session_factory, services, "lea")
    with transaction(session_factory) as s:
        grant_case(s, services, ivy.unlocked, case_id, _rev(s, lea.id), role=MemberRole.LEAD)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        exclude_member(s, services, ivy.unlocked.actor, case_id, _rev(s, kai.id))
    for member in (kai, ivy):
        with transaction(session_factory) as s:
            exclude_member(s, services, lea.unlocked.actor, case_id, _rev(s, member.id))
    with transaction(session_factory) as s, pytest.raises(LastMemberError):
        exclude_member(s, services, lea.unlocked.actor, case_id, _rev(s, lea.id))
    with session_factory() as s:
        assert s.get(Case, case_id).key_epoch == 3  # type: ignore[union-attr]


# --- Finding 5: the reporter leaves a handler out ---------------------------------------------


def test_a_handler_the_reporter_left_out_gets_nothing(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): the report reached every intake handler, including the person it
    was about, and a teammate could grant it to them later. Only a handler the form offered
    can be left out."""
    ivy, kai = team["ivy"], team["kai"]
    first, second = (_submit_excluding(session_factory, services, [kai.id]) for _ in "12")
    assert _grants(session_factory, first.case_id, kai.id) == []
    with session_factory() as s:
        assert s.get(CaseMember, (first.case_id, kai.id)) is None
        rows = [dict(r) for case in (first, second) for r in s.execute(
            text("select * from reporter_exclusions where case_id = :c"),
            {"c": case.case_id}).mappings()]
    # One row per case, no reviewer column, and a tag that differs per case (not linkable).
    assert len(rows) == 2 and all(set(r) == {"case_id", "tag"} for r in rows)
    assert rows[0]["tag"] != rows[1]["tag"] and len(bytes(rows[0]["tag"])) == 32
    with transaction(session_factory) as s, pytest.raises(Conflict):
        grant_case(s, services, ivy.unlocked, first.case_id, _rev(s, kai.id))
    outsider = add_reviewer(session_factory, services, "oscar")  # not a handler of it_fault
    for bogus in ([outsider.id], [987654]):
        with pytest.raises(InvalidInput):
            _submit_excluding(session_factory, services, bogus)


# --- Finding 6: records bound to their place --------------------------------------------------


@pytest.fixture
def replied(session_factory: Factory, services: Services,
            team: Team) -> Team:
    """A case with a reporter's file, and ivy's feedback carrying a file of her own."""
    ivy = team["ivy"]
    case = submit(session_factory, services, files=[("evidence.txt", b"reporter's")])
    with transaction(session_factory) as s:
        stored = store_reviewer_file(services, ivy.unlocked, s, case.case_id, KeyKind.CASE,
                                     "staff.txt", "text/plain", iter(chunks(b"staff only")))
        walk_to(s, services, ivy.unlocked.actor, s.get(Case, case.case_id),
                CaseStatus.DECIDED)
        message = send_message(s, services, ivy.unlocked, case.case_id,
                               MessageKind.FEEDBACK, "Our decision", [stored])
        ids = {"message_id": message.id, "file_id": message.attachments[0].id}
    return {**team, **ids, "case_id": case.case_id}


def _read(sf: Factory, services: Services, replied: Team) -> Any:
    with transaction(sf) as s:
        return read_case_for_reviewer(s, services, replied["ivy"].unlocked, replied["case_id"])


def test_a_staff_file_moved_onto_the_report_is_refused(
        session_factory: Factory, services: Services, replied: Team) -> None:
    """Attack (old design, bound to case and blob only): a staff file moved onto the report
    read as evidence the reporter had sent."""
    file_id = replied["file_id"]
    _write(session_factory, "update attachments set message_id = NULL where id = :id",
           id=file_id)
    view = _read(session_factory, services, replied)
    assert [(f.id, f.meta) for f in view.files if f.id == file_id] == [(file_id, None)]
    assert [f.meta.name for f in view.files if f.meta] == ["evidence.txt"]
    assert view.tampered == (f"file:{file_id}",)
    assert AuditAction.RECORD_TAMPERED in audit_actions(session_factory)
    with transaction(session_factory) as s, pytest.raises(TamperedRecord):
        open_file_for_reviewer(s, services, replied["ivy"].unlocked, file_id)


def test_feedback_given_another_author_is_refused(
        session_factory: Factory, services: Services, replied: Team) -> None:
    """Attack (old design): changing messages.reviewer_id put ivy's decision (and its file)
    in kai's name."""
    _write(session_factory, "update messages set reviewer_id = :other where id = :id",
           other=replied["kai"].id, id=replied["message_id"])
    view = _read(session_factory, services, replied)
    (message,) = [m for m in view.messages if m.id == replied["message_id"]]
    assert message.tampered and message.body == ""
    assert [f.meta for f in message.files] == [None]
    assert sorted(view.tampered) == sorted([f"message:{message.id}",
                                            f"file:{replied['file_id']}"])
    assert "case:record:tampered" in audit_actions(session_factory)


def test_a_message_copied_to_another_row_is_refused(
        session_factory: Factory, services: Services, replied: Team) -> None:
    """Attack (old design): a copy of a feedback row under a new id read as a second one."""
    copy_id = random_row_id()
    columns = ("case_id, position, author, reviewer_id, kind, key_kind, key_epoch, binding,"
               " body_ciphertext, created_on")
    _write(session_factory, f"insert into messages (id, {columns}) select :new, {columns}"
           " from messages where id = :id", new=copy_id, id=replied["message_id"])
    view = _read(session_factory, services, replied)
    by_id = {m.id: m for m in view.messages}
    assert by_id[replied["message_id"]].body == "Our decision"
    assert by_id[copy_id].tampered and by_id[copy_id].body == ""
    assert view.tampered == (f"message:{copy_id}",)
    assert "case:record:tampered" in audit_actions(session_factory)


def test_a_totp_secret_copied_to_another_account_does_not_open(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): copying one's own TOTP secret onto a colleague's row let one's
    own authenticator app make their codes."""
    ivy, kai = team["ivy"], team["kai"]
    _write(session_factory, "update reviewers set totp_secret_wrapped = (select"
           " totp_secret_wrapped from reviewers where id = :src) where id = :dst",
           src=ivy.id, dst=kai.id)
    with session_factory() as s:
        assert totp_secret(services, _rev(s, kai.id)) is None
        assert totp_secret(services, _rev(s, ivy.id)) is not None


# --- Finding 7: authenticated public keys -----------------------------------------------------


def test_a_public_key_written_by_an_attacker_gets_no_grant(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): overwriting reviewers.public_key with one's own key made every
    new report to that handler's category open with the attacker's private key. Now the key
    fails its tag: no grant, an alarm, and the owner's next login restores the real key."""
    ivy, kai = team["ivy"], team["kai"]
    attacker = generate_keypair()
    _write(session_factory, "update reviewers set public_key = :k where id = :id",
           k=attacker.public_key, id=ivy.id)
    case = submit(session_factory, services)
    assert _grants(session_factory, case.case_id, ivy.id) == []
    assert not any(_opens(attacker.private_key, g[2]) for g in _grants(session_factory,
                                                                        case.case_id))
    kai_grants = _grants(session_factory, case.case_id, kai.id)
    assert kai_grants and all(_opens(kai.private_key, g[2]) for g in kai_grants)  # control
    # Found during a submission, the alarm waits with the reporter's events (an exact time
    # would date the submission for whoever planted the key), and reaches the log after the
    # reporter's day has ended.
    assert {"account": "ivy", "where": "submission"} not in _alarms(session_factory)
    with transaction(session_factory) as s:
        sequence_reporter_events(s, Clock(now=lambda: utc_now() + timedelta(days=1, hours=5)))
    assert {"account": "ivy", "where": "submission"} in _alarms(session_factory)

    later = utc_now() + timedelta(seconds=90)  # a TOTP step after the enrolment's
    shifted = dataclasses.replace(services, clock=Clock(now=lambda: later))
    with session_factory() as s:
        secret = totp_secret(services, _rev(s, ivy.id))
    assert secret is not None
    with transaction(session_factory) as s:
        assert authenticate(s, shifted, "ivy", ivy.passphrase, pyotp.TOTP(secret).at(later)).ok
    with session_factory() as s:
        assert _rev(s, ivy.id).public_key == public_key_of(ivy.private_key)
    assert {"reviewer_id": ivy.id, "where": "login"} in _alarms(session_factory)
    repaired = _grants(session_factory, submit(session_factory, services).case_id, ivy.id)
    assert repaired and all(_opens(ivy.private_key, g[2]) for g in repaired)
