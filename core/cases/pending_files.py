"""Encrypted files written for a transaction that has not committed yet.

A file is written to the blob store while the request that carries it is still arriving,
before the database rows that reference it exist. Each such blob is registered on the
session (`hold`), and the rows that reference it mark it as claimed (`claim`, called by
`core.cases.files.add_file_rows`). When the session's outermost transaction ends:

- it committed: the claimed blobs are kept; a blob no committed row references is deleted;
- it rolled back, or the session closed without committing: every held blob is deleted.

A savepoint that rolls back gives its claims up (its rows are gone), so a blob claimed only
there is deleted at the end unless a later row claims it again. Views therefore never
delete blobs themselves: a refused form, a failed use case or a crash mid-request leaves no
file behind, and a committed case never references a missing one.

`hold` opens the session's transaction if none is open (lazily: no database connection is
taken until a statement runs), so that a blob written before the request touched the
database still ends with a transaction. A blob belongs to the transaction it was held in:
claiming it after that ended raises `PendingFileLost` instead of committing a row whose blob
was deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from core.blobs import BlobStore

log = logging.getLogger("candor.files")

_INFO_KEY = "candor.pending_files"

Outcome = Literal["commit", "rollback"]


class PendingFileLost(RuntimeError):
    """A row would reference a blob that was deleted when its transaction ended."""


@dataclass
class _Held:
    blobs: BlobStore
    #: The innermost transaction whose rows reference the blob; None: no row does (yet).
    claimed_in: SessionTransaction | None = None


@dataclass
class _Pending:
    held: dict[str, _Held] = field(default_factory=dict)
    #: Blobs deleted when their transaction ended (a later claim is a bug, not a row).
    discarded: set[str] = field(default_factory=set)
    #: How the transaction that is ending ended (after_commit / after_rollback come just
    #: before after_transaction_end; a close without either is a rollback).
    outcome: Outcome | None = None


def _pending(session: Session) -> _Pending:
    pending = session.info.get(_INFO_KEY)
    if pending is None:
        pending = session.info[_INFO_KEY] = _Pending()
    assert isinstance(pending, _Pending)
    return pending


def hold(session: Session, blobs: BlobStore, blob_id: str) -> None:
    """Register a blob just written to `blobs`: it is deleted when the session's transaction
    ends, unless a row that references it (`claim`) is committed."""
    if not session.in_transaction():
        session.begin()  # no connection yet: that waits for the first statement
    _pending(session).held[blob_id] = _Held(blobs)


def claim(session: Session, blob_ids: Iterable[str]) -> None:
    """Mark blobs as referenced by rows added in the session's current (innermost)
    transaction. Blobs that were never held (written outside a request) are left alone."""
    pending = session.info.get(_INFO_KEY)
    if not isinstance(pending, _Pending):
        return
    current = session.get_nested_transaction() or session.get_transaction()
    for blob_id in blob_ids:
        if blob_id in pending.discarded:
            raise PendingFileLost("a file's transaction ended before a row referenced it")
        held = pending.held.get(blob_id)
        if held is not None:
            held.claimed_in = current


def held_blob_ids(session: Session) -> set[str]:
    """The blobs the session holds now (for tests and diagnostics)."""
    pending = session.info.get(_INFO_KEY)
    return set(pending.held) if isinstance(pending, _Pending) else set()


def _delete(pending: _Pending, blob_ids: list[str]) -> None:
    for blob_id in blob_ids:
        held = pending.held.pop(blob_id)
        pending.discarded.add(blob_id)
        try:
            held.blobs.delete(blob_id)
        except OSError:
            # Never fail a commit or a rollback over it: the orphan sweep removes it later.
            log.warning("an unreferenced encrypted file could not be deleted")


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.get(_INFO_KEY)
    if isinstance(pending, _Pending):
        pending.outcome = "commit"


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    pending = session.info.get(_INFO_KEY)
    if isinstance(pending, _Pending):
        pending.outcome = "rollback"


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(_INFO_KEY)
    if not isinstance(pending, _Pending):
        return
    if transaction.parent is not None and not transaction.nested:
        return  # a flush's own subtransaction: neither a savepoint nor the whole
    committed = pending.outcome == "commit"
    pending.outcome = None
    if transaction.nested:
        # A savepoint (inner ones end first): released, its claims pass to the enclosing
        # transaction; rolled back, its rows are gone and so are its claims.
        for held in pending.held.values():
            if held.claimed_in is transaction:
                held.claimed_in = transaction.parent if committed else None
        return
    if committed:
        for blob_id in [b for b, h in pending.held.items() if h.claimed_in is not None]:
            del pending.held[blob_id]  # referenced by committed rows: kept for good
    _delete(pending, list(pending.held))
