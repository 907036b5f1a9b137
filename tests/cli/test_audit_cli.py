"""`candor audit ...` end to end in a real instance (SQLite and PostgreSQL).

Guards what an operator and an auditor type: the verifier key `candor init` and `candor audit
key` print alike; checkpoints written and printed; exports and proofs that verify with the key
(as a line or as the file `candor audit key` wrote) and the kept checkpoints; and the exit
statuses of `candor audit verify` (0 verified, 1 failed, 2 usage, 3 unreadable) and of misused
`prove` and `export`.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from click.testing import Result

from core.keyring import Keyring
from crypto.signed_note import VerifierKey
from tests.cli.conftest import run

KEY_LINE = re.compile(r"^\s*(\S+\+[0-9a-f]{8}\+\S+)$", re.MULTILINE)
FINGERPRINT = re.compile(r"fingerprint: ((?:[0-9a-f]{4} ){15}[0-9a-f]{4})$", re.MULTILINE)


def checkpoint(env: dict[str, str], keep_in: Path) -> tuple[int, Path]:
    """`candor audit checkpoint`; the auditor keeps the printed note in a file of their own.
    Returns the checkpoint's size and the kept file."""
    result = run(env, "audit", "checkpoint")
    assert result.exit_code == 0, result.output
    match = re.match(r"Signed a checkpoint of (\d+) entr(?:y|ies): (\S+)\n", result.stdout)
    assert match, result.stdout
    size, path = int(match[1]), Path(match[2])
    note = result.stdout[match.end():]
    assert path.is_file() and path.read_text("utf-8") == note
    assert path.parent == Path(env["CANDOR_DATA_DIR"]) / "audit" / "checkpoints"
    assert note.splitlines()[1] == str(size) and note.splitlines()[3].startswith("time ")
    keep_in.mkdir(exist_ok=True)
    kept = keep_in / f"kept-{size}.txt"
    kept.write_text(note, encoding="utf-8")
    return size, kept


def verify(*args: str | Path) -> Result:
    """`candor audit verify ...`: it needs no instance, so no environment."""
    return run({}, "audit", "verify", *map(str, args))


