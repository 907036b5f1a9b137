"""The signed export of the access log that auditors verify offline (docs/AUDIT_FORMAT.md):
every entry, the recorded leaf hashes, every checkpoint (from the data directory and the
database), consistency proofs between neighbouring checkpoints, the verifier key and a signed
manifest, in one ZIP file.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.checkpoints import verifier_key
from core.audit.log import Actor, AuditAction, entry_batches, entry_bytes, record_event
from core.audit.proofs import encode_proof
from core.audit.store import checkpoint_files, leaf_file
from core.models import AuditCheckpoint, AuditHead
from core.services import Services
from crypto.merkle import MerkleTree
from crypto.signed_note import NoteError, parse_checkpoint_text, sign_note

FORMAT = "candor-audit-export/1"
#: The first line of the manifest's note: it has spaces, which no origin (and so no
#: checkpoint's first line) can have.
MANIFEST_NOTE_HEADER = "candor audit export v1"


@dataclass(frozen=True)
class ExportSummary:
    """What an export holds."""

    size: int
    checkpoints: int


def write_export(session: Session, services: Services, destination: Path | IO[bytes], *,
                 actor: Actor | None = None) -> ExportSummary:
    """Write the export to `destination` (a path or a binary file) and record who made it
    (`actor`, the system by default) in the caller's transaction."""
    size = session.execute(select(AuditHead.size).where(AuditHead.id == 1)).scalar_one()
    data_dir = services.config.data_dir
    recorded = leaf_file(data_dir).read()
    notes = _all_notes(session, services)
    hashes: dict[str, str] = {}
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        hashes["events.jsonl"] = _write_events(session, archive, size)
        members = {
            "leaves.bin": recorded,
            "checkpoints.json": json.dumps(notes, indent=0).encode(),
            "proofs.json": json.dumps(_proofs(recorded, notes)).encode(),
            "key.txt": (verifier_key(services).encode() + "\n").encode(),
        }
        for name, data in members.items():
            archive.writestr(name, data)
            hashes[name] = hashlib.sha256(data).hexdigest()
        manifest = json.dumps({
            "format": FORMAT,
            "origin": services.config.audit_origin,
            "size": size,
            "exported_at": services.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "files": hashes,
        }, indent=1, sort_keys=True).encode()
        archive.writestr("manifest.json", manifest)
        text = (f"{MANIFEST_NOTE_HEADER}\n{services.config.audit_origin}\n"
                f"{hashlib.sha256(manifest).hexdigest()}\n")
        archive.writestr("manifest.sig", sign_note(text, services.config.audit_origin,
                                                   services.keyring.audit_signing_seed))
    record_event(session, services.clock, AuditAction.AUDIT_EXPORTED, actor or Actor.system(),
                 detail={"size": size, "checkpoints": len(notes)})
    return ExportSummary(size=size, checkpoints=len(notes))


def _write_events(session: Session, archive: zipfile.ZipFile, size: int) -> str:
    """Stream entries [0, size) into events.jsonl; return the member's SHA-256."""
    digest = hashlib.sha256()
    with archive.open("events.jsonl", "w", force_zip64=True) as member:
        # Missing entries are left out, not hidden: the verifier names their position.
        for _first, rows in entry_batches(session, 0, size):
            chunk = b"".join(entry_bytes(row) + b"\n" for row in rows)
            member.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def _all_notes(session: Session, services: Services) -> list[str]:
    """Every checkpoint note kept in the data directory or the database (they should be the
    same; a difference is for the verifier to report), ordered by the size they state."""
    notes = set(checkpoint_files(services.config.data_dir).all())
    notes.update(session.execute(select(AuditCheckpoint.note)).scalars())
    return sorted(notes, key=lambda note: (_stated_size(note), note))


def _stated_size(note: str) -> int:
    try:
        return parse_checkpoint_text(note.partition("\n\n")[0] + "\n").size
    except NoteError:
        return -1


def _proofs(recorded: bytes, notes: list[str]) -> dict[str, list[dict[str, object]]]:
    """Consistency proofs between neighbouring checkpoint sizes, from the recorded leaves."""
    tree = MerkleTree(recorded)
    sizes = sorted({size for size in map(_stated_size, notes) if 0 <= size <= tree.size})
    return {"consistency": [
        {"old_size": old, "new_size": new, "proof": encode_proof(tree.consistency_proof(old, new))}
        for old, new in zip(sizes, sizes[1:], strict=False)]}
