"""docs/verify_audit_export.py against exports written from docs/AUDIT_FORMAT.md alone.

Each attack is built with the spec writer in spec_export.py: an attacker with the database
(the export is then re-signed by the honest exporter, leaves.bin untouched), with the server's
files too (leaves.bin rewritten), or with neither key nor files (a forged export).
"""

from __future__ import annotations

import base64
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from nacl.signing import SigningKey

from tests.audit_format.spec_export import (
    Export,
    canonical,
    checkpoint,
    consistency_proof,
    honest_export,
    leaf_hash,
    make_entries,
    mth,
    renumbered,
    verifier_key,
    write_zip,
)

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_audit_export.py"
KEY = SigningKey(bytes(range(32)))
SIZES = [2, 4, 5, 8, 11]  # the checkpoints of the standard 13-entry log


def verify(export: Path, key: str = verifier_key(KEY), *kept: Path) -> tuple[int, str]:
    """Run the script as an auditor would; (exit status, its output)."""
    args = [sys.executable, str(SCRIPT), str(export), "--public-key", key]
    for path in kept:
        args += ["--checkpoint", str(path)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return done.returncode, (done.stdout + done.stderr).strip()


def leaves_of(entries: list[dict[str, Any]]) -> list[bytes]:
    return [leaf_hash(canonical(e)) for e in entries]


def kept(tmp_path: Path, entries: list[dict[str, Any]], size: int,
         key: SigningKey = KEY) -> Path:
    """A checkpoint the auditor received by mail and kept."""
    path = tmp_path / f"kept-{size}-{key_name(key)}.txt"
    path.write_text(checkpoint(leaves_of(entries), size, key), "utf-8")
    return path


def key_name(key: SigningKey) -> str:
    return bytes(key.verify_key)[:4].hex()


def tampered(tmp_path: Path, entries: list[dict[str, Any]],
             original: list[dict[str, Any]] | None = None, rewrite_leaves: bool = False) -> Path:
    """The honest exporter's output after the database's entries became `entries`:
    checkpoints, proofs and (unless rewritten) leaves.bin stay the original log's."""
    before = honest_export(original or make_entries(13), SIZES, KEY)
    leaves = b"".join(leaves_of(entries)[:max(SIZES)]) if rewrite_leaves else before.leaves
    after = Export(events=[canonical(e) for e in entries], leaves=leaves,
                   checkpoints=before.checkpoints, proofs=before.proofs, key=KEY)
    return write_zip(after, tmp_path / "export.zip")


def standard(tmp_path: Path, **changes: object) -> Path:
    export = honest_export(make_entries(13), SIZES, KEY)
    for name, value in changes.items():
        setattr(export, name, value)
    return write_zip(export, tmp_path / "export.zip")


# Valid exports -------------------------------------------------------------------------------

def test_a_valid_export_passes_with_kept_checkpoints(tmp_path: Path) -> None:
    entries = make_entries(13)
    status, out = verify(standard(tmp_path), verifier_key(KEY),
                         *(kept(tmp_path, entries, s) for s in (4, 6, 13)))
    assert (status, out) == (0, "OK: 13 entries, 8 checkpoints verified")


@pytest.mark.parametrize(("n", "sizes"), [
    (0, []), (0, [0]), (3, [0, 1, 3]), (1, [1]), (2, [1, 2]), (3, [1, 3]), (7, [3, 7]),
    (9, [1, 2, 3, 4, 5, 6, 7, 8, 9]), (17, [6, 8, 16]), (40, [5, 13, 21, 32, 33]), (64, [1, 63])])
def test_valid_exports_of_many_shapes_pass(tmp_path: Path, n: int, sizes: list[int]) -> None:
    path = write_zip(honest_export(make_entries(n), sizes, KEY), tmp_path / "export.zip")
    noun = "checkpoint" if len(sizes) == 1 else "checkpoints"
    assert verify(path) == (0, f"OK: {n} entries, {len(sizes)} {noun} verified")


def test_the_key_may_be_given_as_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(verifier_key(KEY) + "\n", "utf-8")
    assert verify(standard(tmp_path), str(key_file))[0] == 0
    # As `candor audit key > key.txt` writes it: the key, then its fingerprint.
    key_file.write_text(verifier_key(KEY) + "\nfingerprint: 1a2b 3c4d\n", "utf-8")
    assert verify(standard(tmp_path), str(key_file))[0] == 0


def test_one_checkpoint_is_named_in_the_singular(tmp_path: Path) -> None:
    path = write_zip(honest_export(make_entries(3), [3], KEY), tmp_path / "export.zip")
    assert verify(path) == (0, "OK: 3 entries, 1 checkpoint verified")


def test_a_missing_key_file_is_unreadable_in_both_verifiers(tmp_path: Path) -> None:
    """A `--public-key` without "+" can only name a file: one that is not there cannot be
    read (3), as `candor audit verify` says too (tests/cli/test_audit_cli.py)."""
    from click.testing import CliRunner

    from cli.main import cli

    export, nowhere = standard(tmp_path), str(tmp_path / "nowhere.key")
    status, out = verify(export, nowhere)
    assert status == 3 and out.startswith("ERROR: cannot read the --public-key file"), out
    candor = CliRunner().invoke(cli, ["audit", "verify", str(export), "--public-key", nowhere])
    assert candor.exit_code == 3, candor.output


# Entries altered ---------------------------------------------------------------------------

def test_a_changed_field_is_named_by_leaves_bin(tmp_path: Path) -> None:
    entries = make_entries(13)
    entries[6]["action"] = "case:file:download"
    status, out = verify(tampered(tmp_path, entries))
    assert status == 1
    assert out.startswith("FAILED at position 6: the entry was changed"), out


@pytest.mark.parametrize(("position", "where"), [(4, "4"), (6, "5..7"), (12, None)])
def test_a_changed_field_with_its_leaf_rewritten_is_caught_by_the_checkpoints(
        tmp_path: Path, position: int, where: str | None) -> None:
    entries = make_entries(13)
    entries[position]["reviewer_id"] = 99
    status, out = verify(tampered(tmp_path, entries, rewrite_leaves=True))
    if where is None:  # after the last checkpoint: only a later checkpoint can tell
        assert status == 0, out
        assert verify(tampered(tmp_path, entries, rewrite_leaves=True), verifier_key(KEY),
                      kept(tmp_path, make_entries(13), 13))[1].startswith(
                          "FAILED at position 11..12: kept checkpoint")
    else:
        assert status == 1
        assert out.startswith(f"FAILED at position {where}: checkpoints.json["), out


def test_an_entry_removed_and_everything_re_signed_by_another_key_fails_on_the_key(
        tmp_path: Path) -> None:
    entries = renumbered(make_entries(13)[:3] + make_entries(13)[4:])
    forger = SigningKey(bytes(range(1, 33)))
    forged = write_zip(honest_export(entries, [2, 4, 7, 10], forger), tmp_path / "export.zip")
    status, out = verify(forged)
    assert status == 1
    assert out.startswith("FAILED: manifest.sig is not signed by the given key"), out
    assert verify(forged, verifier_key(forger))[0] == 0  # it is otherwise a perfect forgery


def test_an_entry_removed_and_the_rest_renumbered_is_named(tmp_path: Path) -> None:
    entries = renumbered(make_entries(13)[:3] + make_entries(13)[4:])
    status, out = verify(tampered(tmp_path, entries))
    assert status == 1
    assert out.startswith("FAILED at position 3: an entry was removed here"), out


def test_an_entry_removed_without_renumbering_is_named(tmp_path: Path) -> None:
    status, out = verify(tampered(tmp_path, make_entries(13)[:3] + make_entries(13)[4:]))
    assert status == 1
    assert out == ("FAILED at position 3: the entry says it is at position 4 "
                   "(an entry was removed here)")


def test_an_entry_inserted_is_named(tmp_path: Path) -> None:
    entries = make_entries(13)
    forged = {**entries[4], "action": "case:identity:reveal"}
    status, out = verify(tampered(tmp_path, renumbered(entries[:5] + [forged] + entries[5:])))
    assert status == 1
    assert out.startswith("FAILED at position 5: an entry was inserted here"), out


def test_two_entries_swapped_are_named(tmp_path: Path) -> None:
    entries = make_entries(13)
    entries[2], entries[3] = entries[3], entries[2]
    status, out = verify(tampered(tmp_path, renumbered(entries)))
    assert (status, out) == (1, "FAILED at position 2: entries 2 and 3 were swapped")


# The log cut short -------------------------------------------------------------------------

def test_a_log_truncated_below_a_kept_checkpoint_fails(tmp_path: Path) -> None:
    """Rolled back with the server's files and key: a fully consistent export of 6 entries."""
    entries = make_entries(13)
    short = write_zip(honest_export(entries[:6], [2, 4, 5], KEY), tmp_path / "export.zip")
    assert verify(short)[0] == 0
    status, out = verify(short, verifier_key(KEY), kept(tmp_path, entries, 8))
    assert status == 1
    assert out.startswith("FAILED at position 6: kept checkpoint"), out
    assert "truncated or rolled back" in out


def test_entries_cut_from_the_database_leave_leaves_bin_longer(tmp_path: Path) -> None:
    status, out = verify(tampered(tmp_path, make_entries(13)[:7]))
    assert status == 1
    assert out.startswith("FAILED at position 7: leaves.bin records 11 entries"), out


# Checkpoints, proofs, manifest ----------------------------------------------------------------

def flip(text: str, at: int) -> str:
    return text[:at] + chr(ord(text[at]) ^ 1) + text[at + 1:]


def test_a_checkpoint_note_with_a_flipped_byte_fails(tmp_path: Path) -> None:
    notes = honest_export(make_entries(13), SIZES, KEY).checkpoints
    root_line = notes[1].index("\n", notes[1].index("\n") + 1) + 3
    notes[1] = flip(notes[1], root_line)
    status, out = verify(standard(tmp_path, checkpoints=notes))
    assert status == 1
    assert out.startswith("FAILED: checkpoints.json[1]: its signature by"), out


def test_a_kept_checkpoint_with_a_flipped_byte_fails(tmp_path: Path) -> None:
    path = kept(tmp_path, make_entries(13), 8)
    path.write_text(flip(path.read_text("utf-8"), len("audit.candor.example/test-log\n")))
    status, out = verify(standard(tmp_path), verifier_key(KEY), path)
    assert status == 1
    assert out.startswith(f"FAILED: kept checkpoint {path}: its signature by"), out


def test_a_consistency_proof_with_a_changed_node_fails(tmp_path: Path) -> None:
    proofs = honest_export(make_entries(13), SIZES, KEY).proofs
    node = base64.b64decode(proofs[2]["proof"][1])
    proofs[2]["proof"][1] = base64.b64encode(bytes([node[0] ^ 1]) + node[1:]).decode()
    status, out = verify(standard(tmp_path, proofs=proofs))
    assert (status, out) == (1, "FAILED: the consistency proof from size 5 to 8 does not verify")


def test_a_member_that_is_not_the_manifests_fails(tmp_path: Path) -> None:
    after = {"proofs.json": b'{"consistency": []}'}
    status, out = verify(standard(tmp_path, after_manifest=after))
    assert (status, out) == (1, "FAILED: proofs.json's SHA-256 is not the one in manifest.json")


def test_a_kept_checkpoint_from_another_log_key_fails(tmp_path: Path) -> None:
    other = SigningKey(bytes(range(2, 34)))
    path = kept(tmp_path, make_entries(13), 8, other)
    status, out = verify(standard(tmp_path), verifier_key(KEY), path)
    assert status == 1
    assert out.startswith(f"FAILED: kept checkpoint {path} is not signed by the given key"), out


# Unreadable input and bad usage ---------------------------------------------------------------

def test_a_file_that_is_not_a_zip_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(b"not a zip at all")
    status, out = verify(path)
    assert status == 3 and out.startswith("ERROR:"), out


def test_a_missing_member_or_a_manifest_that_is_not_json_is_unreadable(tmp_path: Path) -> None:
    status, out = verify(standard(tmp_path, after_manifest={"manifest.json": b"{nope"}))
    assert status == 3 and out.startswith("ERROR:"), out
    path = standard(tmp_path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != "leaves.bin"}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    status, out = verify(path)
    assert status == 3 and "leaves.bin" in out, out


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    path = standard(tmp_path)
    done = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True)
    assert done.returncode == 2
    assert verify(path, verifier_key(KEY).replace("+", "+0", 1))[0] == 2  # wrong key id


