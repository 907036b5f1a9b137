"""Refused submissions leave nothing behind; confidential identities and their reveal. (The
reveal's refusals are tested in tests/core/cases/test_casework.py.)"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select, text

from core.audit.log import AuditAction
from core.cases.casework import (
    read_case_for_reviewer,
)
from core.cases.content import Identity, ReportContent
from core.cases.contexts import identity_context
from core.cases.identity_access import reveal_identity
from core.db import transaction
from core.errors import (
    AccessDenied,
    InvalidInput,
)
from core.intake.reporter import (
    login_submitter,
    read_case_for_submitter,
)
from core.intake.submission import SubmissionDraft, submit_report
from core.models import (
    AuditEvent,
    Case,
    CaseGrant,
    Disclosure,
    KeyKind,
    Message,
    MessageKind,
    Recipient,
)
from crypto.keys import open_sealed
from crypto.records import decrypt_record
from tests.core.factories import add_reviewer, approve_identity, submit
from tests.core.intake.test_submission import (
    _blob_files,
    _counts,
)


def test_invalid_category_rolls_back_everything(session_factory, services, intake):
    before = _counts(session_factory)
    with session_factory() as s:
        head_before = s.execute(text("select size, head from audit_head")).one()
    with pytest.raises(InvalidInput) as info:
        submit(
            session_factory,
            services,
            category="no_such_category",
            files=[("a.txt", b"a" * 1000), ("b.txt", b"b")],
        )
    assert info.value.field == "category"
    assert _counts(session_factory) == before
    with session_factory() as s:
        assert s.execute(text("select size, head from audit_head")).one() == head_before
    # draft.discard (called by the factory on failure) removed the encrypted blobs.
    assert _blob_files(services) == []


def test_draft_discard_removes_its_blobs(services):
    draft = SubmissionDraft()
    draft.add_file(services, "a.txt", "text/plain", [b"a" * 5000])
    draft.add_file(services, "b.txt", "text/plain", [b"b"])
    assert len(_blob_files(services)) == 2
    draft.discard(services.blobs)
    assert _blob_files(services) == []
    assert draft.files == []


def test_failure_after_submit_report_leaves_no_trace(session_factory, services, intake):
    before = _counts(session_factory)
    draft = SubmissionDraft()
    with pytest.raises(RuntimeError, match="boom"), transaction(session_factory) as s:
        submit_report(
            s, services, draft, category_code="it_fault", report=ReportContent(summary="x")
        )
        raise RuntimeError("boom")
    assert _counts(session_factory) == before


def test_inactive_category_is_refused(session_factory, services, intake):
    from core.models import Category

    with transaction(session_factory) as s:
        s.execute(select(Category).where(Category.code == "other")).scalar_one().active = False
    with pytest.raises(InvalidInput):
        submit(session_factory, services, category="other")


def test_summary_is_required(session_factory, services, intake):
    with pytest.raises(InvalidInput) as info:
        submit(session_factory, services, report=ReportContent(summary="   "))
    assert info.value.field == "summary"
    assert _counts(session_factory)["cases"] == 0


def test_too_many_files_are_refused(session_factory, services, intake):
    services = dataclasses.replace(
        services, config=dataclasses.replace(services.config, max_files=2)
    )
    with pytest.raises(InvalidInput):
        submit(session_factory, services, files=[("a", b"1"), ("b", b"2"), ("c", b"3")])
    assert _blob_files(services) == []
    assert _counts(session_factory)["cases"] == 0


def test_oversized_submission_is_refused_and_leaves_no_blob(session_factory, services, intake):
    config = dataclasses.replace(services.config, max_submission_bytes=10_000)
    services = dataclasses.replace(services, config=config)
    with pytest.raises(InvalidInput):
        submit(session_factory, services, files=[("a", b"1" * 6000), ("b", b"2" * 6000)])
    assert _blob_files(services) == []
    assert [p for p in (services.config.blob_dir / "tmp").iterdir()] == []


def test_unrouted_category_is_flagged(session_factory, services, intake):
    result = submit(session_factory, services, category="other")
    assert result.unrouted
    with session_factory() as s:
        grants = (
            s.execute(select(CaseGrant).where(CaseGrant.case_id == result.case_id)).scalars().all()
        )
    # Only the reporter and the recovery key.
    assert {g.recipient for g in grants} == {Recipient.SUBMITTER, Recipient.RECOVERY}


def test_confidential_identity_is_sealed_and_revealed_with_a_reason(
    session_factory, services, intake, recovery_key
):
    identity = Identity(
        name="Wang Xiaoming 王小明", contact="+86 138 0000 0000", position="Network engineer"
    )
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    result = submit(session_factory, services, identity=identity)

    with session_factory() as s:
        case = s.get(Case, result.case_id)
        assert case.disclosure is Disclosure.CONFIDENTIAL
        raw = s.execute(
            text("select identity_ciphertext from cases where id = :i"), {"i": result.case_id}
        ).scalar_one()
        raw = bytes(raw)
        for plain in (identity.name, identity.contact, "王小明", "Wang"):
            assert plain.encode("utf-8") not in raw
        # Neither the submitter nor the intake handler holds an identity grant; the
        # custodian and the recovery key do.
        kinds = {(g.recipient, g.reviewer_id, g.key_kind) for g in case.grants}
        assert (Recipient.SUBMITTER, None, KeyKind.IDENTITY) not in kinds
        assert (Recipient.REVIEWER, intake.id, KeyKind.IDENTITY) not in kinds
        assert (Recipient.REVIEWER, keeper.id, KeyKind.IDENTITY) in kinds
        recovery_grant = next(
            g
            for g in case.grants
            if g.recipient is Recipient.RECOVERY and g.key_kind is KeyKind.IDENTITY
        )
        identity_key = open_sealed(recovery_key.private_key, recovery_grant.sealed_key)
        assert (
            Identity.from_bytes(
                decrypt_record(identity_key, raw, identity_context(result.reference))
            )
            == identity
        )

    # The reporter's view never carries the identity.
    with transaction(session_factory) as s:
        access = login_submitter(s, services, result.receipt_code)
        view = read_case_for_submitter(s, services, access)
    assert "王小明" not in repr(view)

    for reason in ("", "   "):
        with pytest.raises(InvalidInput), transaction(session_factory) as s:
            reveal_identity(s, services, intake.unlocked, result.case_id, reason)

    with pytest.raises(AccessDenied), transaction(session_factory) as s:
        reveal_identity(s, services, intake.unlocked, result.case_id, "Without approval")
    approve_identity(session_factory, services, intake, keeper, result.case_id)
    events_before = _counts(session_factory)["audit_events"]
    with transaction(session_factory) as s:
        revealed = reveal_identity(
            s, services, intake.unlocked, result.case_id, "Needed to arrange witness protection"
        )
    assert revealed == identity
    with session_factory() as s:
        events = (
            s.execute(
                select(AuditEvent)
                .where(AuditEvent.position >= events_before)
                .order_by(AuditEvent.position)
            )
            .scalars()
            .all()
        )
        note = s.execute(select(Message).where(Message.case_id == result.case_id)).scalar_one()
    assert [e.action for e in events] == [AuditAction.IDENTITY_REVEALED]
    assert events[0].reviewer_id == intake.id
    assert events[0].case_id == result.case_id
    assert note.kind is MessageKind.INTERNAL_NOTE and note.key_kind is KeyKind.TEAM

    with transaction(session_factory) as s:
        rview = read_case_for_reviewer(s, services, intake.unlocked, result.case_id)
    [note_view] = rview.messages
    assert "Needed to arrange witness protection" in note_view.body
    assert note_view.reviewer_name == "ivy.intake"
    # ... and the reporter never sees the note.
    with transaction(session_factory) as s:
        assert read_case_for_submitter(s, services, access).messages == ()


def test_confidential_needs_a_name(session_factory, services, intake):
    with pytest.raises(InvalidInput) as info:
        submit(session_factory, services, identity=Identity(name=" ", contact="x@y"))
    assert info.value.field == "name"

