"""Access control is enforced by the cryptography, not only by the use cases."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import select, text

from core.cases.casework import (
    UnlockedReviewer,
    read_case_for_reviewer,
)
from core.cases.content import Identity, ReportContent
from core.cases.contexts import (
    file_key_context,
    file_meta_context,
    identity_context,
    message_context,
    message_record_context,
    report_context,
)
from core.db import transaction
from core.errors import AccessDenied, NotFound
from core.intake.reporter import (
    submitter_file_id,
    submitter_file_numbers,
)
from core.models import (
    Message,
    MessageKind,
    Reviewer,
)
from crypto.errors import CryptoError, DecryptionError
from crypto.keys import generate_keypair, open_sealed, unwrap
from crypto.records import decrypt_record

REPORT = ReportContent(
    summary="Payroll export is world readable", description="Anyone on the intranet can fetch it."
)


def _reviewer(s, handle):
    return s.get(Reviewer, handle.id)


def _all_ciphertexts(session):
    """Every ciphertext column of every row, read with raw SQL (a full database copy)."""
    found: list[tuple[str, bytes]] = []
    queries = {
        "report": "select report_ciphertext from cases",
        "identity": "select identity_ciphertext from cases where identity_ciphertext is not null",
        "message": "select body_ciphertext from messages",
        "file_key": "select wrapped_file_key from attachments",
        "file_meta": "select meta_ciphertext from attachments",
    }
    for kind, sql in queries.items():
        found.extend((kind, bytes(v)) for v in session.execute(text(sql)).scalars())
    return found


def _all_contexts(session):
    contexts = []
    for (reference,) in session.execute(text("select reference from cases")):
        contexts += [report_context(reference), identity_context(reference)]
        contexts += [message_context(reference, kind) for kind in MessageKind]
        for (blob_id,) in session.execute(
            text(
                "select a.blob_id from attachments a join cases c on c.id = a.case_id "
                "where c.reference = :r"
            ),
            {"r": reference},
        ):
            contexts += [
                file_key_context(reference, blob_id),
                file_meta_context(reference, blob_id),
            ]
    return contexts


def test_ungranted_reviewer_cannot_decrypt_with_full_database_access(
    session_factory, services, team
):
    outsider = team["outsider"]
    with session_factory() as s:
        grants = [bytes(v) for v in s.execute(text("select sealed_key from case_grants")).scalars()]
        ciphertexts = _all_ciphertexts(s)
        contexts = _all_contexts(s)
        # The grants exist for others, so the attack has material to work with.
        assert len(grants) >= 6
        assert {k for k, _ in ciphertexts} == {
            "report",
            "identity",
            "message",
            "file_key",
            "file_meta",
        }

    candidate_keys = [outsider.private_key]
    for sealed in grants:
        with contextlib.suppress(DecryptionError):
            candidate_keys.append(open_sealed(outsider.private_key, sealed))
        # Also try the private key as a symmetric key (the submitter grant is a SecretBox).
        with contextlib.suppress(DecryptionError):
            candidate_keys.append(unwrap(outsider.private_key, sealed))
    assert candidate_keys == [outsider.private_key], "a grant opened for the outsider"

    opened = 0
    for key in candidate_keys:
        for _kind, ciphertext in ciphertexts:
            for context in contexts:
                try:
                    decrypt_record(key, ciphertext, context)
                    opened += 1
                except CryptoError:
                    pass
    assert opened == 0

    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, outsider.unlocked, team["case"].case_id)
    # A made-up key pair fares no better.
    stranger = UnlockedReviewer(reviewer_id=outsider.id, private_key=generate_keypair().private_key)
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, stranger, team["case"].case_id)


def test_intake_reviewer_with_a_wrong_private_key_is_denied(session_factory, services, team):
    forged = UnlockedReviewer(reviewer_id=team["ivy"].id, private_key=team["outsider"].private_key)
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, forged, team["case"].case_id)


def test_recovery_key_opens_the_case(session_factory, team, recovery_key):
    case = team["case"]
    with session_factory() as s:
        rows = s.execute(
            text(
                "select key_kind, sealed_key from case_grants where case_id = :c "
                "and recipient = 'recovery'"
            ),
            {"c": case.case_id},
        ).all()
        report_ct = bytes(
            s.execute(
                text("select report_ciphertext from cases where id = :c"), {"c": case.case_id}
            ).scalar_one()
        )
        note_row = s.execute(select(Message).where(
            Message.case_id == case.case_id, Message.kind == MessageKind.INTERNAL_NOTE)
        ).scalar_one()
        note_ct, note_context = note_row.body_ciphertext, message_record_context(
            case.reference, note_row)
        identity_ct = bytes(
            s.execute(
                text("select identity_ciphertext from cases where id = :c"), {"c": case.case_id}
            ).scalar_one()
        )
    keys = {kind: open_sealed(recovery_key.private_key, bytes(sealed)) for kind, sealed in rows}
    assert set(keys) == {"case", "team", "identity"}
    report = decrypt_record(keys["case"], report_ct, report_context(case.reference))
    assert ReportContent.from_bytes(report) == REPORT
    note = decrypt_record(keys["team"], note_ct, note_context)
    assert note == b"Check with HR first"
    identity = Identity.from_bytes(
        decrypt_record(keys["identity"], identity_ct, identity_context(case.reference))
    )
    assert identity.name == "Zhang San"
    # A key of the wrong kind does not open the report.
    with pytest.raises(DecryptionError):
        decrypt_record(keys["team"], report_ct, report_context(case.reference))


def assert_not_numbered_for_submitter(session_factory, access, attachment_id) -> None:
    """The portal links files by number: a file the reporter may not open gets none, and
    the numbers of those they may open run 1, 2, ... without a gap that would show it."""
    with transaction(session_factory) as s:
        numbers = submitter_file_numbers(s, access)
        assert attachment_id not in numbers
        assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
        for number in (0, len(numbers) + 1):
            with pytest.raises(NotFound):
                submitter_file_id(s, access, number)
        assert [submitter_file_id(s, access, n) for n in sorted(numbers.values())] == sorted(
            numbers)