# The Merkle tree itself ------------------------------------------------------------------------

def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_audit_export", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tree_hashes_are_rfc_6962s_test_vectors() -> None:
    """The roots of the RFC 6962 reference test vectors (certificate-transparency's merkle
    tree tests), computed by the script's streaming compact range and the writer's MTH."""
    inputs = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
    roots = {1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
             3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
             4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
             5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
             6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
             7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
             8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
             0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
    leaves = [leaf_hash(bytes.fromhex(i)) for i in inputs]
    script = load_script()
    assert {s: r.hex() for s, r in script.roots_at(leaves, set(roots)).items()} == roots
    assert {s: mth(leaves[:s]).hex() for s in roots} == roots


def test_every_consistency_proof_up_to_24_leaves_verifies_and_no_altered_one_does() -> None:
    script = load_script()
    leaves = leaves_of(make_entries(24))
    roots = script.roots_at(leaves, set(range(25)))
    for n in range(1, 25):
        assert roots[n] == mth(leaves[:n])
        for m in range(1, n):
            proof = consistency_proof(m, leaves[:n])
            assert script.consistent(m, n, roots[m], roots[n], proof), (m, n)
            assert not script.consistent(m, n, roots[m], roots[n], proof[:-1])
            assert not script.consistent(m, n, roots[m], roots[n], [*proof, roots[1]])
            assert not script.consistent(m, n - 1, roots[m], roots[n - 1], proof)
            for i in range(len(proof)):
                bad = [*proof[:i], leaves[0] if proof[i] != leaves[0] else leaves[1],
                       *proof[i + 1:]]
                assert not script.consistent(m, n, roots[m], roots[n], bad), (m, n, i)