def export(env: dict[str, str], path: Path) -> Path:
    result = run(env, "audit", "export", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Exported ") and path.is_file()
    return path


def prove(env: dict[str, str], path: Path, *args: str) -> Path:
    result = run(env, "audit", "prove", *args)
    assert result.exit_code == 0, result.output
    path.write_text(result.stdout, encoding="utf-8")
    return path


def test_init_and_audit_key_print_the_same_verifier_key(env: dict[str, str]) -> None:
    initialised = run(env, "init")
    assert initialised.exit_code == 0, initialised.output
    [key_line] = KEY_LINE.findall(initialised.stdout)
    [fingerprint] = FINGERPRINT.findall(initialised.stdout)
    key = VerifierKey.parse(key_line)
    assert key.fingerprint == fingerprint

    printed = run(env, "audit", "key")
    assert printed.exit_code == 0, printed.output
    assert printed.stdout.splitlines() == [key_line, f"fingerprint: {fingerprint}"]


def test_export_verifies_with_the_key_and_kept_checkpoint(initialised_env: dict[str, str],
                                                          tmp_path: Path) -> None:
    env = initialised_env
    key_line = run(env, "audit", "key").stdout.splitlines()[0]
    key_file = tmp_path / "auditor" / "candor.key"
    key_file.parent.mkdir()
    key_file.write_text(run(env, "audit", "key").stdout, encoding="utf-8")  # `... > file`
    _, kept = checkpoint(env, tmp_path / "auditor")
    archive = export(env, tmp_path / "log.zip")
    second = run(env, "audit", "export", str(tmp_path / "again.zip")).stdout
    assert re.fullmatch(r"Exported \d+ entr(y|ies) and 1 checkpoint to \S+again\.zip\n",
                        second), second

    for key in (key_line, key_file):
        good = verify(archive, "--public-key", key, "--checkpoint", kept)
        assert good.exit_code == 0, good.output
        assert good.stdout.startswith("Verified: ")
        # Counted in words: "1 entry", not "1 entries"; "1 checkpoint", not "checkpoint(s)".
        assert good.stdout == ("Verified: 1 entry, 1 checkpoint in the export, "
                               "1 kept checkpoint.\n"), good.stdout
        assert not good.stderr

    trusting = verify(archive, "--checkpoint", kept)
    assert trusting.exit_code == 0, trusting.output
    assert "Warning: no --public-key given" in trusting.stderr
    assert "Warning" not in trusting.stdout

    stranger = VerifierKey(VerifierKey.parse(key_line).name,
                           Keyring.generate().audit_verify_key).encode()
    foreign = verify(archive, "--public-key", stranger, "--checkpoint", kept)
    assert foreign.exit_code == 1, foreign.output
    assert foreign.stdout.startswith("FAILED: ")
    assert "another verifier key" in foreign.stdout

    again = run(env, "audit", "export", str(archive))
    assert again.exit_code == 1
    assert "exists" in again.output and "Traceback" not in again.output
    assert verify(archive, "--public-key", key_line).exit_code == 0  # left as it was


def test_verify_exit_statuses_for_unreadable_and_missing_files(tmp_path: Path) -> None:
    key = VerifierKey("audit.example/log", Keyring.generate().audit_verify_key).encode()
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"this is not an export \x00\x01\x02" * 10)

    unreadable = verify(garbage, "--public-key", key)
    assert unreadable.exit_code == 3, unreadable.output
    assert unreadable.stderr.startswith("Error: ")

    torn = tmp_path / "torn.zip"
    torn.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    assert verify(torn, "--public-key", key).exit_code == 3
    assert verify(garbage).exit_code == 3  # neither export nor proof, key or no key

    # Input that cannot be read is 3 (unreadable), as the help says, whichever file it is.
    missing = verify(tmp_path / "no-such-export.zip", "--public-key", key)
    assert missing.exit_code == 3, missing.output
    assert missing.stderr == (f"Error: cannot read the file {tmp_path / 'no-such-export.zip'}: "
                              "no such file\n")
    folder = verify(tmp_path, "--public-key", key)
    assert folder.exit_code == 3 and "it is a directory" in folder.stderr, folder.output


def test_verify_a_text_file_that_is_no_proof_is_unreadable(tmp_path: Path) -> None:
    # A checkpoint (or any text) given as FILE is "not an export or proof": 3, with or without
    # --public-key; no option would make it verifiable, so it is no usage error (2).
    key = VerifierKey("audit.example/log", Keyring.generate().audit_verify_key).encode()
    note = tmp_path / "kept-7.txt"
    note.write_text("audit.example/log\n7\nAAAA\n\n— audit.example/log AAAA\n", "utf-8")
    for args in ((), ("--public-key", key)):
        result = verify(note, *args)
        assert result.exit_code == 3, result.output
        assert result.stderr.startswith("Error: ") and "Usage:" not in result.output
        assert str(note) in result.stderr and "Traceback" not in result.output
    # The same words with the key (outside tester: "is not a proof file (Expecting value:
    # line 1 column 1 (char 0))", a JSON parser's message).
    for args in ((), ("--public-key", key)):
        assert verify(note, *args).stderr == (f"Error: {note} is neither an export (a ZIP "
                                              "file) nor a proof from `candor audit prove`\n")


def test_verify_a_missing_checkpoint_or_key_file_is_unreadable(tmp_path: Path) -> None:
    key = VerifierKey("audit.example/log", Keyring.generate().audit_verify_key).encode()
    export = tmp_path / "log.zip"
    export.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty ZIP: its checks never start
    nowhere = tmp_path / "kept-nowhere.txt"

    kept_missing = verify(export, "--public-key", key, "--checkpoint", nowhere)
    assert kept_missing.exit_code == 3, kept_missing.output
    assert kept_missing.stderr == (f"Error: cannot read the checkpoint file {nowhere}: "
                                   "no such file\n")

    not_text = tmp_path / "kept-binary.txt"
    not_text.write_bytes(b"\xff\xfe\x00")
    binary = verify(export, "--public-key", key, "--checkpoint", not_text)
    assert binary.exit_code == 3, binary.output
    assert binary.stderr.endswith(f"{not_text}: not UTF-8 text\n")

    key_file = tmp_path / "nowhere.key"
    key_missing = verify(export, "--public-key", str(key_file))
    assert key_missing.exit_code == 3, key_missing.output
    # Named in words, not "[Errno 2] No such file or directory: '...'".
    assert key_missing.stderr == (f"Error: cannot read the --public-key file {key_file}: no "
                                  "such file (give the key line itself, or the file `candor "
                                  "audit key` wrote)\n")
    assert "Errno" not in key_missing.output


