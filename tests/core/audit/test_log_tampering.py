"""The audit log's chain and checkpoints detect tampering, truncation and rewritten history."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core.audit.checkpoints import LogDamaged, sign_checkpoint, verifier_key
from core.audit.log import (
    Actor,
    ChainBroken,
    entry_bytes,
    record_event,
    verify_events,
)
from core.cases.casework import (
    read_case_for_reviewer,
)
from core.clock import Clock
from core.db import transaction
from core.keyring import Keyring
from core.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
)
from crypto.audit_chain import GENESIS
from crypto.merkle import MerkleTree
from crypto.signed_note import NoteError, VerifierKey, open_checkpoint
from tests.core.audit.test_log import (  # noqa: F401 - helpers and fixtures
    A,
    _populate,
    all_events,
    head_row,
    verify_all,
)


def _tamper(session_factory, sql):
    with session_factory() as s:
        before = [tuple(r) for r in s.execute(text("select * from audit_events order by 1"))]
    with transaction(session_factory) as s:
        for statement in sql if isinstance(sql, list) else [sql]:
            assert s.execute(text(statement)).rowcount == 1
    with session_factory() as s:
        after = [tuple(r) for r in s.execute(text("select * from audit_events order by 1"))]
    assert after != before, "the tampering changed nothing"


TAMPERINGS = {
    "detail": "update audit_events set detail = '{\"files\": 9}' where position = 2",
    "action": "update audit_events set action = 'session:logout' where position = 3",
    # (The first case event: the positions before it belong to the accounts being set up.)
    "case_id": "update audit_events set case_id = case_id + 1 where position = "
               "(select min(position) from audit_events where case_id is not null)",
    "case_id_null": "update audit_events set case_id = null where position = "
                    "(select min(position) from audit_events where case_id is not null)",
    "actor_kind": "update audit_events set actor_kind = 'system' where position = 3",
    "reviewer_id": "update audit_events set reviewer_id = null where position = 3",
    "leaf_hash": "update audit_events set leaf_hash = chain_hash where position = 4",
    "delete_one": "delete from audit_events where position = 4",
    "delete_first": "delete from audit_events where position = 0",
    "swap": [
        "update audit_events set position = -1 where position = 2",
        "update audit_events set position = 2 where position = 5",
        "update audit_events set position = 5 where position = -1",
    ],
}


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


def _forge_entry_1(session_factory) -> None:
    """Edit entry 1 and recompute every leaf and chain hash and the head, as someone with
    database access can: the chain is internally consistent again."""
    from crypto.audit_chain import chain_hash, leaf_hash

    with transaction(session_factory) as s:
        events = all_events(s)
        events[1].detail = '{"forged":true}'
        current = GENESIS
        for event in events:
            event.leaf_hash = leaf_hash(entry_bytes(event))
            event.chain_hash = current = chain_hash(current, event.leaf_hash)
        s.get(AuditHead, 1).head = current


def test_checkpoint_refuses_a_rewritten_history(session_factory, services, world):
    """Someone with database access recomputes every hash after an edit: the chain is
    internally consistent again, but the next checkpoint refuses to sign it, and the signed
    root no longer matches the log."""
    _populate(session_factory, services, world)
    with transaction(session_factory) as s:
        signed = sign_checkpoint(s, services)
        cp_size, cp_root = signed.row.size, bytes(signed.row.root)
    from crypto.audit_chain import leaf_hash

    _forge_entry_1(session_factory)
    verify_all(session_factory)  # internally consistent
    with session_factory() as s:
        events = all_events(s)
    assert MerkleTree([leaf_hash(entry_bytes(e)) for e in events[:cp_size]]).root() != cp_root
    # The rewrite reached the last checkpointed entry's successors' chain: refused.
    with pytest.raises(LogDamaged) as refused, transaction(session_factory) as s:
        sign_checkpoint(s, services)
    assert refused.value.position == cp_size - 1


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
    size_before, _ = head_row(session_factory)
    with transaction(session_factory) as s:
        signed = sign_checkpoint(s, services)
    with session_factory() as s:
        stored = s.execute(select(AuditCheckpoint)).scalar_one()
        events = all_events(s)
    key = verifier_key(services)
    stated = open_checkpoint(stored.note, key)
    assert (stated.size, stated.root) == (size_before, bytes(stored.root)) == (
        signed.row.size, bytes(signed.row.root))
    # The checkpoint commits to the events before it, as the Merkle root of their leaves ...
    leaves = [bytes(e.leaf_hash) for e in events[:stored.size]]
    assert MerkleTree(leaves).root() == stated.root
    # ... its copy outside the database is the same note ...
    assert Path(signed.path).read_text("utf-8") == stored.note
    # ... and it is itself logged afterwards.
    assert events[stored.size].action == A.CHECKPOINT_SIGNED
    assert head_row(session_factory)[0] == size_before + 1
    # Another instance's key does not open it, nor does any edit of its text.
    with pytest.raises(NoteError):
        open_checkpoint(stored.note, VerifierKey(key.name, Keyring.generate().audit_verify_key))
    for forged in (stored.note.replace(f"\n{stored.size}\n", f"\n{stored.size + 1}\n"),
                   stored.note.replace("time 2", "time 1")):
        with pytest.raises(NoteError):
            open_checkpoint(forged, key)


def test_checkpoint_time_is_exact_seconds(session_factory, services):
    from datetime import UTC, datetime

    moment = datetime(2024, 7, 1, 9, 8, 7, 654321, tzinfo=UTC)
    services = dataclasses.replace(services, clock=Clock(now=lambda: moment))
    with transaction(session_factory) as s:
        signed = sign_checkpoint(s, services)
    stated = open_checkpoint(signed.row.note, verifier_key(services))
    assert stated.issued_at == moment.replace(microsecond=0)


def test_a_full_check_names_an_edit_the_hourly_check_cannot_see(session_factory, services,
                                                                 world):
    """An earlier entry edited in place, hashes untouched: the hourly checkpoint checks only
    what is new and signs; `--full` compares every entry with its recorded hash."""
    _populate(session_factory, services, world)
    with transaction(session_factory) as s:
        sign_checkpoint(s, services)
    _tamper(session_factory, "update audit_events set case_id = 424242 where position = 1")
    with pytest.raises(LogDamaged) as refused, transaction(session_factory) as s:
        sign_checkpoint(s, services, full=True)
    assert refused.value.position == 1
    with transaction(session_factory) as s:
        sign_checkpoint(s, services)  # the hourly check does not look back (SECURITY.md)


def test_a_rewritten_leaf_file_is_not_signed_over(session_factory, services, world):
    """Outside tester: with the data directory but not the signing key, someone rewrote an
    entry, recomputed the chain, the leaf file and the chain mark, and `checkpoint --full`
    signed new checkpoints over it. The newest signed checkpoint's root is checked first."""
    from core.audit.store import chain_mark, leaf_file
    from crypto.audit_chain import leaf_hash

    _populate(session_factory, services, world)
    with transaction(session_factory) as s:
        cp_size = sign_checkpoint(s, services).row.size
    _forge_entry_1(session_factory)
    with session_factory() as s:
        events = all_events(s)
        leaves = b"".join(leaf_hash(entry_bytes(e)) for e in events[:cp_size])
        mark = (cp_size, bytes(events[cp_size - 1].chain_hash))
    data_dir = services.config.data_dir
    leaf_file(data_dir).path.write_bytes(leaves)
    chain_mark(data_dir).write(*mark)
    for full in (False, True):
        with pytest.raises(LogDamaged) as refused, transaction(session_factory) as s:
            sign_checkpoint(s, services, full=full)
        assert refused.value.position == cp_size - 1
        assert f"checkpoint of size {cp_size}" in str(refused.value)
        assert "at or before position" in str(refused.value)
    with session_factory() as s:
        assert s.execute(select(AuditCheckpoint.size)).scalars().all() == [cp_size]
