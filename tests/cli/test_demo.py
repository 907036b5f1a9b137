"""`candor demo`: labelled credentials, honest after a passphrase change, three accounts, and
the same first-login passphrase change as every account."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
from click.testing import CliRunner

from cli.main import cli
from core.config import load_config
from core.db import make_engine, make_session_factory, transaction
from core.models import Role
from core.services import build_services
from core.staff.accounts import get_reviewer, list_reviewers, totp_secret
from core.staff.authentication import confirm_totp
from core.staff.passphrase_change import change_passphrase


def _demo(data_dir: Path) -> str:
    result = CliRunner().invoke(cli, ["demo", "--data-dir", str(data_dir), "--no-serve"],
                                env={"CANDOR_DATA_DIR": str(data_dir)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _labelled(output: str, label: str) -> list[str]:
    return re.findall(rf"^\s+{label}:\s+(.+)$", output, flags=re.MULTILINE)


def test_demo_prints_each_account_on_labelled_lines(tmp_path: Path) -> None:
    output = _demo(tmp_path / "demo")
    assert _labelled(output, "Login") == ["demo", "demo.colleague", "demo.admin"]
    passphrases = _labelled(output, "Passphrase")
    assert len(passphrases) == 3 and all(" / " not in p for p in passphrases)
    assert len(_labelled(output, "TOTP secret")) == 3
    # Nothing is served, so no address is offered: only how to serve it.
    assert "http://" not in output
    assert (f"Serve it with: candor demo --data-dir {tmp_path / 'demo'} --host 127.0.0.1 "
            "--portal-port 8080 --console-port 8081") in output
    engine = make_engine(load_config({}, data_dir=tmp_path / "demo").database_url)
    with make_session_factory(engine)() as session:
        accounts = {r.username: r for r in list_reviewers(session)}
    engine.dispose()
    assert {name: r.role for name, r in accounts.items()} == {
        "demo": Role.REVIEWER, "demo.colleague": Role.REVIEWER, "demo.admin": Role.ADMIN}
    # As the README says: the printed passphrase is changed at first login.
    assert all(r.must_change_passphrase for r in accounts.values())


def test_a_changed_passphrase_is_not_printed_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    first = _demo(data_dir)
    old = _labelled(first, "Passphrase")[0]
    config = load_config({}, data_dir=data_dir)
    services = build_services(config)
    engine = make_engine(config.database_url)
    with transaction(make_session_factory(engine)) as session:  # the first login's two steps
        demo = get_reviewer(session, "demo")
        assert confirm_totp(session, services, demo, pyotp.TOTP(totp_secret(services, demo)).now())
        change_passphrase(session, services, demo, old, "quartz meadow violin 41 lanterns")
    engine.dispose()
    again = _demo(data_dir)
    passphrases = _labelled(again, "Passphrase")
    assert old not in again
    assert passphrases[0] == "changed since the demo was made: use the one you chose"
    assert passphrases[1:] == _labelled(first, "Passphrase")[1:]


def test_no_serve_repeats_the_options_given(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    result = CliRunner().invoke(
        cli, ["demo", "--data-dir", str(data_dir), "--portal-port", "18090",
              "--console-port", "18091", "--no-serve"],
        env={"CANDOR_DATA_DIR": str(data_dir)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "--host 127.0.0.1 --portal-port 18090 --console-port 18091" in result.output
