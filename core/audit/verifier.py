"""The offline verifier of exports and proofs (`candor audit verify`, docs/AUDIT_FORMAT.md).

It trusts neither the server nor its operators: it needs no database, no secrets and no
network, only the export, the verifier key the auditor was given and the checkpoints they kept.
This module imports nothing but the standard library and crypto/ (tests keep it so).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.audit.verifier_entries import EntryChecker
from core.audit.verifier_report import Problem, Report, Unreadable
from crypto.merkle import HASH_BYTES, MerkleTree, ProofError, verify_consistency
from crypto.signed_note import Checkpoint, NoteError, VerifierKey, open_checkpoint, open_note

__all__ = ["Problem", "Report", "Unreadable", "verify_export"]

EXPORT_FORMAT = "candor-audit-export/1"
MANIFEST_NOTE_HEADER = "candor audit export v1"
MEMBERS = ("events.jsonl", "leaves.bin", "checkpoints.json", "proofs.json", "key.txt")
Progress = Callable[[int], None]
#: events.jsonl is read in blocks of this size (about 4,000 entries).
_BLOCK = 1 << 20


@dataclass
class _Signed:
    """A checkpoint that verified, where it came from, and the roots found for its size."""

    checkpoint: Checkpoint
    source: str
    kept: bool
    events_root: bytes | None = None
    recorded_root: bytes | None = None


@dataclass
class _Export:
    archive: zipfile.ZipFile
    key: VerifierKey
    manifest: dict[str, object]
    report: Report
    checkpoints: list[_Signed] = field(default_factory=list)


def verify_export(path: Path, *, key: VerifierKey | None, kept: Sequence[tuple[str, str]] = (),
                  progress: Progress | None = None) -> Report:
    """Check an export against `key` and the kept checkpoints ((name, note) pairs).
    Raises Unreadable when the file is not an export at all."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise Unreadable(f"{path} is not a readable ZIP file ({exc})") from None
    with archive:
        export = _open(archive, key)
        if export.report.problems:
            return export.report
        _read_checkpoints(export, kept)
        recorded = _member(archive, "leaves.bin")
        _check_member(export, "leaves.bin", recorded)
        if len(recorded) % HASH_BYTES:
            export.report.add(None, "leaves.bin does not hold whole 32-byte hashes")
            recorded = recorded[:len(recorded) - len(recorded) % HASH_BYTES]
        entries = _check_entries(export, recorded, progress)
        _check_roots(export, recorded, entries)
        _check_proofs(export)
    return export.report


