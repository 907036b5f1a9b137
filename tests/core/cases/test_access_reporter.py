"""The reporter's key opens no team material; deactivation ends sessions. (Recovery
re-grants are tested in test_recovery.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from core.cases.casework import (
    open_file_for_reviewer,
    post_reviewer_message,
    store_reviewer_file,
)
from core.cases.contexts import (
    identity_context,
    message_record_context,
)
from core.cases.recovery import regrant_member_cases
from core.db import transaction
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.intake.reporter import (
    login_submitter,
    open_file_for_submitter,
)
from core.models import (
    CaseGrant,
    KeyKind,
    Message,
    MessageKind,
    Recipient,
    ReviewerSession,
)
from core.staff.accounts import deactivate_reviewer
from crypto.errors import CryptoError, DecryptionError
from crypto.records import decrypt_record
from tests.core.cases.test_access import (
    _reviewer,
    assert_not_numbered_for_submitter,
)
from tests.core.factories import chunks, submit


def test_submitter_key_cannot_open_team_material(session_factory, services, team):
    case = team["case"]
    with transaction(session_factory) as s:
        access = login_submitter(s, services, case.receipt_code)
    with session_factory() as s:
        grants = (
            s.execute(
                select(CaseGrant).where(
                    CaseGrant.case_id == case.case_id, CaseGrant.recipient == Recipient.SUBMITTER
                )
            )
            .scalars()
            .all()
        )
        team_notes = [(m.body_ciphertext, message_record_context(case.reference, m))
                      for m in s.execute(select(Message).where(
                          Message.key_kind == KeyKind.TEAM)).scalars()]
        identity_ct = bytes(
            s.execute(
                text("select identity_ciphertext from cases where id = :c"), {"c": case.case_id}
            ).scalar_one()
        )
    # The reporter's only grant is the case key.
    assert [g.key_kind for g in grants] == [KeyKind.CASE]
    assert team_notes
    case_key = access.opened.first_case_key
    for body, context in team_notes:
        with pytest.raises(DecryptionError):
            decrypt_record(case_key, bytes(body), context)
    with pytest.raises(DecryptionError):
        decrypt_record(case_key, identity_ct, identity_context(case.reference))


def test_submitter_cannot_download_team_files(session_factory, services, team):
    case = team["case"]
    ivy = team["ivy"]
    with transaction(session_factory) as s:
        stored = store_reviewer_file(
            services,
            ivy.unlocked,
            s,
            case.case_id,
            KeyKind.TEAM,
            "evidence.txt",
            "text/plain",
            chunks(b"internal only"),
        )
        post_reviewer_message(
            s, services, ivy.unlocked, case.case_id, MessageKind.INTERNAL_NOTE, "see file", [stored]
        )
    with session_factory() as s:
        attachment_id = s.execute(
            text("select id from attachments where blob_id = :b"), {"b": stored.blob_id}
        ).scalar_one()
    with transaction(session_factory) as s:
        _meta, data = open_file_for_reviewer(s, services, ivy.unlocked, attachment_id)
        assert b"".join(data) == b"internal only"
    with transaction(session_factory) as s:
        access = login_submitter(s, services, case.receipt_code)

    with pytest.raises(NotFound), transaction(session_factory) as s:
        open_file_for_submitter(s, services, access, attachment_id)
    assert_not_numbered_for_submitter(session_factory, access, attachment_id)


def test_case_key_file_on_internal_note_stays_internal(session_factory, services, team):
    case = team["case"]
    ivy = team["ivy"]
    with transaction(session_factory) as s:
        stored = store_reviewer_file(
            services,
            ivy.unlocked,
            s,
            case.case_id,
            KeyKind.CASE,
            "hr-notes.txt",
            "text/plain",
            chunks(b"internal remarks"),
        )
    try:
        with transaction(session_factory) as s:
            post_reviewer_message(
                s,
                services,
                ivy.unlocked,
                case.case_id,
                MessageKind.INTERNAL_NOTE,
                "attached",
                [stored],
            )
    except InvalidInput:
        return  # refusing the combination is a correct fix
    with session_factory() as s:
        attachment_id = s.execute(
            text("select id from attachments where blob_id = :b"), {"b": stored.blob_id}
        ).scalar_one()
    with transaction(session_factory) as s:
        access = login_submitter(s, services, case.receipt_code)

    leaked = None
    try:
        with transaction(session_factory) as s:
            _meta, stream = open_file_for_submitter(s, services, access, attachment_id)
            leaked = b"".join(stream)
    except (NotFound, AccessDenied, CryptoError):
        pass
    assert leaked is None, "the reporter downloaded a file attached to an internal note"
    assert_not_numbered_for_submitter(session_factory, access, attachment_id)


def test_deactivation_deletes_sessions(session_factory, services, team):
    from core.models import Reviewer as R  # noqa: N814

    now = services.clock.now()
    with transaction(session_factory) as s:
        for i in range(2):
            s.add(
                ReviewerSession(
                    id_hash=bytes([i]) * 32,
                    reviewer_id=team["ivy"].id,
                    sealed_private_key=b"x" * 72,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(hours=1),
                    reauthenticated_at=now,
                )
            )
        s.add(
            ReviewerSession(
                id_hash=b"\xff" * 32,
                reviewer_id=team["outsider"].id,
                sealed_private_key=b"y" * 72,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=1),
                reauthenticated_at=now,
            )
        )
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "ivy")
    with session_factory() as s:
        owners = s.execute(select(ReviewerSession.reviewer_id)).scalars().all()
        ivy = s.get(R, team["ivy"].id)
        assert not ivy.active and ivy.deactivated_at is not None
    assert owners == [team["outsider"].id]
    with pytest.raises(Conflict), transaction(session_factory) as s:
        deactivate_reviewer(s, services, "ivy")
    # New cases are no longer routed to the deactivated intake reviewer.
    result = submit(session_factory, services, category="security")
    assert result.unrouted
    # ... and the recovery path refuses to regrant an inactive account.
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        regrant_member_cases(s, services, b"\x01" * 32, _reviewer(s, team["ivy"]))

