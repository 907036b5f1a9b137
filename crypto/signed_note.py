"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519, and the transparency-log
checkpoints written in them (https://c2sp.org/tlog-checkpoint).

A note is UTF-8 text ending in a newline, then a blank line, then one signature line per
signer: ``— <key name> <base64(key id || signature)>``. The key id is the first four bytes of
SHA-256(key name || "\\n" || 0x01 || public key); 0x01 names Ed25519. A verifier key is written
``<name>+<key id in hex>+<base64(0x01 || public key)>``.

A checkpoint's text is the log's origin, its size in decimal, its root hash in base64, then
extension lines; Candor adds one, ``time <UTC time, seconds>``, so that auditors can tell when
it was signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from crypto.errors import SignatureError
from crypto.signing import sign, signing_key_from_seed, verify

__all__ = [
    "Checkpoint",
    "NoteError",
    "VerifierKey",
    "checkpoint_text",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint_text",
    "sign_note",
]

_ED25519 = b"\x01"
_SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
_NAME = re.compile(r"[^\s+]+")
_TIME_PREFIX = "time "
#: At most this many signature lines are read from a note (C2SP allows verifiers a limit).
_MAX_SIGNATURES = 100


class NoteError(SignatureError):
    """A note or checkpoint is malformed, or not signed by the expected key."""


def _key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A named Ed25519 public key, as auditors are given it."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise NoteError("a key name must not be empty or contain spaces or '+'")
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        """The four bytes that tie a signature line to this key."""
        return _key_id(self.name, self.public_key)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the public key in hex, in groups of four, for reading aloud."""
        digest = hashlib.sha256(self.public_key).hexdigest()
        return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))

    def encode(self) -> str:
        """``<name>+<key id hex>+<base64(0x01 || key)>``."""
        encoded = base64.b64encode(_ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read a verifier key written by `encode` (surrounding whitespace ignored)."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key is written name+keyid+key")
        name, key_id_hex, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
            key_id = bytes.fromhex(key_id_hex)
        except (binascii.Error, ValueError):
            raise NoteError("the verifier key is not valid hex and base64") from None
        if raw[:1] != _ED25519 or len(raw) != 33:
            raise NoteError("the verifier key is not an Ed25519 key")
        key = cls(name, raw[1:])
        if key.key_id != key_id:
            raise NoteError("the verifier key's id does not match its name and key")
        return key

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> VerifierKey:
        """The verifier key of a signing seed."""
        return cls(name, signing_key_from_seed(seed).verify_key)


def sign_note(text: str, name: str, seed: bytes) -> str:
    """Return the signed note: `text` (ending in a newline), a blank line, one signature."""
    if not text.endswith("\n") or "\n\n" in text:
        raise ValueError("a note's text ends in a newline and has no blank line")
    key = VerifierKey.from_seed(name, seed)
    signature = sign(seed, text.encode())
    encoded = base64.b64encode(key.key_id + signature).decode()
    return f"{text}\n{_SIGNATURE_PREFIX}{name} {encoded}\n"


def open_note(note: str, key: VerifierKey) -> str:
    """Return the text of a note once a signature by `key` verifies; NoteError otherwise.
    Signatures by other keys are ignored, as the format requires."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("the note has no signature block")
    text += "\n"
    lines = signatures[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError("the note has too many signatures")
    for line in lines:
        if not line.startswith(_SIGNATURE_PREFIX):
            raise NoteError("a signature line does not start with an em dash")
        name, _, encoded = line[len(_SIGNATURE_PREFIX):].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError("a signature is not valid base64") from None
        if name != key.name or raw[:4] != key.key_id:
            continue
        try:
            verify(key.public_key, text.encode(), raw[4:])
        except SignatureError:
            raise NoteError(f"the signature by {name} does not verify") from None
        return text
    raise NoteError(f"the note carries no signature by {key.name}")


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint states: the log `origin` had `size` entries with Merkle root `root`
    at `issued_at` (UTC)."""

    origin: str
    size: int
    root: bytes
    issued_at: datetime


def checkpoint_text(checkpoint: Checkpoint) -> str:
    """The text of a checkpoint note, before signing."""
    if not _NAME.fullmatch(checkpoint.origin):
        raise ValueError("an origin must not be empty or contain spaces or '+'")
    if checkpoint.size < 0 or len(checkpoint.root) != 32:
        raise ValueError("a checkpoint has a size >= 0 and a 32-byte root")
    issued = checkpoint.issued_at.astimezone(UTC).replace(microsecond=0)
    return (f"{checkpoint.origin}\n{checkpoint.size}\n"
            f"{base64.b64encode(checkpoint.root).decode()}\n"
            f"{_TIME_PREFIX}{issued.strftime('%Y-%m-%dT%H:%M:%SZ')}\n")


def parse_checkpoint_text(text: str) -> Checkpoint:
    """Read the text of a checkpoint (already verified); NoteError if malformed."""
    lines = text.split("\n")
    if len(lines) < 5 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a size, a root and a time")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    times = [line for line in lines[3:-1] if line.startswith(_TIME_PREFIX)]
    if not _NAME.fullmatch(origin) or not size_text.isdigit() or len(times) != 1:
        raise NoteError("the checkpoint's origin, size or time line is malformed")
    if size_text != str(int(size_text)):
        raise NoteError("the checkpoint's size has leading zeros")
    try:
        root = base64.b64decode(root_text, validate=True)
        issued_at = datetime.strptime(times[0][len(_TIME_PREFIX):], "%Y-%m-%dT%H:%M:%SZ")
    except (binascii.Error, ValueError):
        raise NoteError("the checkpoint's root or time is malformed") from None
    if len(root) != 32:
        raise NoteError("the checkpoint's root is not a SHA-256 hash")
    return Checkpoint(origin, int(size_text), root, issued_at.replace(tzinfo=UTC))


def open_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """Verify a signed checkpoint note against `key` and return what it states. The origin
    must be the key's name (Candor signs its checkpoints under the log's origin)."""
    checkpoint = parse_checkpoint_text(open_note(note, key))
    if checkpoint.origin != key.name:
        raise NoteError(f"the checkpoint is for the log {checkpoint.origin!r}, "
                        f"not {key.name!r}")
    return checkpoint
