"""The audit log's chain and checkpoints detect tampering, truncation and rewritten history."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit.log import (
    Actor,
    ChainBroken,
    entry_bytes,
    record_event,
    sign_checkpoint,
    verify_events,
)
from core.cases.casework import (
    read_case_for_reviewer,
)
from core.clock import Clock
from core.db import transaction
from core.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
)
from crypto.audit_chain import GENESIS, checkpoint_message
from crypto.errors import SignatureError
from crypto.signing import verify
from tests.core.audit.test_log import (  # noqa: F401 - helpers and fixtures
    TAMPERINGS,
    A,
    _populate,
    _tamper,
    all_events,
    head_row,
    verify_all,
)


def test_verify_events_returns_the_stored_head(session_factory, services, world):
    _populate(session_factory, services, world)
    size, head = head_row(session_factory)
    assert size >= 8
    with session_factory() as s:
        events = all_events(s)
    assert [e.position for e in events] == list(range(size))
    assert verify_events(events) == head
    assert events[-1].chain_hash == head
    # Verifying a suffix from a known earlier hash gives the same head.
    assert verify_events(events[3:], start=events[2].chain_hash, first=3) == head
    assert verify_events([]) == GENESIS


@pytest.mark.parametrize("how", sorted(TAMPERINGS))
def test_tampering_is_detected(session_factory, services, world, how):
    _populate(session_factory, services, world)
    verify_all(session_factory)
    _tamper(session_factory, TAMPERINGS[how])
    with pytest.raises(ChainBroken):
        verify_all(session_factory)


def test_altered_time_is_detected(session_factory, services, world):
    _populate(session_factory, services, world)
    with transaction(session_factory) as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.position == 3)).scalar_one()
        event.occurred_at -= timedelta(days=365)  # (replace(year=...) fails on 29 February)
    with pytest.raises(ChainBroken):
        verify_all(session_factory)


def test_truncated_tail_is_detected_against_the_head(session_factory, services, world):
    _populate(session_factory, services, world)
    size, _ = head_row(session_factory)
    _tamper(session_factory, f"delete from audit_events where position = {size - 1}")
    with pytest.raises(ChainBroken):
        verify_all(session_factory)


def test_checkpoint_detects_a_rewritten_history(session_factory, services, world):
    """Someone with database access recomputes every hash after an edit: the chain is
    internally consistent again, but no longer matches a signed checkpoint."""
    _populate(session_factory, services, world)
    with transaction(session_factory) as s:
        checkpoint = sign_checkpoint(s, services.clock, services.keyring.audit_signing_seed)
        cp_size, cp_head = checkpoint.size, bytes(checkpoint.head)
    from crypto.audit_chain import chain_hash, leaf_hash

    with transaction(session_factory) as s:
        events = all_events(s)
        events[1].detail = '{"forged":true}'
        current = GENESIS
        for event in events:
            event.leaf_hash = leaf_hash(entry_bytes(event))
            event.chain_hash = current = chain_hash(current, event.leaf_hash)
        s.get(AuditHead, 1).head = current
    verify_all(session_factory)  # internally consistent
    with session_factory() as s:
        events = all_events(s)
    assert verify_events(events[:cp_size]) != cp_head


def test_rolled_back_transaction_leaves_no_events(session_factory, services, world):
    case_id = _populate(session_factory, services, world)
    before = head_row(session_factory)
    with pytest.raises(RuntimeError), transaction(session_factory) as s:
        for i in range(3):
            record_event(s, services.clock, A.CATEGORY_CHANGED, Actor.system(), detail={"i": i})
        read_case_for_reviewer(s, services, world["ivy"].unlocked, case_id)
        raise RuntimeError("abort")
    assert head_row(session_factory) == before
    with session_factory() as s:
        assert len(all_events(s)) == before[0]
    # The log continues cleanly after the rollback.
    with transaction(session_factory) as s:
        event = record_event(s, services.clock, A.CATEGORY_CHANGED, Actor.system())
        assert event.position == before[0]
    verify_all(session_factory)


def test_checkpoint_signature_verifies(session_factory, services, world):
    _populate(session_factory, services, world)
    size_before, head_before = head_row(session_factory)
    with transaction(session_factory) as s:
        checkpoint = sign_checkpoint(s, services.clock, services.keyring.audit_signing_seed)
    with session_factory() as s:
        stored = s.execute(select(AuditCheckpoint)).scalar_one()
        events = all_events(s)
    assert (stored.size, bytes(stored.head)) == (size_before, head_before)
    assert stored.signature == checkpoint.signature
    message = checkpoint_message(stored.size, bytes(stored.head), stored.issued_at)
    verify(services.keyring.audit_verify_key, message, bytes(stored.signature))
    # The checkpoint commits to the events before it ...
    assert verify_events(events[: stored.size]) == bytes(stored.head)
    # ... and is itself logged afterwards.
    assert events[stored.size].action == A.CHECKPOINT_SIGNED
    assert head_row(session_factory)[0] == size_before + 1
    # The signature is bound to size, head and time, and to this instance's key.
    for forged in (
        checkpoint_message(stored.size + 1, bytes(stored.head), stored.issued_at),
        checkpoint_message(stored.size, bytes(32), stored.issued_at),
        checkpoint_message(stored.size, bytes(stored.head), stored.issued_at + "x"),
    ):
        with pytest.raises(SignatureError):
            verify(services.keyring.audit_verify_key, forged, bytes(stored.signature))
    from core.keyring import Keyring

    with pytest.raises(SignatureError):
        verify(Keyring.generate().audit_verify_key, message, bytes(stored.signature))


def test_checkpoint_time_is_exact_seconds(session_factory, services):
    from datetime import UTC, datetime


    moment = datetime(2024, 7, 1, 9, 8, 7, 654321, tzinfo=UTC)
    services = dataclasses.replace(services, clock=Clock(now=lambda: moment))
    with transaction(session_factory) as s:
        checkpoint = sign_checkpoint(s, services.clock, services.keyring.audit_signing_seed)
    assert datetime.fromisoformat(checkpoint.issued_at) == moment.replace(microsecond=0)

