"""Inclusion and consistency proofs against the newest checkpoint (`candor audit prove`),
computed from the recorded leaf hashes that the checkpoints sign (docs/AUDIT_FORMAT.md)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, entry_bytes, record_event
from core.audit.store import checkpoint_files, leaf_file
from core.errors import InvalidInput, NotFound
from core.models import AuditEvent
from core.services import Services
from crypto.merkle import MerkleTree
from crypto.signed_note import NoteError, parse_checkpoint_text

PROOF_FORMAT = "candor-audit-proof/1"


def encode_proof(proof: Sequence[bytes]) -> list[str]:
    """Proof hashes as standard base64 strings."""
    return [base64.b64encode(node).decode() for node in proof]


def _newest_note(services: Services) -> tuple[str, int]:
    for note in reversed(checkpoint_files(services.config.data_dir).all()):
        try:
            return note, parse_checkpoint_text(note.partition("\n\n")[0] + "\n").size
        except NoteError:
            continue
    raise NotFound("no checkpoint has been signed yet: run `candor audit checkpoint` first")


def inclusion_proof(session: Session, services: Services, position: int,
                    actor: Actor | None = None) -> str:
    """A JSON proof that the entry at `position` is in the newest checkpoint."""
    note, size = _newest_note(services)
    if not 0 <= position < size:
        raise InvalidInput(f"position {position} is not covered by the newest checkpoint "
                           f"(entries 0 to {size - 1}); sign a checkpoint first")
    event = session.get(AuditEvent, position)
    if event is None:
        raise NotFound(f"the database holds no entry at position {position}")
    tree = MerkleTree(leaf_file(services.config.data_dir).read(size))
    document = {"format": PROOF_FORMAT, "kind": "inclusion", "checkpoint": note,
                "position": position, "entry": entry_bytes(event).decode(),
                "proof": encode_proof(tree.inclusion_proof(position, size))}
    record_event(session, services.clock, AuditAction.AUDIT_PROOF_MADE, actor or Actor.system(),
                 detail={"kind": "inclusion", "position": position, "size": size})
    return json.dumps(document, indent=1)


def consistency_proof(session: Session, services: Services, old_size: int,
                      actor: Actor | None = None) -> str:
    """A JSON proof that the log of `old_size` entries (a checkpoint the auditor kept) is a
    prefix of the newest checkpoint's."""
    note, size = _newest_note(services)
    if not 0 <= old_size <= size:
        raise InvalidInput(f"the newest checkpoint covers {size} entries; a proof from "
                           f"{old_size} entries cannot exist (was the log rolled back?)")
    tree = MerkleTree(leaf_file(services.config.data_dir).read(size))
    document = {"format": PROOF_FORMAT, "kind": "consistency", "checkpoint": note,
                "old_size": old_size,
                "proof": encode_proof(tree.consistency_proof(old_size, size))}
    record_event(session, services.clock, AuditAction.AUDIT_PROOF_MADE, actor or Actor.system(),
                 detail={"kind": "consistency", "old_size": old_size, "size": size})
    return json.dumps(document, indent=1)

