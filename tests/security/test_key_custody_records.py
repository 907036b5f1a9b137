"""Issue #12, key custody, findings 4 to 7: key epochs, the reporter's exclusions, records
bound to their place, authenticated public keys (findings 1 and 3: test_key_custody.py).
Each test's docstring names the attack that worked on the old design; every test runs on
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import text

from core.audit.log import AuditAction, sequence_reporter_events
from core.cases.casework import (
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
    send_message,
    store_reviewer_file,
)
from core.cases.contexts import message_record_context
from core.cases.team_changes import LastMemberError, exclude_member, grant_case
from core.clock import Clock, utc_now
from core.db import transaction
from core.errors import AccessDenied, Conflict, InvalidInput, TamperedRecord
from core.intake.reporter import login_submitter, read_case_for_submitter
from core.models import (
    Case,
    CaseMember,
    CaseStatus,
    KeyKind,
    MemberRole,
    Message,
    MessageKind,
)
from core.models.base import random_row_id
from core.services import Services
from core.staff.accounts import totp_secret
from core.staff.login import authenticate
from crypto.errors import DecryptionError
from crypto.keys import generate_keypair
from crypto.records import decrypt_record
from crypto.recovery import public_key_of
from tests.core.factories import (
    ReviewerHandle,
    add_reviewer,
    audit_actions,
    chunks,
    submit,
    walk_to,
)
from tests.security.key_custody_support import (
    Factory,
    Team,
    account,
    grants_of,
    key_alarms,
    opens,
    submit_excluding,
    write_sql,
)

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
    copied = grants_of(session_factory, case_id, kai.id)
    with transaction(session_factory) as s:
        exclude_member(s, services, ivy.unlocked.actor, case_id, account(s, kai.id))
    after = [_post(session_factory, services, ivy, case_id, MessageKind.INTERNAL_NOTE, "n2"),
             _post(session_factory, services, ivy, case_id, MessageKind.INFORMATION, "r2")]
    old_keys = [key for _, _, sealed in copied if (key := opens(kai.private_key, sealed))]
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
        grant_case(s, services, ivy.unlocked, case_id, account(s, lea.id), role=MemberRole.LEAD)
    with transaction(session_factory) as s, pytest.raises(AccessDenied):
        exclude_member(s, services, ivy.unlocked.actor, case_id, account(s, kai.id))
    for member in (kai, ivy):
        with transaction(session_factory) as s:
            exclude_member(s, services, lea.unlocked.actor, case_id, account(s, member.id))
    with transaction(session_factory) as s, pytest.raises(LastMemberError):
        exclude_member(s, services, lea.unlocked.actor, case_id, account(s, lea.id))
    with session_factory() as s:
        assert s.get(Case, case_id).key_epoch == 3  # type: ignore[union-attr]


# --- Finding 5: the reporter leaves a handler out ---------------------------------------------


def test_a_handler_the_reporter_left_out_gets_nothing(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): the report reached every intake handler, including the person it
    was about, and a teammate could grant it to them later. Only a handler the form offered
    can be left out."""
    ivy, kai = team["ivy"], team["kai"]
    first, second = (submit_excluding(session_factory, services, [kai.id]) for _ in "12")
    assert grants_of(session_factory, first.case_id, kai.id) == []
    with session_factory() as s:
        assert s.get(CaseMember, (first.case_id, kai.id)) is None
        rows = [dict(r) for case in (first, second) for r in s.execute(
            text("select * from reporter_exclusions where case_id = :c"),
            {"c": case.case_id}).mappings()]
    # One row per case, no reviewer column, and a tag that differs per case (not linkable).
    assert len(rows) == 2 and all(set(r) == {"case_id", "tag"} for r in rows)
    assert rows[0]["tag"] != rows[1]["tag"] and len(bytes(rows[0]["tag"])) == 32
    with transaction(session_factory) as s, pytest.raises(Conflict):
        grant_case(s, services, ivy.unlocked, first.case_id, account(s, kai.id))
    outsider = add_reviewer(session_factory, services, "oscar")  # not a handler of it_fault
    for bogus in ([outsider.id], [987654]):
        with pytest.raises(InvalidInput):
            submit_excluding(session_factory, services, bogus)


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
    write_sql(session_factory, "update attachments set message_id = NULL where id = :id",
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
    write_sql(session_factory, "update messages set reviewer_id = :other where id = :id",
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
    write_sql(session_factory, f"insert into messages (id, {columns}) select :new, {columns}"
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
    write_sql(session_factory, "update reviewers set totp_secret_wrapped = (select"
           " totp_secret_wrapped from reviewers where id = :src) where id = :dst",
           src=ivy.id, dst=kai.id)
    with session_factory() as s:
        assert totp_secret(services, account(s, kai.id)) is None
        assert totp_secret(services, account(s, ivy.id)) is not None


# --- Finding 7: authenticated public keys -----------------------------------------------------


def test_a_public_key_written_by_an_attacker_gets_no_grant(
        session_factory: Factory, services: Services, team: Team) -> None:
    """Attack (old design): overwriting reviewers.public_key with one's own key made every
    new report to that handler's category open with the attacker's private key. Now the key
    fails its tag: no grant, an alarm, and the owner's next login restores the real key."""
    ivy, kai = team["ivy"], team["kai"]
    attacker = generate_keypair()
    write_sql(session_factory, "update reviewers set public_key = :k where id = :id",
           k=attacker.public_key, id=ivy.id)
    case = submit(session_factory, services)
    assert grants_of(session_factory, case.case_id, ivy.id) == []
    assert not any(opens(attacker.private_key, g[2]) for g in grants_of(session_factory,
                                                                        case.case_id))
    kai_grants = grants_of(session_factory, case.case_id, kai.id)
    assert kai_grants and all(opens(kai.private_key, g[2]) for g in kai_grants)  # control
    # Found during a submission, the alarm waits with the reporter's events (an exact time
    # would date the submission for whoever planted the key), and reaches the log after the
    # reporter's day has ended.
    assert {"account": "ivy", "where": "submission"} not in key_alarms(session_factory)
    with transaction(session_factory) as s:
        sequence_reporter_events(s, Clock(now=lambda: utc_now() + timedelta(days=1, hours=5)))
    assert {"account": "ivy", "where": "submission"} in key_alarms(session_factory)
    assert AuditAction.KEY_REJECTED in audit_actions(session_factory)

    later = utc_now() + timedelta(seconds=90)  # a TOTP step after the enrolment's
    shifted = dataclasses.replace(services, clock=Clock(now=lambda: later))
    with session_factory() as s:
        secret = totp_secret(services, account(s, ivy.id))
    assert secret is not None
    with transaction(session_factory) as s:
        assert authenticate(s, shifted, "ivy", ivy.passphrase, pyotp.TOTP(secret).at(later)).ok
    with session_factory() as s:
        assert account(s, ivy.id).public_key == public_key_of(ivy.private_key)
    assert {"reviewer_id": ivy.id, "where": "login"} in key_alarms(session_factory)
    repaired = grants_of(session_factory, submit(session_factory, services).case_id, ivy.id)
    assert repaired and all(opens(ivy.private_key, g[2]) for g in repaired)