def test_a_public_key_that_is_no_key_is_wrong_usage(tmp_path: Path) -> None:
    """Exit 2, as docs/verify_audit_export.py does (tests/audit_format): the argument is
    wrong, and the same command with the right key works; a key file that cannot be read
    stays 3 (above)."""
    export = tmp_path / "log.zip"
    export.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    good = VerifierKey("audit.example/log", Keyring.generate().audit_verify_key).encode()
    for bad in (good.replace("+", "+0", 1), "audit.example/log+nothex+AAAA"):
        result = verify(export, "--public-key", bad)
        assert result.exit_code == 2, result.output
        assert "--public-key is not a verifier key" in result.stderr
        assert "Traceback" not in result.output


def test_proofs_verify_and_a_changed_node_fails(initialised_env: dict[str, str],
                                                tmp_path: Path) -> None:
    env = initialised_env
    key = run(env, "audit", "key").stdout.splitlines()[0]
    auditor = tmp_path / "auditor"
    checkpoint(env, auditor)
    old_size, old_kept = checkpoint(env, auditor)
    for _ in range(3):
        newest, _ = checkpoint(env, auditor)
    assert newest >= old_size + 3 >= 4

    for position in (0, old_size, newest - 1):
        proof = prove(env, tmp_path / f"inclusion-{position}.json", "--position", str(position))
        document = json.loads(proof.read_text("utf-8"))
        assert (document["kind"], document["position"]) == ("inclusion", position)
        assert json.loads(document["entry"])["position"] == position
        result = verify(proof, "--public-key", key)
        assert result.exit_code == 0, result.output
        assert result.stdout == ("Verified: 1 entry, 1 checkpoint in the proof, "
                                 "0 kept checkpoints.\n")

    # A real proof without --public-key is wrong usage (2): the same command with the key
    # checks it.
    keyless = verify(tmp_path / "inclusion-0.json")
    assert keyless.exit_code == 2, keyless.output
    assert "Error: a proof is checked against --public-key" in keyless.output

    since = prove(env, tmp_path / "consistency.json", "--since", str(old_size))
    assert json.loads(since.read_text("utf-8"))["old_size"] == old_size
    result = verify(since, "--public-key", key, "--checkpoint", old_kept)
    assert result.exit_code == 0, result.output
    without_kept = verify(since, "--public-key", key)  # wrong usage, as without the key
    assert without_kept.exit_code == 2 and "--checkpoint FILE" in without_kept.stderr
    # A kept checkpoint, but not the one the proof starts from: it proves nothing (1).
    other_kept = verify(since, "--public-key", key, "--checkpoint", auditor / f"kept-{newest}.txt")
    assert other_kept.exit_code == 1 and "--checkpoint" in other_kept.stdout

    inclusion = tmp_path / f"inclusion-{old_size}.json"
    for proof, extra in ((inclusion, ()), (since, ("--checkpoint", old_kept))):
        document = json.loads(proof.read_text("utf-8"))
        assert document["proof"], "a proof with no node proves nothing about nodes"
        node = bytearray(base64.b64decode(document["proof"][-1]))
        node[0] ^= 1
        document["proof"][-1] = base64.b64encode(bytes(node)).decode()
        forged = proof.with_name("forged-" + proof.name)
        forged.write_text(json.dumps(document), encoding="utf-8")
        failed = verify(forged, "--public-key", key, *extra)
        assert failed.exit_code == 1, failed.output
        assert failed.stdout.startswith("FAILED: ")

    for args in ((), ("--position", "0", "--since", "0")):
        misuse = run(env, "audit", "prove", *args)
        assert misuse.exit_code == 2, misuse.output
        assert "exactly one of --position and --since" in misuse.output
