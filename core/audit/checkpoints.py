"""Signed checkpoints of the access log (`candor audit checkpoint`, hourly from cron, or an
auditor's "sign now").

A checkpoint is a C2SP signed note stating the log's origin, size and RFC 9162 Merkle root at a
time (docs/AUDIT_FORMAT.md). Before signing, the entries added since the last checkpoint are
checked against their stored hashes and the chain, and the last checkpointed entry against its
recorded leaf hash: a database rewritten since is refused with `LogDamaged`, never signed. The
new leaf hashes are appended to the data directory's leaf file, the note is stored in the
database and kept as a file beside it, and mailed to the auditors after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import (
    ENTRY_BATCH,
    Actor,
    AuditAction,
    ChainBroken,
    entry_batches,
    entry_bytes,
    locked_head,
    record_event,
    verify_events,
)
from core.audit.store import LeafFile, chain_mark, checkpoint_files, leaf_file
from core.errors import DomainError
from core.models import AuditCheckpoint, AuditEvent, Reviewer, Role
from core.services import Services
from crypto.audit_chain import GENESIS
from crypto.merkle import HASH_BYTES, leaf_hash
from crypto.signed_note import (
    Checkpoint,
    NoteError,
    VerifierKey,
    checkpoint_text,
    open_checkpoint,
    sign_note,
)


class LogDamaged(DomainError):
    """The log in the database no longer matches what was checkpointed (or its own hashes):
    someone wrote to the database. `position` is the first entry found wrong."""

    def __init__(self, position: int, what: str, *, exact: bool = True) -> None:
        where = f"at position {position}" if exact else f"at or before position {position}"
        hint = ("" if exact else " `candor audit checkpoint --full` names the first changed "
                "entry;")
        super().__init__(f"the access log is damaged {where}: {what}; no checkpoint was "
                         f"signed.{hint} Run `candor audit export` and `candor audit verify` "
                         "to see what changed.")
        self.position = position


@dataclass(frozen=True)
class SignedCheckpoint:
    """A new checkpoint: its row (with the note) and where its file copy is kept."""

    row: AuditCheckpoint
    path: str


def verifier_key(services: Services) -> VerifierKey:
    """The key auditors check checkpoints and exports with (named by the log's origin)."""
    return VerifierKey(services.config.audit_origin, services.keyring.audit_verify_key)


def sign_checkpoint(session: Session, services: Services, actor: Actor | None = None, *,
                    full: bool = False) -> SignedCheckpoint:
    """Check the entries added since the last checkpoint, record their leaf hashes and sign a
    checkpoint of the whole log, in the caller's transaction. `actor` is who asked (the
    system for cron); `full` also checks every earlier entry against its recorded hash, which
    names the exact position of any change (one pass over the log). Raises LogDamaged if the
    database's log was altered."""
    head = locked_head(session)  # no reporter events are appended first: see below
    leaves = leaf_file(services.config.data_dir)
    recorded = leaves.count()
    if recorded > head.size:
        raise LogDamaged(head.size, f"the database holds {head.size} entries but "
                         f"{recorded} were checkpointed (entries were removed)")
    if full:
        _check_recorded(session, leaves.read(recorded))
    mark = chain_mark(services.config.data_dir)
    new_leaves = _checked_new_leaves(session, recorded, head.size,
                                     leaves.leaf(recorded - 1) if recorded else None,
                                     mark.read())
    # Every entry up to head.size was committed before this transaction took the head lock,
    # so the leaf file never records an entry that could still roll back.
    _check_last_signed(session, services, leaves)
    leaves.append(new_leaves)
    mark.write(head.size, bytes(head.head))
    root = leaves.root()
    issued_at = services.clock.now()
    origin = services.config.audit_origin
    note = sign_note(checkpoint_text(Checkpoint(origin, head.size, root, issued_at)), origin,
                     services.keyring.audit_signing_seed)
    row = AuditCheckpoint(size=head.size, root=root, issued_at=issued_at, note=note)
    session.add(row)
    session.flush()
    path = checkpoint_files(services.config.data_dir).write(head.size, note)
    record_event(session, services.clock, AuditAction.CHECKPOINT_SIGNED,
                 actor or Actor.system(), detail={"size": head.size})
    return SignedCheckpoint(row=row, path=str(path))


def _check_last_signed(session: Session, services: Services, leaves: LeafFile) -> None:
    """The recorded leaves must still give the root of the newest signed checkpoint. Someone
    holding the data directory but not the signing key could otherwise rewrite an entry,
    recompute the chain and the leaf file, and have the next checkpoint signed over it
    (outside tester). The note's signature is checked, not the row's root: both are in the
    database."""
    last = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc())
                           .limit(1)).scalar_one_or_none()
    if last is None or last.size == 0:
        return
    # Under the origin it was signed with (an origin changed since keeps its old notes).
    key = VerifierKey(last.note.split("\n", 1)[0], services.keyring.audit_verify_key)
    try:
        signed = open_checkpoint(last.note, key)
    except NoteError:
        raise LogDamaged(last.size - 1, "the newest stored checkpoint does not verify with "
                         "this instance's key", exact=False) from None
    if signed.size > leaves.count() or leaves.root(signed.size) != signed.root:
        raise LogDamaged(signed.size - 1, f"the log no longer gives the root of the checkpoint "
                         f"of size {signed.size} signed before", exact=False)


