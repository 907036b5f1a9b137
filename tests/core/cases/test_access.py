"""Access control is enforced by the cryptography, not only by the use cases."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from core.audit.log import Actor
from core.cases.casework import (
    UnlockedReviewer,
    exclude_member,
    grant_case,
    open_file_for_reviewer,
    post_reviewer_message,
    read_case_for_reviewer,
    store_reviewer_file,
)
from core.cases.content import Identity, ReportContent
from core.cases.contexts import (
    file_key_context,
    file_meta_context,
    identity_context,
    message_context,
    report_context,
)
from core.cases.recovery import regrant_member_cases
from core.db import transaction
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.intake.reporter import (
    login_submitter,
    open_file_for_submitter,
    submitter_file_id,
    submitter_file_numbers,
)
from core.models import (
    CaseGrant,
    CaseMember,
    KeyKind,
    MessageKind,
    Recipient,
    Reviewer,
    ReviewerSession,
    Role,
)
from core.staff.accounts import deactivate_reviewer, reset_passphrase
from crypto.errors import CryptoError, DecryptionError
from crypto.keys import generate_keypair, open_sealed, unwrap
from crypto.records import decrypt_record
from crypto.reviewer_keys import unwrap_private_key
from tests.core.factories import add_reviewer, chunks, seed_categories, submit

REPORT = ReportContent(
    summary="Payroll export is world readable", description="Anyone on the intranet can fetch it."
)


@pytest.fixture
def team(session_factory, services):
    """An intake reviewer, an outsider, an auditor and one confidential case with a note."""
    ivy = add_reviewer(session_factory, services, "ivy")
    outsider = add_reviewer(session_factory, services, "oscar")
    auditor = add_reviewer(session_factory, services, "audrey", role=Role.AUDITOR)
    seed_categories(session_factory, {"security": [ivy.id]})
    case = submit(
        session_factory,
        services,
        category="security",
        report=REPORT,
        identity=Identity(name="Zhang San", contact="zs@example.org"),
        files=[("payroll.csv", b"name,salary\n")],
    )
    with transaction(session_factory) as s:
        post_reviewer_message(
            s,
            services,
            ivy.unlocked,
            case.case_id,
            MessageKind.INTERNAL_NOTE,
            "Check with HR first",
        )
        post_reviewer_message(
            s,
            services,
            ivy.unlocked,
            case.case_id,
            MessageKind.INFORMATION,
            "We received your report",
        )
    return {"ivy": ivy, "outsider": outsider, "auditor": auditor, "case": case}


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
        assert len(grants) >= 7
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
        note_ct = bytes(
            s.execute(
                text(
                    "select body_ciphertext from messages "
                    "where case_id = :c and kind = 'internal_note'"
                ),
                {"c": case.case_id},
            ).scalar_one()
        )
        identity_ct = bytes(
            s.execute(
                text("select identity_ciphertext from cases where id = :c"), {"c": case.case_id}
            ).scalar_one()
        )
    keys = {kind: open_sealed(recovery_key.private_key, bytes(sealed)) for kind, sealed in rows}
    assert set(keys) == {"case", "team", "identity"}
    report = decrypt_record(keys["case"], report_ct, report_context(case.reference))
    assert ReportContent.from_bytes(report) == REPORT
    note = decrypt_record(
        keys["team"], note_ct, message_context(case.reference, MessageKind.INTERNAL_NOTE)
    )
    assert note == b"Check with HR first"
    identity = Identity.from_bytes(
        decrypt_record(keys["identity"], identity_ct, identity_context(case.reference))
    )
    assert identity.name == "Zhang San"
    # A key of the wrong kind does not open the report.
    with pytest.raises(DecryptionError):
        decrypt_record(keys["team"], report_ct, report_context(case.reference))


def test_grant_case_lets_the_grantee_read(session_factory, services, team):
    case_id = team["case"].case_id
    outsider = team["outsider"]
    with transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, outsider))
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, outsider.unlocked, case_id)
        member = s.get(CaseMember, (case_id, outsider.id))
    assert view.report == REPORT
    assert [m.body for m in view.messages] == ["Check with HR first", "We received your report"]
    assert member is not None and not member.excluded
    # Granting again adds no duplicate grants.
    with transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, outsider))
    with session_factory() as s:
        kinds = (
            s.execute(
                select(CaseGrant.key_kind).where(
                    CaseGrant.case_id == case_id, CaseGrant.reviewer_id == outsider.id
                )
            )
            .scalars()
            .all()
        )
    assert sorted(kinds) == sorted([KeyKind.CASE, KeyKind.TEAM])


def test_case_key_only_grant_hides_the_team_notes(session_factory, services, team):
    case_id = team["case"].case_id
    outsider = team["outsider"]
    with transaction(session_factory) as s:
        grant_case(
            s,
            services,
            team["ivy"].unlocked,
            case_id,
            _reviewer(s, outsider),
            kinds=(KeyKind.CASE,),
        )
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, outsider.unlocked, case_id)
    assert [m.body for m in view.messages] == ["We received your report"]
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        post_reviewer_message(
            s, services, outsider.unlocked, case_id, MessageKind.INTERNAL_NOTE, "sneaky"
        )


def test_only_someone_who_can_open_the_case_can_grant_it(session_factory, services, team):
    case_id = team["case"].case_id
    third = add_reviewer(session_factory, services, "tess")
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        grant_case(s, services, team["outsider"].unlocked, case_id, _reviewer(s, third))
    with session_factory() as s:
        assert s.execute(select(CaseGrant).where(CaseGrant.reviewer_id == third.id)).first() is None


def test_exclude_member_removes_grants_and_blocks_regrant(
    session_factory, services, team, recovery_key
):
    case_id = team["case"].case_id
    outsider = team["outsider"]
    with transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, outsider))
    with transaction(session_factory) as s:
        read_case_for_reviewer(s, services, outsider.unlocked, case_id)
        exclude_member(s, services, Actor.reviewer(team["ivy"].id), case_id, _reviewer(s, outsider))
    with session_factory() as s:
        assert (
            s.execute(
                text("select count(*) from case_grants where reviewer_id = :r"), {"r": outsider.id}
            ).scalar_one()
            == 0
        )
        assert s.get(CaseMember, (case_id, outsider.id)).excluded
        # ivy's grants are untouched.
        assert (
            s.execute(
                text("select count(*) from case_grants where reviewer_id = :r"),
                {"r": team["ivy"].id},
            ).scalar_one()
            == 3
        )
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, outsider.unlocked, case_id)
    with pytest.raises(Conflict), transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, outsider))
    # The recovery path does not bring them back either.
    with transaction(session_factory) as s:
        result = regrant_member_cases(s, services, recovery_key.private_key, _reviewer(s, outsider))
    assert result.regranted == 0
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, outsider.unlocked, case_id)


def test_excluding_a_non_member_preempts_a_later_grant(session_factory, services, team):
    case_id = team["case"].case_id
    with transaction(session_factory) as s:
        exclude_member(s, services, Actor.system(), case_id, _reviewer(s, team["outsider"]))
    with pytest.raises(Conflict), transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, team["outsider"]))


def test_excluded_intake_reviewer_loses_access(session_factory, services, team):
    case_id = team["case"].case_id
    with transaction(session_factory) as s:
        # The last member cannot leave (test_exclusion.py): a colleague joins first.
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, team["outsider"]))
        exclude_member(s, services, Actor.system(), case_id, _reviewer(s, team["ivy"]))
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, team["ivy"].unlocked, case_id)


def test_auditor_cannot_be_granted_nor_routed(session_factory, services, team):
    case_id = team["case"].case_id
    auditor = team["auditor"]
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        grant_case(s, services, team["ivy"].unlocked, case_id, _reviewer(s, auditor))
    with session_factory() as s:
        assert (
            s.execute(
                text("select count(*) from case_grants where reviewer_id = :r"), {"r": auditor.id}
            ).scalar_one()
            == 0
        )
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, auditor.unlocked, case_id)
    from core.categories.lookup import set_intake

    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        set_intake(s, "other", [_reviewer(s, auditor)])


def test_auditor_on_intake_list_gets_no_grant(session_factory, services, team):
    """Even if an auditor ends up on an intake list, submission seals nothing to them."""
    from core.models import category_intake

    with transaction(session_factory) as s:
        category_id = s.execute(text("select id from categories where code = 'other'")).scalar_one()
        s.execute(
            category_intake.insert().values(category_id=category_id, reviewer_id=team["auditor"].id)
        )
    result = submit(session_factory, services, category="other")
    assert result.unrouted
    with session_factory() as s:
        assert (
            s.execute(
                text("select count(*) from case_grants where reviewer_id = :r"),
                {"r": team["auditor"].id},
            ).scalar_one()
            == 0
        )


def test_inactive_reviewer_cannot_be_granted(session_factory, services, team):
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "oscar")
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        grant_case(
            s, services, team["ivy"].unlocked, team["case"].case_id, _reviewer(s, team["outsider"])
        )


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
        team_notes = s.execute(
            text("select kind, body_ciphertext from messages where key_kind = 'team'")
        ).all()
        identity_ct = bytes(
            s.execute(
                text("select identity_ciphertext from cases where id = :c"), {"c": case.case_id}
            ).scalar_one()
        )
    # The reporter's only grant is the case key.
    assert [g.key_kind for g in grants] == [KeyKind.CASE]
    assert team_notes
    for kind, body in team_notes:
        with pytest.raises(DecryptionError):
            decrypt_record(access.case_key, bytes(body), message_context(case.reference, kind))
    with pytest.raises(DecryptionError):
        decrypt_record(access.case_key, identity_ct, identity_context(case.reference))


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


def test_reset_passphrase_then_recovery_regrant(session_factory, services, team, recovery_key):
    case_id = team["case"].case_id
    ivy = team["ivy"]
    with transaction(session_factory) as s:
        old_public = _reviewer(s, ivy).public_key
        temporary = reset_passphrase(s, services, "ivy")
    with session_factory() as s:
        reviewer = _reviewer(s, ivy)
        assert reviewer.public_key != old_public
        assert reviewer.must_change_passphrase
        new_private = unwrap_private_key(reviewer.wrapped_private_key, temporary)
        assert (
            s.execute(
                text("select count(*) from case_grants where reviewer_id = :r"), {"r": ivy.id}
            ).scalar_one()
            == 0
        )
    with pytest.raises(DecryptionError):
        unwrap_private_key(reviewer.wrapped_private_key, ivy.passphrase)
    assert new_private != ivy.private_key
    renewed = UnlockedReviewer(ivy.id, new_private)
    for who in (renewed, ivy.unlocked):
        with pytest.raises(AccessDenied), transaction(session_factory) as s:
            read_case_for_reviewer(s, services, who, case_id)

    # A wrong recovery key is refused and grants nothing.
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        regrant_member_cases(s, services, generate_keypair().private_key, _reviewer(s, ivy))

    with transaction(session_factory) as s:
        result = regrant_member_cases(s, services, recovery_key.private_key, _reviewer(s, ivy))
    assert result.regranted == 1 and result.without_recovery_grant == 0
    with transaction(session_factory) as s:
        view = read_case_for_reviewer(s, services, renewed, case_id)
    assert view.report == REPORT
    assert "Check with HR first" in [m.body for m in view.messages]
    # The old key is useless for good.
    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        read_case_for_reviewer(s, services, ivy.unlocked, case_id)
    # Idempotent: a second run finds nothing to do.
    with transaction(session_factory) as s:
        again = regrant_member_cases(s, services, recovery_key.private_key, _reviewer(s, ivy))
    assert again.regranted == 0


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
