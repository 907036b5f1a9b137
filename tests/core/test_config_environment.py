"""`CANDOR_*` environment variables: each names a setting (or is one of the few read
elsewhere), and any other is refused at load, as an unknown key in candor.toml is. A typo
such as CANDOR_SMTP_HOTS used to be ignored, leaving the default in force unnoticed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from core.config import (
    _INT_SETTINGS,
    _OTHER_SETTINGS,
    _STR_SETTINGS,
    NON_SETTING_VARIABLES,
    ConfigError,
    load_config,
)

ROOT = Path(__file__).resolve().parents[2]
SETTING_VARIABLES = {f"CANDOR_{name.upper()}"
                     for name in (*_INT_SETTINGS, *_STR_SETTINGS, *_OTHER_SETTINGS)}
#: How code reads a variable: environ.get("X"), environ["X"], env.get("X"), getenv("X"), and
#: $X / ${X} in shell scripts and systemd units.
READ_IN_PYTHON = re.compile(r"""(?:environ|env|getenv)(?:\.get)?[(\[]\s*["'](CANDOR_\w+)""")
READ_IN_SHELL = re.compile(r"\$\{?(CANDOR_\w+)")


def test_a_mistyped_setting_is_refused_with_the_close_matches(tmp_path: Path) -> None:
    env = {"CANDOR_DATA_DIR": str(tmp_path), "CANDOR_SMTP_HOTS": "mail.example.org"}
    with pytest.raises(ConfigError) as refused:
        load_config(env)
    message = str(refused.value)
    assert message.startswith("unknown environment variable CANDOR_SMTP_HOTS (did you mean "
                              "CANDOR_SMTP_HOST, "), message
    assert "candor.toml" in message


def test_every_unknown_variable_is_named(tmp_path: Path) -> None:
    env = {"CANDOR_DATA_DIR": str(tmp_path), "CANDOR_RETENTION_DAY": "30",
           "CANDOR_XYZZY": "1"}
    with pytest.raises(ConfigError) as refused:
        load_config(env)
    message = str(refused.value)
    assert message.startswith("unknown environment variables CANDOR_RETENTION_DAY (did you "
                              "mean CANDOR_RETENTION_DAYS"), message
    # Nothing close to it: named, with no guess.
    assert ", CANDOR_XYZZY: " in message


def test_a_removed_setting_says_what_replaced_it(tmp_path: Path) -> None:
    env = {"CANDOR_DATA_DIR": str(tmp_path), "CANDOR_RECEIPT_LOGINS_PER_MINUTE": "5"}
    with pytest.raises(ConfigError, match="^CANDOR_RECEIPT_LOGINS_PER_MINUTE: "
                                          "receipt_logins_per_minute is no longer a setting"):
        load_config(env)


def test_the_kdf_cannot_be_named_in_the_environment(tmp_path: Path) -> None:
    # Only code may choose a cheaper Argon2id (tests); a variable for it is refused outright.
    with pytest.raises(ConfigError, match=r"^unknown environment variable CANDOR_KDF\b"):
        load_config({"CANDOR_DATA_DIR": str(tmp_path), "CANDOR_KDF": "cheap"})


def test_variables_of_settings_and_those_read_elsewhere_are_accepted(tmp_path: Path) -> None:
    env = {name: "1" for name in NON_SETTING_VARIABLES}
    env.update({"CANDOR_DATA_DIR": str(tmp_path),
                "CANDOR_DATABASE_URL": f"sqlite:///{tmp_path / 'candor.sqlite3'}",
                "CANDOR_SMTP_HOST": "mail.example.org", "CANDOR_RETENTION_DAYS": "30"})
    config = load_config(env)
    assert (config.smtp_host, config.retention_days) == ("mail.example.org", 30)
    # Other prefixes are none of Candor's business.
    assert load_config({"CANDOR_DATA_DIR": str(tmp_path), "CANDORX_Y": "1",
                        "SMTP_HOTS": "1"}).smtp_host is None


def test_every_candor_variable_the_repository_reads_is_accepted() -> None:
    """The test suite, benches, CI and deploy/ read some CANDOR_ variables that are not
    settings; a new one must be added to NON_SETTING_VARIABLES, or every `candor` command a
    test starts with it set would be refused."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    read = set()
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.suffix in (".png", ".mo", ".zip", ".pdf"):
            continue
        text = path.read_text("utf-8", errors="replace")
        pattern = READ_IN_PYTHON if path.suffix == ".py" else READ_IN_SHELL
        read.update(pattern.findall(text))
    assert {"CANDOR_TEST_POSTGRES_URL", "CANDOR_LOAD_SECONDS", "CANDOR_DATA_DIR"} <= read
    assert read - SETTING_VARIABLES - NON_SETTING_VARIABLES == set()


def test_the_cli_says_it_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["reviewer", "list"],
                                env={"CANDOR_DATA_DIR": str(tmp_path),
                                     "CANDOR_SMTP_HOTS": "mail.example.org"})
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: unknown environment variable CANDOR_SMTP_HOTS "
                                    "(did you mean CANDOR_SMTP_HOST")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output
