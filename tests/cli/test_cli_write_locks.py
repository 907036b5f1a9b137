"""The command line hashes a staff passphrase before its transaction opens: on SQLite a
transaction holds the write lock the running apps need (`candor reviewer add` and
`reset-passphrase` on a live instance)."""

from __future__ import annotations

from typing import Any

import pytest

from core.staff import passphrases
from tests.cli.conftest import PASSPHRASE, run
from tests.write_lock_probe import others_hold_a_transaction


def test_no_transaction_while_the_cli_hashes_a_passphrase(
        initialised_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = initialised_env["CANDOR_DATABASE_URL"]
    held: list[bool] = []
    hash_passphrase = passphrases.hash_passphrase

    def probed(passphrase: str, profile: Any) -> str:
        held.append(others_hold_a_transaction(url))
        return hash_passphrase(passphrase, profile)

    monkeypatch.setattr(passphrases, "hash_passphrase", probed)
    added = run(initialised_env, "reviewer", "add", "alice", "--role", "reviewer",
                "--passphrase-stdin", input=PASSPHRASE + "\n")
    assert added.exit_code == 0, added.output
    reset = run(initialised_env, "reviewer", "reset-passphrase", "alice")
    assert reset.exit_code == 0 and "One-time passphrase for 'alice'" in reset.output
    assert held == [False, False]
