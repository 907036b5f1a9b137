"""The offline check of one proof file written by `candor audit prove` (docs/AUDIT_FORMAT.md):
an entry's inclusion in a checkpoint, or a kept checkpoint's consistency with a newer one."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.audit.verifier_report import Report, Unreadable
from crypto.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from crypto.signed_note import NoteError, VerifierKey, open_checkpoint

PROOF_FORMAT = "candor-audit-proof/1"


class CheckpointNeeded(ValueError):
    """A consistency proof was given without any kept checkpoint: wrong usage, not a
    failure (the proof starts from a checkpoint only the auditor holds)."""


def verify_proof(path: Path, *, key: VerifierKey,
                 kept: Sequence[tuple[str, str]] = ()) -> Report:
    """Check a proof file against `key` and, for a consistency proof, the kept checkpoint of
    the proof's old size."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        kind = document["kind"]
        note = document["checkpoint"]
        nodes = [base64.b64decode(node, validate=True) for node in document["proof"]]
        if document.get("format") != PROOF_FORMAT or kind not in ("inclusion", "consistency"):
            raise ValueError(f"not a {PROOF_FORMAT} proof")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError,
            binascii.Error) as exc:
        raise Unreadable(f"{path} is not a proof file ({exc})") from None
    report = Report()
    try:
        checkpoint = open_checkpoint(note, key)
    except NoteError as exc:
        report.add(None, f"the proof's checkpoint: {exc}")
        return report
    report.checkpoints = 1
    if kind == "inclusion":
        _check_inclusion(document, checkpoint.size, checkpoint.root, nodes, report)
    else:
        _check_consistency(document, key, kept, checkpoint.size, checkpoint.root, nodes, report)
    return report


def _check_inclusion(document: dict[str, Any], size: int, root: bytes, nodes: list[bytes],
                     report: Report) -> None:
    position, entry = document.get("position"), document.get("entry")
    if not isinstance(position, int) or not isinstance(entry, str):
        raise Unreadable("an inclusion proof names a position and an entry")
    try:
        stated = json.loads(entry).get("position")
    except (ValueError, AttributeError):
        stated = None
    if stated != position:
        report.add(position, "the entry does not say it is at this position")
        return
    try:
        verify_inclusion(leaf_hash(entry.encode()), position, size, nodes, root)
    except ProofError as exc:
        report.add(position, f"the entry is not in the checkpoint of {size} entries: {exc}")
    report.entries = 1


def _check_consistency(document: dict[str, Any], key: VerifierKey, kept: Sequence[tuple[str, str]],
                       size: int, root: bytes, nodes: list[bytes], report: Report) -> None:
    old_size = document.get("old_size")
    if not isinstance(old_size, int):
        raise Unreadable("a consistency proof names the old size")
    if not kept:
        raise CheckpointNeeded(f"a consistency proof is checked against the checkpoint of "
                               f"{old_size} entries you kept (--checkpoint FILE)")
    olds = []
    for name, note in kept:
        try:
            olds.append(open_checkpoint(note, key))
        except NoteError as exc:
            report.add(None, f"kept checkpoint {name}: {exc}")
    report.kept = len(olds)
    matching = [old for old in olds if old.size == old_size]
    if not matching:
        report.add(None, f"give the checkpoint of {old_size} entries you kept "
                   "(--checkpoint FILE): the proof starts from it")
        return
    for old in matching:
        try:
            verify_consistency(old.size, size, old.root, root, nodes)
        except ProofError as exc:
            report.add(old.size, f"the log of {size} entries does not extend the kept "
                       f"checkpoint of {old.size}: {exc}")
