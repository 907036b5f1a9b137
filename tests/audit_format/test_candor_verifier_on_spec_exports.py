"""`candor audit verify`'s verifier on exports written from docs/AUDIT_FORMAT.md alone (the spec
writer in spec_export.py, by another author): it accepts them, and names the same first
position as the independent script for each attack. Two readers of one format, in both
directions."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.audit.verifier import verify_export
from crypto.signed_note import VerifierKey
from tests.audit_format.spec_export import (
    honest_export,
    make_entries,
    renumbered,
    verifier_key,
    write_zip,
)
from tests.audit_format.test_independent_verifier import KEY, kept, standard, tampered

TRUSTED = VerifierKey.parse(verifier_key(KEY))


def check(path: Path, *kept_paths: Path):
    return verify_export(path, key=TRUSTED,
                         kept=[(p.name, p.read_text("utf-8")) for p in kept_paths])


@pytest.mark.parametrize(("n", "sizes"), [
    (0, []), (0, [0]), (3, [0, 1, 3]), (1, [1]), (7, [3, 7]), (17, [6, 8, 16]),
    (40, [5, 13, 21, 32, 33])])
def test_valid_spec_exports_pass(tmp_path, n, sizes):
    path = write_zip(honest_export(make_entries(n), sizes, KEY), tmp_path / "export.zip")
    report = check(path)
    assert report.ok, report.problems
    assert (report.entries, report.checkpoints) == (n, len(sizes))


def test_kept_checkpoints_pass(tmp_path):
    entries = make_entries(13)
    report = check(standard(tmp_path), *(kept(tmp_path, entries, s) for s in (4, 6, 13)))
    assert report.ok and report.kept == 3


def attack(name: str) -> list[dict]:
    entries = make_entries(13)
    if name == "changed":
        entries[6]["action"] = "case:file:download"
    elif name == "removed":
        entries = renumbered(entries[:3] + entries[4:])
    elif name == "removed, not renumbered":
        entries = entries[:3] + entries[4:]
    elif name == "inserted":
        entries = renumbered(entries[:5] + [{**entries[4], "action": "case:identity:reveal"}]
                             + entries[5:])
    elif name == "swapped":
        entries[2], entries[3] = entries[3], entries[2]
        entries = renumbered(entries)
    elif name == "cut":
        entries = entries[:7]
    return entries


@pytest.mark.parametrize(("name", "position", "words"), [
    ("changed", 6, "changed"),
    ("removed", 3, "removed"),
    ("removed, not renumbered", 3, "says it is at position 4"),
    ("inserted", 5, "inserted"),
    ("swapped", 2, "swapped"),
    ("cut", 7, "truncated"),
])
def test_attacks_are_named_at_their_position(tmp_path, name, position, words):
    report = check(tampered(tmp_path, attack(name)))
    assert not report.ok
    assert report.first_bad_position == position, report.problems
    first = min((p for p in report.problems if p.position is not None),
                key=lambda p: p.position)
    assert words in first.message, report.problems


@pytest.mark.parametrize(("position", "low", "high"), [(4, 4, 4), (6, 5, 7)])
def test_leaves_rewritten_too_bound_the_change_by_the_checkpoints(tmp_path, position, low,
                                                                    high):
    entries = make_entries(13)
    entries[position]["reviewer_id"] = 99
    report = check(tampered(tmp_path, entries, rewrite_leaves=True))
    assert not report.ok
    assert any(f"between positions {low} and {high}" in p.message for p in report.problems), (
        report.problems)


def test_a_rolled_back_log_fails_against_a_kept_checkpoint(tmp_path):
    entries = make_entries(13)
    short = write_zip(honest_export(entries[:6], [2, 4, 5], KEY), tmp_path / "export.zip")
    assert check(short).ok  # consistent in itself ...
    report = check(short, kept(tmp_path, entries, 8))  # ... but not with what was kept
    assert report.first_bad_position == 6
    assert any("truncated or rolled back" in p.message for p in report.problems)


def test_a_forgery_under_another_key_fails_on_the_key(tmp_path):
    from nacl.signing import SigningKey
    forger = SigningKey(bytes(range(1, 33)))
    entries = renumbered(make_entries(13)[:3] + make_entries(13)[4:])
    forged = write_zip(honest_export(entries, [2, 4, 7, 10], forger), tmp_path / "export.zip")
    report = check(forged)
    assert not report.ok and report.first_bad_position is None
    assert verify_export(forged, key=VerifierKey.parse(verifier_key(forger))).ok



def test_a_second_note_for_a_size_fails_in_both_verifiers(tmp_path):
    """checkpoints.json holds each size once, in order (docs/AUDIT_FORMAT.md, Exports): a
    second valid note for a size, as a server signing twice would leave, is refused by both
    readers of the format (the reference script refused it; this verifier did not)."""
    import base64

    from tests.audit_format.spec_export import ORIGIN, leaf_hash, mth, sign_note
    from tests.audit_format.test_independent_verifier import verify as reference

    export = honest_export(make_entries(13), [4, 8], KEY)
    root = base64.b64encode(mth([leaf_hash(line) for line in export.events][:4])).decode()
    again = sign_note(f"{ORIGIN}\n4\n{root}\ntime 2024-05-09T13:00:00Z\n", KEY)  # signed later
    assert again != export.checkpoints[0]
    export.checkpoints = [export.checkpoints[0], again, export.checkpoints[1]]
    path = write_zip(export, tmp_path / "export.zip")
    report = check(path)
    assert not report.ok
    assert any("increasing order of size" in p.message for p in report.problems), report.problems
    assert reference(path, verifier_key(KEY))[0] == 1


def test_an_extension_line_in_a_checkpoint_is_ignored_by_both_verifiers(tmp_path):
    """C2SP lets a checkpoint carry extension lines after the root; a verifier ignores them
    but requires exactly one time line (docs/AUDIT_FORMAT.md, Checkpoints)."""
    import base64

    from tests.audit_format.spec_export import ORIGIN, leaf_hash, mth, sign_note
    from tests.audit_format.test_independent_verifier import verify as reference

    export = honest_export(make_entries(13), [4], KEY)
    root = base64.b64encode(mth([leaf_hash(line) for line in export.events][:4])).decode()
    export.checkpoints = [sign_note(f"{ORIGIN}\n4\n{root}\nextension by a later writer\n"
                                    "time 2024-05-05T12:00:00Z\n", KEY)]
    path = write_zip(export, tmp_path / "export.zip")
    assert check(path).ok
    assert reference(path, verifier_key(KEY))[0] == 0
    two_times = sign_note(f"{ORIGIN}\n4\n{root}\ntime 2024-05-05T12:00:00Z\n"
                          "time 2024-05-06T12:00:00Z\n", KEY)
    export.checkpoints = [two_times]
    path = write_zip(export, tmp_path / "export-two-times.zip")
    assert not check(path).ok
    assert reference(path, verifier_key(KEY))[0] == 1
