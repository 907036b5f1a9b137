#!/usr/bin/env python3
"""Check a Candor access-log export, written from docs/AUDIT_FORMAT.md alone.

    python docs/verify_audit_export.py EXPORT.zip --public-key KEY [--checkpoint FILE ...]

KEY is the verifier key line (`name+keyid+base64`) or a file holding it on its first line (as
`candor audit key > key.txt` writes it, the fingerprint below); each FILE is a signed
checkpoint note the auditor kept. Exit 0: good; 1: a check failed (one line `FAILED ...`);
2: bad usage or key; 3: the export, the key file or a checkpoint file cannot be read.

Needs Python 3.11 or later and PyNaCl (`pip install pynacl`), nothing else.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

MEMBERS = ("events.jsonl", "leaves.bin", "checkpoints.json", "proofs.json", "key.txt")
ENTRY_KEYS = {"position", "occurred_at", "actor_kind", "reviewer_id", "action", "case_id", "detail"}


class Failed(Exception):
    """A check failed at `position` (an int, a range "a..b", or None)."""

    def __init__(self, what: str, position: int | str | None = None) -> None:
        super().__init__(what)
        self.position = position


class Malformed(Exception):
    """The export (or a kept checkpoint file) cannot be read at all."""


class Key(NamedTuple):
    line: str
    name: str
    key_id: bytes
    verify_key: VerifyKey


class Checkpoint(NamedTuple):
    what: str
    size: int
    root: bytes


def sha256(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01", left, right)


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def b64(text: str, length: int | None = None) -> bytes:
    """Strict standard base64; ValueError if malformed or not `length` bytes long."""
    data = base64.b64decode(text, validate=True)
    if length is not None and len(data) != length:
        raise ValueError(f"expected {length} bytes, got {len(data)}")
    return data


def parse_key(line: str) -> Key:
    """A C2SP verifier key `name+hex(key id)+base64(0x01 || Ed25519 public key)`."""
    line = line.strip().splitlines()[0] if line.strip() else ""  # a key file's first line
    name, key_id, blob = line.split("+", 2)
    raw = b64(blob, 33)
    if raw[0] != 1 or not name or " " in name:
        raise ValueError("not an Ed25519 verifier key")
    if sha256(name.encode(), b"\n", raw)[:4].hex() != key_id:
        raise ValueError("its key id does not match its name and public key")
    return Key(line.strip(), name, bytes.fromhex(key_id), VerifyKey(raw[1:]))


def open_note(note: str, key: Key, what: str, hint: str = "") -> list[str]:
    """Verify a signed note under `key` (other keys' lines ignored); return its text lines."""
    text, sep, signatures = note.partition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise Failed(f"{what} is not a signed note")
    for line in signatures[:-1].split("\n"):
        name, _, blob = line[2:].partition(" ")
        try:
            raw = b64(blob) if line.startswith("\u2014 ") else b""
        except ValueError:
            raw = b""
        if len(raw) < 5:
            raise Failed(f"{what} has a malformed signature line")
        if name != key.name or raw[:4] != key.key_id:
            continue
        try:
            key.verify_key.verify((text + "\n").encode(), raw[4:])
        except (BadSignatureError, ValueError):
            raise Failed(f"{what}: its signature by {key.name} does not verify") from None
        return text.split("\n")
    raise Failed(f"{what} is not signed by the given key {key.line}{hint}")


def parse_checkpoint(note: str, key: Key, what: str) -> Checkpoint:
    """Verify a checkpoint note (origin, size, root, one time line, any other extension lines;
    the key's origin); return its size and root."""
    lines = open_note(note, key, what)
    times = [line for line in lines[3:] if line.startswith("time ")]
    if len(lines) < 4 or len(times) != 1:  # extension lines are ignored, but one time line
        raise Failed(f"{what} does not have the lines of a checkpoint")
    (origin, size, root), time = lines[:3], times[0]
    if origin != key.name:
        raise Failed(f"{what} names the origin {origin!r}, not the key's {key.name!r}")
    try:
        if not (size.isascii() and size.isdigit() and str(int(size)) == size):
            raise ValueError(size)
        datetime.strptime(time, "time %Y-%m-%dT%H:%M:%SZ")
        return Checkpoint(what, int(size), b64(root, 32))
    except ValueError:
        raise Failed(f"{what} has a malformed size, root or time line") from None


def roots_at(leaves: list[bytes], sizes: set[int]) -> dict[int, bytes]:
    """RFC 9162 MTH of the first s leaves for every s in `sizes`, in one streaming pass.

    The stack is a compact range: the roots of perfect subtrees (widths: decreasing powers
    of two) covering the leaves so far; folding it from the right gives the prefix's MTH."""
    roots = {0: sha256()} if 0 in sizes else {}
    stack: list[tuple[int, bytes]] = []
    for size, leaf in enumerate(leaves, start=1):
        stack.append((1, leaf))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            (width, right), (_, left) = stack.pop(), stack.pop()
            stack.append((2 * width, node(left, right)))
        if size in sizes:
            root = stack[-1][1]
            for _, subtree in reversed(stack[:-1]):
                root = node(subtree, root)
            roots[size] = root
    return roots


def consistent(first: int, second: int, first_hash: bytes, second_hash: bytes,
               path: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2 (for 0 < first < second); equal or empty trees take no proof."""
    if first == second or first == 0:
        return not path and (first != second or first_hash == second_hash)
    if not path or first > second:
        return False
    if first & (first - 1) == 0:  # first is a power of two
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0


def check_entry(i: int, line: bytes) -> bytes:
    """Step 3 for line i; returns its leaf hash."""
    try:
        entry = json.loads(line)
    except ValueError:
        raise Failed("the line is not JSON", i) from None
    if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS:
        raise Failed("the line is not an object with exactly the seven keys", i)
    at = entry["position"]
    if type(at) is not int or at != i:
        hint = " (an entry was removed here)" if at == i + 1 else ""
        raise Failed(f"the entry says it is at position {at!r}{hint}", i)
    if canonical(entry) != line:
        raise Failed("the entry is not in canonical form", i)
    return sha256(b"\x00", line)


def diagnose(i: int, lines: list[bytes], recorded: list[bytes]) -> str:
    """Step 4's diagnosis at the first position i where line i and hash i differ.

    Entries carry their position, so a line is compared with a neighbouring hash as it was
    numbered there: line i renumbered i + 1 is hash i + 1 (one removed), line i + 1 renumbered
    i is hash i (one inserted), or both (two swapped)."""
    def matches(line: int, position: int) -> bool:  # the line renumbered to `position`
        if line >= len(lines) or position >= len(recorded):
            return False
        entry = json.loads(lines[line]) | {"position": position}
        return sha256(b"\x00", canonical(entry)) == recorded[position]

    removed, inserted = matches(i, i + 1), matches(i + 1, i)
    if removed and inserted:
        return f"entries {i} and {i + 1} were swapped"
    if removed:
        return "an entry was removed here (this line is the next recorded hash's entry)"
    if inserted:
        return "an entry was inserted here (the next line is this recorded hash's entry)"
    return "the entry was changed (its leaf hash is not the one recorded in leaves.bin)"


def read_export(path: Path) -> tuple[dict[str, bytes], dict[str, Any]]:
    """All members and the parsed manifest, or Malformed."""
    try:
        with zipfile.ZipFile(path) as archive:
            if len(archive.namelist()) != len(set(archive.namelist())):
                raise Malformed("the archive holds a member twice")
            members = {n: archive.read(n) for n in (*MEMBERS, "manifest.json", "manifest.sig")}
        manifest = json.loads(members["manifest.json"])
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise Malformed(f"cannot read {path}: {error}") from None
    if not (isinstance(manifest, dict) and manifest.get("format") == "candor-audit-export/1"
            and type(manifest.get("size")) is int and isinstance(manifest.get("files"), dict)):
        raise Malformed("manifest.json is not a candor-audit-export/1 manifest")
    return members, manifest


def load(members: dict[str, bytes], name: str) -> Any:
    """A member's JSON, or Malformed."""
    try:
        return json.loads(members[name])
    except ValueError:
        raise Malformed(f"{name} is not JSON") from None


def verify(path: Path, key: Key, kept: dict[str, str]) -> tuple[int, int]:
    """Steps 1-6 of "Checking an export"; returns (entries, checkpoints checked)."""
    members, manifest = read_export(path)
    # 1. Key: manifest.sig under the auditor's key, naming its origin and manifest.json.
    named = members["key.txt"].decode(errors="replace").strip()
    hint = f" (key.txt holds {named})" if named != key.line else ""
    signed = open_note(members["manifest.sig"].decode(errors="replace"), key, "manifest.sig", hint)
    if signed != ["candor audit export v1", key.name, sha256(members["manifest.json"]).hex()]:
        raise Failed("manifest.sig does not name this origin and manifest.json's SHA-256")
    if manifest.get("origin") != key.name or named != key.line:
        raise Failed("manifest.json's origin or key.txt is not the given key's")
    # 2. Files.
    for name in MEMBERS:
        if sha256(members[name]).hex() != manifest["files"].get(name):
            raise Failed(f"{name}'s SHA-256 is not the one in manifest.json")
    events = members["events.jsonl"]
    lines = events.split(b"\n")[:-1]
    if events[-1:] not in (b"", b"\n") or len(lines) != manifest["size"]:
        raise Failed(f"events.jsonl does not hold the manifest's {manifest['size']} lines")
    # 3. Entries.
    leaves = [check_entry(i, line) for i, line in enumerate(lines)]
    # 4. Recorded leaves.
    blob = members["leaves.bin"]
    if len(blob) % 32:
        raise Failed("leaves.bin does not hold whole 32-byte hashes")
    recorded = [blob[i:i + 32] for i in range(0, len(blob), 32)]
    for i, (leaf, hash_) in enumerate(zip(leaves, recorded, strict=False)):
        if leaf != hash_:
            raise Failed(diagnose(i, lines, recorded), i)
    if len(recorded) > len(lines):
        raise Failed(f"leaves.bin records {len(recorded)} entries: the last were removed",
                     len(lines))
    # 5. Checkpoints (leaves.bin agrees with the lines wherever it covers them: step 4).
    notes = load(members, "checkpoints.json")
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise Malformed("checkpoints.json is not an array of notes")
    ours = [parse_checkpoint(n, key, f"checkpoints.json[{i}]") for i, n in enumerate(notes)]
    if any(a.size >= b.size for a, b in zip(ours, ours[1:], strict=False)):
        raise Failed("checkpoints.json is not in increasing order of size")
    every = ours + [parse_checkpoint(note, key, f"kept checkpoint {f}") for f, note in kept.items()]
    for cp in every:
        if cp.size > len(lines):
            raise Failed(f"{cp.what} has size {cp.size}, the export only {len(lines)} entries: "
                         "the log was truncated or rolled back", len(lines))
    roots = roots_at(leaves, {cp.size for cp in every})
    # A wrong root: the first altered entry lies between the largest smaller good checkpoint's
    # size and the first bad one's size - 1 (the exact position is lost with leaves.bin).
    bad = min((cp for cp in every if roots[cp.size] != cp.root), default=None,
              key=lambda cp: cp.size)
    if bad is not None:
        good = max((cp.size for cp in every if cp.size < bad.size and roots[cp.size] == cp.root),
                   default=0)
        where = str(good) if good == bad.size - 1 else f"{good}..{bad.size - 1}"
        raise Failed(f"{bad.what}'s root is not the tree hash of the first {bad.size} entries: "
                     f"the first altered entry is at position {where}", where)
    # 6. Proofs: one per pair of neighbouring checkpoints, each verifying.
    try:
        proofs = [(p["old_size"], p["new_size"], [b64(h, 32) for h in p["proof"]])
                  for p in load(members, "proofs.json")["consistency"]]
    except (TypeError, KeyError, ValueError):
        raise Malformed("proofs.json is not a list of consistency proofs") from None
    pairs = list(zip(ours, ours[1:], strict=False))
    if [(old, new) for old, new, _ in proofs] != [(a.size, b.size) for a, b in pairs]:
        raise Failed("proofs.json does not hold one proof per pair of neighbouring checkpoints")
    for (old, new, proof), (a, b) in zip(proofs, pairs, strict=True):
        if not consistent(old, new, a.root, b.root, proof):
            raise Failed(f"the consistency proof from size {old} to {new} does not verify")
    return len(lines), len(every)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the checks, print one line, return the exit status."""
    parser = argparse.ArgumentParser(description="Check a Candor access-log export.")
    parser.add_argument("export", type=Path, help="the export ZIP")
    parser.add_argument("--public-key", required=True, help="the verifier key line, or a file")
    parser.add_argument("--checkpoint", action="append", default=[], type=Path,
                        help="a signed checkpoint note you kept (repeatable)")
    args = parser.parse_args(argv)
    text = args.public_key
    if Path(text).is_file() or "+" not in text:  # a file, or what can only be a file's name
        try:
            text = Path(text).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            print(f"ERROR: cannot read the --public-key file: {error}")
            return 3
    try:
        key = parse_key(text)
    except ValueError as error:
        parser.error(f"--public-key: {error}")
    try:
        kept = {str(f): f.read_text("utf-8") for f in args.checkpoint}
        entries, checkpoints = verify(args.export, key, kept)
    except (Malformed, OSError, UnicodeDecodeError) as error:
        print(f"ERROR: {error}")
        return 3
    except Failed as failure:
        at = "" if failure.position is None else f" at position {failure.position}"
        print(f"FAILED{at}: {failure}")
        return 1
    noun = "checkpoint" if checkpoints == 1 else "checkpoints"
    print(f"OK: {entries} entries, {checkpoints} {noun} verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
