"""Crypto-shredding a due case (core.cases.shredding) through `run_retention`: afterwards no
ciphertext, blob or grant of the case remains anywhere, the audit log (and its signed
checkpoints) still verify, the statistics are unchanged, and the receipt code opens nothing.
A failure in the middle leaves the case whole."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.audit.checkpoints import sign_checkpoint, verifier_key
from core.audit.export import write_export
from core.audit.verifier import verify_export
from core.cases import shredding
from core.cases.retention import due_on
from core.db import transaction
from core.errors import ReceiptNotRecognised
from core.intake.reporter import login_submitter
from core.models import (
    AuditEvent,
    Case,
    CaseGrant,
    CaseMember,
    CorrectiveAction,
    Decision,
    IdentityRequest,
    InboxCount,
    RequestStatus,
)
from core.operations.retention_run import run_retention
from core.statistics.figures import dashboard_figures
from core.statistics.periods import parse_period
from tests.core.audit.test_log import verify_all
from tests.core.cases.retention_world import (
    all_bytes,
    build_full_case,
    case_bytes,
    case_rows,
    due_day,
    dump,
)
from tests.core.factories import assert_counters_exact, detached_case


def _transaction(session_factory):
    return lambda: transaction(session_factory)


def _figures(session_factory, services):
    today = services.clock.today()
    with session_factory() as s:
        return dashboard_figures(s, parse_period(str(today.year)), today=today)


def _kept(session_factory, case_id):
    """What retention keeps: the case's clear columns, its memberships, the clear columns of
    decisions and actions, the inbox counters."""
    with session_factory() as s:
        case = s.get(Case, case_id)
        clear = (case.reference, case.status, case.category_id, case.channel, case.disclosure,
                 case.received_on, case.acknowledged_on, case.feedback_given_on,
                 case.closed_on, case.scope_decision, case.satisfaction, case.priority,
                 case.key_epoch)
        members = sorted(s.execute(select(CaseMember.reviewer_id, CaseMember.role,
                                          CaseMember.excluded, CaseMember.status)
                                   .where(CaseMember.case_id == case_id)).all())
        decisions = sorted(s.execute(select(Decision.version, Decision.finding,
                                            Decision.root_cause, Decision.sanction_types)
                                     .where(Decision.case_id == case_id)).all())
        actions = sorted(s.execute(select(CorrectiveAction.position, CorrectiveAction.status,
                                          CorrectiveAction.due_on, CorrectiveAction.done_on)
                                   .where(CorrectiveAction.case_id == case_id)).all())
        counts = sorted(s.execute(select(InboxCount.reviewer_id, InboxCount.status,
                                         InboxCount.count)).all())
    return clear, members, decisions, actions, counts


@pytest.fixture
def full(session_factory, services):
    return build_full_case(session_factory, services)


def test_after_shredding_nothing_of_the_case_remains_and_proofs_verify(
        session_factory, services, full, tmp_path) -> None:
    # An auditor's checkpoint before the run, kept aside.
    with transaction(session_factory) as s:
        note = sign_checkpoint(s, services).row.note
    with session_factory() as s:
        before = case_bytes(s, full.case_id)
        stored_blobs = {blob_id for blob_id, _day in services.blobs.list_blobs()}
    assert len(before) > 20  # the report, identity, messages, files, grants, seals, ...
    assert full.blob_ids <= stored_blobs
    figures = _figures(session_factory, services)
    kept = _kept(session_factory, full.case_id)
    closed_on = detached_case(session_factory, full.case_id).closed_on
    assert closed_on == services.clock.today()

    summary = run_retention(_transaction(session_factory), services,
                            due_day(services, closed_on))

    assert [c.reference for c in summary.destroyed] == [full.reference]
    assert summary.failed == [] and summary.blobs_left == 0
    with session_factory() as s:
        assert before.isdisjoint(all_bytes(s))  # in no column of any table
        assert s.scalar(select(func.count()).select_from(CaseGrant)
                        .where(CaseGrant.case_id == full.case_id)) == 0
        requests = s.execute(select(IdentityRequest.status, IdentityRequest.reason_ciphertext)
                             .where(IdentityRequest.case_id == full.case_id)).all()
        case = s.get(Case, full.case_id)
        assert case.content_destroyed_on == due_day(services, closed_on)
        assert case.report_ciphertext == b"" and case.identity_ciphertext is None
    assert sorted(requests) == [(RequestStatus.APPROVED, b""), (RequestStatus.WITHDRAWN, b"")]
    assert full.blob_ids.isdisjoint(b for b, _day in services.blobs.list_blobs())
    # The clear facts, statistics and inbox counters are as they were.
    assert _kept(session_factory, full.case_id) == kept
    assert _figures(session_factory, services) == figures
    assert_counters_exact(session_factory)
    # The log: the chain, and an export checked against the checkpoint kept before.
    verify_all(session_factory)
    with session_factory() as s:
        write_export(s, services, tmp_path / "export.zip")
        s.commit()
        destroyed = s.execute(select(AuditEvent.detail).where(
            AuditEvent.case_id == full.case_id,
            AuditEvent.action == "case:destroy")).scalars().all()
    report = verify_export(tmp_path / "export.zip", key=verifier_key(services),
                           kept=[("kept.txt", note)])
    assert report.ok, report.problems
    (detail,) = [json.loads(d) for d in destroyed]
    assert detail["grants"] > 10 and detail["messages"] >= 4
    assert {k: v for k, v in detail.items() if k not in ("grants", "messages")} == {
        "files": 4, "evidence": 1, "decisions": 1, "actions": 1, "action_updates": 1,
        "identity_requests": 2, "exclusions": 0, "category_examples": 1}
    # The receipt code opens nothing: the portal answers as for an unknown code.
    with session_factory() as s, pytest.raises(ReceiptNotRecognised):
        login_submitter(s, services, full.receipt_code)


def test_a_failure_in_the_middle_leaves_the_case_whole_and_the_run_goes_on(
        session_factory, services, monkeypatch) -> None:
    first = build_full_case(session_factory, services, category="it_fault")
    second = build_full_case(session_factory, services, category="security")
    with session_factory() as s:
        before = case_rows(s, first.case_id)
    failing = first.case_id

    real = shredding.record_event

    def broken(session, clock, action, actor, *, case_id=None, **kwargs):
        if case_id == failing:  # after the grants, files and messages were deleted
            raise RuntimeError("injected")
        return real(session, clock, action, actor, case_id=case_id, **kwargs)

    monkeypatch.setattr(shredding, "record_event", broken)
    day = due_day(services, services.clock.today())
    summary = run_retention(_transaction(session_factory), services, day)

    assert [c.reference for c in summary.failed] == [first.reference]
    assert [c.reference for c in summary.destroyed] == [second.reference]
    with session_factory() as s:
        assert case_rows(s, first.case_id) == before  # every row of it, as it was
    assert first.blob_ids <= {b for b, _day in services.blobs.list_blobs()}
    assert second.blob_ids.isdisjoint(b for b, _day in services.blobs.list_blobs())
    # The next run (without the fault) destroys it.
    monkeypatch.setattr(shredding, "record_event", real)
    again = run_retention(_transaction(session_factory), services, day)
    assert [c.reference for c in again.destroyed] == [first.reference]


def test_due_is_checked_again_under_the_lock(session_factory, services, full) -> None:
    """A case listed as due but held (or reopened) before its turn is skipped, unchanged."""
    with session_factory() as s:
        before = dump(s)
        case = s.get(Case, full.case_id)
        day = due_on(case, services.config.retention_days)
    assert day is not None
    with transaction(session_factory) as s:
        assert shredding.destroy_case_content(s, services, full.case_id,
                                              full.lead.unlocked.actor,
                                              today=day - timedelta(days=1)) is None
        s.get(Case, full.case_id).legal_hold = True
    with transaction(session_factory) as s:
        assert shredding.destroy_case_content(s, services, full.case_id,
                                              full.lead.unlocked.actor, today=day) is None
        s.get(Case, full.case_id).legal_hold = False
    with session_factory() as s:
        assert dump(s) == before


def test_shredding_marks_only_the_case_month_stale(session_factory, services, full) -> None:
    """Second reader: the bulk deletes and updates of decisions, actions and their updates
    marked every statistics month stale, so each daily run forced a full recount. Only the
    destroyed case's month is counted again now."""
    from datetime import date

    from sqlalchemy import update

    from core.models import StatisticsMonth
    from core.statistics.staleness import mark_stale

    received = detached_case(session_factory, full.case_id).received_on.replace(day=1)
    other = date(received.year - 1, received.month, 1)
    with transaction(session_factory) as s:
        mark_stale(s, {received, other}, services.clock.today())  # two counted months
        s.execute(update(StatisticsMonth).values(stale=False))
    closed_on = detached_case(session_factory, full.case_id).closed_on
    summary = run_retention(_transaction(session_factory), services,
                            due_day(services, closed_on))
    assert [c.reference for c in summary.destroyed] == [full.reference]
    with session_factory() as s:
        stale = dict(s.execute(select(StatisticsMonth.month, StatisticsMonth.stale)).all())
    assert stale == {received: True, other: False}
