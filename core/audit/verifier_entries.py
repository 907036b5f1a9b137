"""The per-entry checks of the offline verifier: canonical form, positions, and each entry's
leaf hash against the hash the instance recorded when it signed its checkpoints."""

from __future__ import annotations

import hashlib
import json

from core.audit.verifier_report import Report
from crypto.merkle import HASH_BYTES

_KEYS = frozenset(("position", "occurred_at", "actor_kind", "reviewer_id", "action",
                   "case_id", "detail"))
_ACTORS = frozenset(("reviewer", "submitter", "system"))
#: One encoder for every entry: json.dumps would build a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
_DECODER = json.JSONDecoder()
#: What _DECODER.decode scans with (set by JSONDecoder.__init__; typeshed does not list it).
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]


def _decode(text: str) -> object:
    """json.JSONDecoder().decode(text). A line that is one JSON value from its first to its
    last character (every entry) is scanned once; decode skips surrounding whitespace first
    and after, and reports extra data, which scanning at 0 would not: anything else goes
    through it, for its value or its error."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return _DECODER.decode(text)
    return value if end == len(text) else _DECODER.decode(text)


class EntryChecker:
    """Checks the lines of events.jsonl one by one, in order."""

    def __init__(self, recorded: bytes, report: Report) -> None:
        self.recorded = recorded
        self.recorded_count = len(recorded) // HASH_BYTES
        self.report = report
        self.position = 0
        self.unterminated = False
        self._form_broken = False
        self._mismatch: int | None = None
        self._mismatch_line = b""

    def _recorded(self, index: int) -> bytes:
        return self.recorded[index * HASH_BYTES:(index + 1) * HASH_BYTES]

    def check(self, line: bytes) -> bytes:
        """Check the next line (with its newline, if it has one); return its leaf hash."""
        terminated = line.endswith(b"\n")
        return self.check_raw(line[:-1] if terminated else line, terminated)

    def check_raw(self, raw: bytes, terminated: bool) -> bytes:
        """Check the next line, `raw` without its newline (`terminated`: it had one);
        return its leaf hash."""
        self.unterminated = not terminated
        leaf = hashlib.sha256(b"\x00" + raw).digest()
        index = self.position
        if not self._form_broken:
            self._check_form(raw, index)
        if self._mismatch is None and index < self.recorded_count:
            if leaf != self.recorded[index * HASH_BYTES:(index + 1) * HASH_BYTES]:
                self._mismatch, self._mismatch_line = index, raw
        elif self._mismatch == index - 1:
            self._diagnose(next_line=raw)
        self.position += 1
        return leaf

    def _check_form(self, raw: bytes, index: int) -> None:
        try:
            text = raw.decode("ascii")  # canonical entries escape every non-ASCII character
            entry = _decode(text)
        except ValueError:  # UnicodeDecodeError included
            text, entry = "", None
        if not isinstance(entry, dict) or entry.keys() != _KEYS:
            what = "is not an entry (a JSON object with the seven keys)"
        elif type(entry["position"]) is not int or entry["position"] != index:  # not 1.0, true
            what = (f"the entry says it is at position {entry['position']!r}: entries were "
                    "removed, inserted or reordered here")
        elif entry["actor_kind"] not in _ACTORS or not isinstance(entry["detail"], str):
            what = "the entry's actor or detail is malformed"
        elif _CANONICAL.encode(entry) != text:
            what = "the entry is not in canonical form"
        else:
            return
        self._form_broken = True  # after one broken entry the rest would only echo it
        self.report.add(index, what)

    def _diagnose(self, next_line: bytes | None) -> None:
        """Say what happened at the first entry whose hash differs from the recorded one.
        Entries name their position, so a removal or insertion shows once the neighbours
        are renumbered back: line i as i + 1 is the recorded i + 1 after a removal, line
        i + 1 as i is the recorded i after an insertion, and both after a swap."""
        index = self._mismatch
        assert index is not None
        self.report.first_leaf_mismatch = index
        shifted_down = (index + 1 < self.recorded_count
                        and _as_position(self._mismatch_line, index + 1)
                        == self._recorded(index + 1))
        shifted_up = (next_line is not None
                      and _as_position(next_line, index) == self._recorded(index))
        if shifted_down and shifted_up:
            what = f"entries {index} and {index + 1} were swapped"
        elif shifted_down:
            what = "an entry was removed here (this entry was recorded one place later)"
        elif shifted_up:
            what = "an entry was inserted here (the next entry was recorded here)"
        else:
            what = ("the entry was changed: its hash is not the one recorded when it was "
                    "checkpointed")
        self.report.add(index, what)
        self._mismatch = -1  # diagnosed: nothing more to compare

    def finish(self) -> None:
        """After the last line: diagnose a mismatch on the last entry, and a log shorter than
        its recorded hashes."""
        if self._mismatch is not None and self._mismatch >= 0:
            self._diagnose(next_line=None)
        if self.unterminated:
            self.report.add(self.position - 1, "the last line of events.jsonl has no newline")
        if self.position < self.recorded_count and self._mismatch is None:
            self.report.first_leaf_mismatch = self.position
            self.report.add(self.position, f"the log ends here, but {self.recorded_count} "
                            "entries were checkpointed: it was truncated")


def _as_position(raw: bytes, position: int) -> bytes | None:
    """The leaf hash the entry would have at another position (None if it is not one)."""
    try:
        entry = json.loads(raw)
        entry["position"] = position
    except (ValueError, TypeError):
        return None
    canonical = _CANONICAL.encode(entry).encode()
    return hashlib.sha256(b"\x00" + canonical).digest()
