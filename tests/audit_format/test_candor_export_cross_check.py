"""Candor's own `candor audit export` against the independent verifier in docs/.

A real instance (`candor init`, two accounts, three checkpoints) on each database backend; the
verifier, written from docs/AUDIT_FORMAT.md alone, must accept its export with the key
`candor audit key` prints and the checkpoints the instance kept, and refuse it under another.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from tests.audit_format.spec_export import verifier_key
from tests.cli.conftest import PASSPHRASE, run
from tests.databases import fresh_database

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_audit_export.py"


@pytest.fixture
def instance(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of an instance made by `candor init`, with a few log entries and
    three signed checkpoints."""
    (tmp_path / "db").mkdir()
    with fresh_database(backend, tmp_path / "db", with_schema=False) as url:
        env = {"CANDOR_DATA_DIR": str(tmp_path / "data"), "CANDOR_DATABASE_URL": url}
        assert run(env, "init").exit_code == 0
        for name, role in (("al", "auditor"), ("bo", "reviewer"), ("cy", "admin")):
            added = run(env, "reviewer", "add", name, "--role", role, "--passphrase-stdin",
                        input=PASSPHRASE + "\n")
            assert added.exit_code == 0, added.output
            signed = run(env, "audit", "checkpoint")
            assert signed.exit_code == 0, signed.output
        yield env


def verify(export: Path, key: str, *kept: Path) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(SCRIPT), str(export), "--public-key", key]
    for path in kept:
        args += ["--checkpoint", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_candors_export_passes_the_independent_verifier(
        instance: dict[str, str], tmp_path: Path) -> None:
    export = tmp_path / "export.zip"
    written = run(instance, "audit", "export", str(export))
    assert written.exit_code == 0, written.output
    printed = run(instance, "audit", "key")
    assert printed.exit_code == 0, printed.output
    key_line, fingerprint_line = printed.output.strip().splitlines()[:2]

    # The fingerprint is the SHA-256 of the 32-byte public key, in groups of four hex digits.
    public = base64.b64decode(key_line.split("+", 2)[2])[1:]
    digest = hashlib.sha256(public).hexdigest()
    assert fingerprint_line.split(":", 1)[1].split() == [digest[i:i + 4]
                                                         for i in range(0, 64, 4)]

    kept = sorted((Path(instance["CANDOR_DATA_DIR"]) / "audit" / "checkpoints").glob("*"))
    assert len(kept) == 3
    done = verify(export, key_line, *kept)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK: ") and done.stdout.endswith(" 6 checkpoints verified\n")

    other = verifier_key(SigningKey(bytes(32)), key_line.split("+")[0])
    refused = verify(export, other)
    assert refused.returncode == 1
    assert refused.stdout.startswith("FAILED: manifest.sig is not signed by the given key")