def _checked_new_leaves(session: Session, start: int, end: int, last_recorded: bytes | None,
                        mark: tuple[int, bytes] | None) -> bytes:
    """The leaf hashes of entries [start, end), checked against their stored hashes and the
    chain, and the entry before them against its recorded leaf hash and chain head."""
    previous_chain = GENESIS
    if start:
        before = session.get(AuditEvent, start - 1)
        if before is None or leaf_hash(entry_bytes(before)) != last_recorded:
            # The last checkpointed entry; one before it may be the first that changed (one
            # removed and the rest renumbered shifts every later entry): not exact.
            raise LogDamaged(start - 1, "the entry differs from the one checkpointed",
                             exact=False)
        previous_chain = bytes(before.chain_hash)
        if mark is not None and mark != (start, previous_chain):
            raise LogDamaged(start - 1, "the hash chain up to this entry was recomputed, so "
                             "an earlier entry was rewritten")
    hashes = bytearray()
    for first, batch in entry_batches(session, start, end):
        try:
            previous_chain = verify_events(batch, previous_chain, first)
        except ChainBroken as broken:
            raise LogDamaged(broken.position, str(broken)) from None
        if len(batch) != min(end, first + ENTRY_BATCH) - first:
            raise LogDamaged(first + len(batch), "entries are missing")
        for event in batch:
            hashes += leaf_hash(entry_bytes(event))
    return bytes(hashes)


def _check_recorded(session: Session, recorded: bytes) -> None:
    """Every checkpointed entry against its recorded leaf hash."""
    count = len(recorded) // HASH_BYTES
    for first, batch in entry_batches(session, 0, count):
        for at in range(first, min(count, first + ENTRY_BATCH)):
            offset = at - first
            if offset >= len(batch) or batch[offset].position != at:
                raise LogDamaged(at, "the entry is missing (entries were removed)")
            if (leaf_hash(entry_bytes(batch[offset]))
                    != recorded[at * HASH_BYTES:(at + 1) * HASH_BYTES]):
                raise LogDamaged(at, "the entry differs from the one checkpointed")


CHECKPOINT_SUBJECT = "Candor: access log checkpoint"


def mail_checkpoint(session: Session, services: Services, note: str) -> int:
    """Mail a signed checkpoint to every active auditor with an address (after its commit);
    returns how many mails were accepted. Nothing is sent without smtp_host."""
    from core.operations.notifications import send_mail

    body = ("Keep this checkpoint where the server's operators cannot change it: "
            "`candor audit verify` proves that the access log still extends it.\n\n" + note)
    return send_mail(services, auditor_addresses(session), CHECKPOINT_SUBJECT, body)


def auditor_addresses(session: Session) -> list[str]:
    """Email addresses of the active auditors (checkpoints are mailed to them)."""
    return [address for address in session.execute(
        select(Reviewer.email).where(Reviewer.role == Role.AUDITOR, Reviewer.active.is_(True),
                                     Reviewer.email.is_not(None))).scalars() if address]


@dataclass(frozen=True)
class CheckpointState:
    """A stored checkpoint as the auditor console shows it."""

    row: AuditCheckpoint
    signature_valid: bool
    #: The copy in the data directory is the same note (False: missing or different).
    file_matches: bool


def checkpoint_states(session: Session, services: Services,
                      limit: int = 50) -> list[CheckpointState]:
    """The newest stored checkpoints, each checked against the instance's key and its copy
    outside the database."""
    key = verifier_key(services)
    files = checkpoint_files(services.config.data_dir)
    rows = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc())
                           .limit(limit)).scalars()
    states = []
    for row in rows:
        try:
            stated = open_checkpoint(row.note, key)
            valid = (stated.size, stated.root) == (row.size, bytes(row.root))
        except NoteError:
            valid = False
        states.append(CheckpointState(row, valid, files.read(row.size) == row.note))
    return states
