"""A writer of access-log exports, from docs/AUDIT_FORMAT.md alone (not from Candor's code).

It builds what an honest instance would export for a list of entries and the sizes at which it
signed checkpoints; the tests then alter the parts (`Export`'s fields) the way an attacker with
the database, or with the server's files and key, could, and write the result with `write_zip`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

ORIGIN = "audit.candor.example/test-log"
FORMAT = "candor-audit-export/1"


def canonical(obj: object) -> bytes:
    """The entry serialisation: sorted keys, no spaces, non-ASCII escaped, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, literally (recursive)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)  # the largest power of two < n
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def consistency_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 section 2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true). The RFC defines it
    for 0 < m; from the empty tree (a checkpoint of size 0) the proof is empty."""
    if m == 0:
        return []

    def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
        if m == len(d):
            return [] if b else [mth(d)]
        k = 1 << ((len(d) - 1).bit_length() - 1)
        if m <= k:
            return subproof(m, d[:k], b) + [mth(d[k:])]
        return subproof(m - k, d[k:], False) + [mth(d[:k])]
    return subproof(m, leaves, True)


def key_id(name: str, key: SigningKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + bytes(key.verify_key)).digest()[:4]


def verifier_key(key: SigningKey, name: str = ORIGIN) -> str:
    """`<name>+<key id hex>+<base64(0x01 || public key)>`."""
    raw = base64.b64encode(b"\x01" + bytes(key.verify_key)).decode()
    return f"{name}+{key_id(name, key).hex()}+{raw}"


def sign_note(text: str, key: SigningKey, name: str = ORIGIN) -> str:
    """A C2SP signed note: the text, an empty line, one signature line."""
    signature = key.sign(text.encode()).signature
    return f"{text}\n\u2014 {name} {base64.b64encode(key_id(name, key) + signature).decode()}\n"


def checkpoint(leaves: list[bytes], size: int, key: SigningKey, origin: str = ORIGIN) -> str:
    """A signed checkpoint of the first `size` leaves."""
    root = base64.b64encode(mth(leaves[:size])).decode()
    return sign_note(f"{origin}\n{size}\n{root}\ntime 2024-05-0{1 + size % 9}T12:00:00Z\n",
                     key, origin)


def make_entries(n: int) -> list[dict[str, Any]]:
    """n entries of the three actor kinds (with a 63-bit case id and non-ASCII details)."""
    start = datetime(2024, 5, 1, tzinfo=UTC)
    entries = []
    for i in range(n):
        kind = ("reviewer", "submitter", "system")[i % 3]
        entries.append({
            "position": i,
            "occurred_at": (start if kind == "submitter"
                            else start + timedelta(minutes=i, microseconds=i)).isoformat(),
            "actor_kind": kind,
            "reviewer_id": 1 + i % 2 if kind == "reviewer" else None,
            "action": {"reviewer": "case:stage:change", "submitter": "case:message:add",
                       "system": "audit:checkpoint:sign"}[kind],
            "case_id": (1 << 62) + i if kind != "system" else None,
            "detail": canonical({"label": "Zürich ✓", "count": i}
                                if kind == "system" else {"stage": "assessment"}).decode(),
        })
    return entries


def renumbered(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries with positions 0, 1, 2, ... again (after removing or inserting some)."""
    return [{**entry, "position": i} for i, entry in enumerate(entries)]


@dataclass
class Export:
    """The members of an export before they are zipped (all editable)."""

    events: list[bytes]
    leaves: bytes
    checkpoints: list[str]
    proofs: list[dict[str, Any]]
    key: SigningKey
    origin: str = ORIGIN
    #: member bytes put in the archive after the manifest was computed (to break it)
    after_manifest: dict[str, bytes] = field(default_factory=dict)


def honest_export(entries: list[dict[str, Any]], sizes: list[int], key: SigningKey,
                  origin: str = ORIGIN) -> Export:
    """What an honest instance exports: checkpoints signed at `sizes`, leaves.bin recorded
    up to the last of them, one consistency proof per pair of neighbouring checkpoints."""
    events = [canonical(entry) for entry in entries]
    leaves = [leaf_hash(e) for e in events]
    proofs = [{"old_size": a, "new_size": b,
               "proof": [base64.b64encode(h).decode() for h in consistency_proof(a, leaves[:b])]}
              for a, b in zip(sizes, sizes[1:], strict=False)]
    return Export(events=events, leaves=b"".join(leaves[:max(sizes, default=0)]),
                  checkpoints=[checkpoint(leaves, s, key, origin) for s in sizes],
                  proofs=proofs, key=key, origin=origin)


def write_zip(export: Export, path: Path) -> Path:
    """The ZIP with its manifest and the manifest's signed note."""
    members = {
        "events.jsonl": b"".join(e + b"\n" for e in export.events),
        "leaves.bin": export.leaves,
        "checkpoints.json": json.dumps(export.checkpoints, indent=1).encode(),
        "proofs.json": json.dumps({"consistency": export.proofs}).encode(),
        "key.txt": (verifier_key(export.key, export.origin) + "\n").encode(),
    }
    manifest = json.dumps({
        "format": FORMAT, "origin": export.origin, "size": len(export.events),
        "exported_at": "2024-06-01T08:00:00Z",
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }, indent=2).encode()
    digest = hashlib.sha256(manifest).hexdigest()
    members["manifest.json"] = manifest
    members["manifest.sig"] = sign_note(f"candor audit export v1\n{export.origin}\n{digest}\n",
                                        export.key, export.origin).encode()
    members |= export.after_manifest
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path