def _open(archive: zipfile.ZipFile, key: VerifierKey | None) -> _Export:
    names = set(archive.namelist())
    missing = [m for m in (*MEMBERS, "manifest.json", "manifest.sig") if m not in names]
    if missing:
        raise Unreadable(f"the export has no {', '.join(missing)}")
    try:
        manifest_bytes = archive.read("manifest.json")
        manifest = json.loads(manifest_bytes)
        exported_key = VerifierKey.parse(archive.read("key.txt").decode())
        signature = archive.read("manifest.sig").decode()
    except (ValueError, UnicodeDecodeError, NoteError) as exc:
        raise Unreadable(f"the export's manifest or key is malformed ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise Unreadable(f"the export is not in the {EXPORT_FORMAT} format")
    report = Report()
    if key is None:
        key = exported_key
        report.warnings.append(
            "no --public-key given: the key inside the export was trusted. A forger would put "
            "their own key there; pass the key you were given.")
    elif key != exported_key:
        report.add(None, "the export carries another verifier key than the one given")
    try:
        lines = open_note(signature, key).split("\n")
    except NoteError as exc:
        report.add(None, f"the manifest's signature: {exc}")
        return _Export(archive, key, manifest, report)
    if lines[:3] != [MANIFEST_NOTE_HEADER, key.name,
                     hashlib.sha256(manifest_bytes).hexdigest()]:
        report.add(None, "the signed note does not match this manifest")
    if manifest.get("origin") != key.name:
        report.add(None, f"the manifest names the log {manifest.get('origin')!r}, "
                   f"not {key.name!r}")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(MEMBERS):
        report.add(None, "the manifest does not name exactly the export's five members")
    return _Export(archive, key, manifest, report)


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except (OSError, zipfile.BadZipFile) as exc:
        raise Unreadable(f"{name} cannot be read from the export ({exc})") from None


def _check_member(export: _Export, name: str, data: bytes) -> None:
    files = export.manifest.get("files")
    expected = files.get(name) if isinstance(files, dict) else None
    if expected != hashlib.sha256(data).hexdigest():
        export.report.add(None, f"{name} is not the file the manifest names (its hash differs)")


def _read_checkpoints(export: _Export, kept: Sequence[tuple[str, str]]) -> None:
    raw = _member(export.archive, "checkpoints.json")
    _check_member(export, "checkpoints.json", raw)
    try:
        notes = json.loads(raw)
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise ValueError("not a list of notes")
    except ValueError as exc:
        raise Unreadable(f"checkpoints.json is malformed ({exc})") from None
    sources = [(f"checkpoint {n + 1} of the export", note, False)
               for n, note in enumerate(notes)]
    sources += [(f"kept checkpoint {name}", note, True) for name, note in kept]
    for source, note, is_kept in sources:
        try:
            checkpoint = open_checkpoint(note, export.key)
        except NoteError as exc:
            export.report.add(None, f"{source}: {exc}")
            continue
        export.checkpoints.append(_Signed(checkpoint, source, is_kept))
    sizes = [c.checkpoint.size for c in export.checkpoints if not c.kept]
    if any(a >= b for a, b in zip(sizes, sizes[1:], strict=False)):
        # Written once each, by size: a second note for a size (or one out of place) is not
        # the server's (docs/AUDIT_FORMAT.md, Exports).
        export.report.add(None, "checkpoints.json is not in increasing order of size (a "
                          "size twice, or a note out of place)")
    export.report.checkpoints = sum(not c.kept for c in export.checkpoints)
    export.report.kept = sum(c.kept for c in export.checkpoints)


def _check_entries(export: _Export, recorded: bytes, progress: Progress | None) -> int:
    """Stream events.jsonl: entry form and recorded leaves line by line, then the roots at
    every checkpoint size from one tree built over all leaves (faster than a root per line).
    The member is read in large blocks and split at b"\\n" here, which gives the lines that
    iterating over it would (the last one unterminated if the file does not end in a newline)
    without the per-line cost of ZipExtFile.readline."""
    checker = EntryChecker(recorded, export.report)
    check = checker.check_raw
    digest = hashlib.sha256()
    leaves = bytearray()
    count = 0
    pending: list[bytes] = []  # the start of a line that goes on in the next block
    with export.archive.open("events.jsonl") as member:
        while block := member.read(_BLOCK):
            digest.update(block)
            lines = block.split(b"\n")
            if len(lines) == 1:
                pending.append(block)
                continue
            if pending:
                pending.append(lines[0])
                lines[0] = b"".join(pending)
                pending = []
            last = lines.pop()
            if last:
                pending.append(last)
            for raw in lines:
                leaves += check(raw, True)
                count += 1
                if progress is not None and count % 10_000 == 0:
                    progress(10_000)
        if pending:
            leaves += check(b"".join(pending), False)
            count += 1
            if progress is not None and count % 10_000 == 0:
                progress(10_000)
    checker.finish()
    files = export.manifest.get("files")
    if not isinstance(files, dict) or files.get("events.jsonl") != digest.hexdigest():
        export.report.add(None, "events.jsonl is not the file the manifest names")
    if export.manifest.get("size") != count:
        export.report.add(None, f"the manifest says {export.manifest.get('size')} entries, "
                          f"events.jsonl holds {count}")
    tree = MerkleTree(bytes(leaves))
    for signed in export.checkpoints:
        if signed.checkpoint.size <= count:
            signed.events_root = tree.root(signed.checkpoint.size)
    export.report.entries = count
    return count


def _check_roots(export: _Export, recorded: bytes, entries: int) -> None:
    """Each checkpoint's root against the entries; where one differs, say where."""
    matching = [c.checkpoint.size for c in export.checkpoints
                if c.events_root is not None
                and hmac.compare_digest(c.events_root, c.checkpoint.root)]
    kept_matching = [c.checkpoint.size for c in export.checkpoints
                     if c.kept and c.checkpoint.size in matching
                     and c.events_root is not None
                     and hmac.compare_digest(c.events_root, c.checkpoint.root)]
    for signed in sorted(export.checkpoints, key=lambda c: c.checkpoint.size):
        size = signed.checkpoint.size
        if size > entries:
            export.report.add(entries, f"the log ends here, but {signed.source} states "
                              f"{size} entries: it was truncated or rolled back")
            continue
        if size in matching:
            continue
        recorded_root = _recorded_root(recorded, size)
        if recorded_root is not None and hmac.compare_digest(recorded_root,
                                                             signed.checkpoint.root):
            # leaves.bin is what the checkpoint signed: the entry check named the position.
            export.report.add(export.report.first_leaf_mismatch or 0,
                              f"the entries differ from what {signed.source} signed")
            continue
        # With the server's key stolen, checkpoints in the export prove nothing: bound the
        # change by the auditor's own checkpoints when the one that differs is theirs.
        trusted = kept_matching if signed.kept else matching
        before = max((s for s in trusted if s < size), default=0)
        export.report.add(before, f"the entries differ from what {signed.source} signed, "
                          f"and so do the recorded leaf hashes: the first changed entry lies "
                          f"between positions {before} and {size - 1}")


def _recorded_root(recorded: bytes, size: int) -> bytes | None:
    """The root of the first `size` recorded leaf hashes, if leaves.bin holds that many
    (needed only where a checkpoint and the entries disagree)."""
    if size * HASH_BYTES > len(recorded):
        return None
    return MerkleTree(recorded[:size * HASH_BYTES]).root()


def _check_proofs(export: _Export) -> None:
    raw = _member(export.archive, "proofs.json")
    _check_member(export, "proofs.json", raw)
    by_size = {c.checkpoint.size: c.checkpoint.root for c in export.checkpoints
               if not c.kept and c.checkpoint.size <= export.report.entries}
    try:
        proofs = json.loads(raw)["consistency"]
        sizes = sorted(by_size)
        stated = [(int(p["old_size"]), int(p["new_size"])) for p in proofs]
        if stated != list(zip(sizes, sizes[1:], strict=False)):
            export.report.add(None, "proofs.json does not hold one proof for each pair of "
                              "neighbouring checkpoints")
        for proof in proofs:
            old, new = int(proof["old_size"]), int(proof["new_size"])
            nodes = [_b64(node) for node in proof["proof"]]
            if old not in by_size or new not in by_size:
                export.report.add(None, f"a consistency proof from {old} to {new} entries "
                                  "names a checkpoint the export does not hold")
                continue
            try:
                verify_consistency(old, new, by_size[old], by_size[new], nodes)
            except ProofError as exc:
                export.report.add(old, f"the checkpoint of {new} entries does not extend "
                                  f"the one of {old}: {exc}")
    except (ValueError, KeyError, TypeError) as exc:
        raise Unreadable(f"proofs.json is malformed ({exc})") from None


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("a proof node is not base64") from None
