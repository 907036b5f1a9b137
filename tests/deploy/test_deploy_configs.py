"""deploy/'s examples, checked by the tools that will read them (nginx -t, systemd-analyze,
tor, PostgreSQL) and against the code they must agree with. test_deploy_live.py runs them.

Needs nginx, systemd-analyze and openssl: missing ones skip these tests locally and fail them
in CI (.ci/run installs them). tor is optional (its package would start a Tor client in CI).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.config import Config, load_config
from tests.cli.conftest import run as candor
from tests.deploy.harness import (
    DEPLOY,
    NGINX_FILES,
    nginx_tree,
    rewrite,
    tool,
    unit_settings,
)
from web.requests import FORM_BODY_LIMIT
from web.streamed_forms import FORM_OVERHEAD_BYTES

MiB = 1024 * 1024
SERVICES = sorted(DEPLOY.glob("candor-*.service"))
TIMERS = sorted(DEPLOY.glob("candor-*.timer"))
#: [Service] lines in which the units may differ: what runs and how it is restarted.
PER_UNIT = {"Type", "ExecStart", "ExecReload", "Restart", "RestartSec"}
#: The sandbox every unit must have (issue #15), value for value.
REQUIRED_SANDBOX = {
    "User": "candor", "ProtectSystem": "strict", "ReadWritePaths": "/srv/candor",
    "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "NoNewPrivileges": "yes", "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "MemoryDenyWriteExecute": "yes", "CapabilityBoundingSet": "", "LockPersonality": "yes",
    "RestrictNamespaces": "yes", "MemorySwapMax": "0", "LimitCORE": "0", "UMask": "0077",
    "EnvironmentFile": "/etc/candor/candor.env",
}


def locations(conf: str) -> dict[str, str]:
    """`location` lines of an nginx file -> their bodies (the examples nest none)."""
    return {m.group(1).strip(): m.group(2)
            for m in re.finditer(r"^\s*location\s+([^{]+)\{([^}]*)\}", conf, re.M)}


def directive(body: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]*);", body, re.M)


def mib(size: str) -> int:
    assert size.endswith("m"), size
    return int(size[:-1]) * MiB


# --- nginx ------------------------------------------------------------------------------------


def test_nginx_accepts_every_example_in_debians_http_block(tmp_path: Path) -> None:
    tree = nginx_tree(tmp_path, NGINX_FILES)
    result = subprocess.run(tree.command("-t"), capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[warn]" not in output and "[emerg]" not in output, output


@pytest.mark.parametrize("name", ["nginx-portal-common.conf", "nginx-console.conf"])
def test_body_limits_match_candor_and_only_uploads_stream(name: str) -> None:
    conf = (DEPLOY / name).read_text("utf-8")
    server_level = re.sub(r"^\s*location\s+[^{]+\{[^}]*\}", "", conf, flags=re.M)
    # Ordinary forms: the app's own limit, held in memory whole (never in a temporary file).
    assert [mib(v) for v in directive(server_level, "client_max_body_size")] == [FORM_BODY_LIMIT]
    assert directive(server_level, "client_body_buffer_size") == ["1m"]
    assert directive(server_level, "proxy_max_temp_file_size") == ["0"]
    assert directive(server_level, "gzip") == ["off"]
    assert directive(server_level, "access_log") == ["off"]
    uploads = [body for body in locations(conf).values()
               if directive(body, "proxy_request_buffering") == ["off"]]
    assert len(uploads) == 1
    default = Config(data_dir=Path("unused"), database_url="sqlite://").max_submission_bytes
    assert [mib(v) for v in directive(uploads[0], "client_max_body_size")] == [
        default + FORM_OVERHEAD_BYTES]
    # Locations inherit the server's headers only if they set none of their own.
    for where, body in locations(conf).items():
        assert not directive(body, "proxy_set_header"), where
        assert not directive(body, "add_header"), where
    # The timeouts are per read and write, so a three-hour upload passes: none above a minute.
    for timeout in ("client_body_timeout", "send_timeout", "proxy_send_timeout",
                    "proxy_read_timeout"):
        assert directive(server_level, timeout) == ["60s"], timeout


def _upload_location(name: str) -> re.Pattern[str]:
    conf = (DEPLOY / name).read_text("utf-8")
    (pattern,) = [where.removeprefix("~").strip() for where, body in locations(conf).items()
                  if directive(body, "proxy_request_buffering") == ["off"]]
    return re.compile(pattern)


@pytest.mark.parametrize(("app", "conf"), [("portal", "nginx-portal-common.conf"),
                                           ("console", "nginx-console.conf")])
def test_the_upload_locations_are_exactly_the_apps_streamed_views(
        app: str, conf: str, tmp_path: Path) -> None:
    """The views that read their body as a stream (the ones Flask-WTF's CSRF check skips:
    they check the token themselves) are the ones nginx lets through unbuffered and large."""
    from cli.serve import build_app

    env = {"CANDOR_DATA_DIR": str(tmp_path / "data")}
    assert candor(env, "init").exit_code == 0
    flask_app = build_app(app, load_config(env))
    streamed = flask_app.extensions["csrf"]._exempt_views
    upload = _upload_location(conf)
    checked = set()
    for rule in flask_app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        view = flask_app.view_functions[rule.endpoint]
        path = re.sub(r"<[^>]+>", "12345", rule.rule)
        is_streamed = f"{view.__module__}.{view.__name__}" in streamed
        assert bool(upload.fullmatch(path)) == is_streamed, (rule.rule, is_streamed)
        checked.add(is_streamed)
    assert checked == {True, False}


def test_file_transfers_may_hold_half_of_the_portals_threads() -> None:
    (start,) = [v for k, v in unit_settings(DEPLOY / "candor-portal.service") if k == "ExecStart"]
    workers, threads = (int(re.search(rf"--{name} (\d+)", start).group(1))  # type: ignore[union-attr]
                        for name in ("workers", "threads"))
    conf = (DEPLOY / "nginx-portal-common.conf").read_text("utf-8")
    limits = set(re.findall(r"limit_conn candor_portal_transfers (\d+);", conf))
    assert limits == {str(workers * threads // 2)}


def test_both_portal_servers_share_the_protections_and_forward_no_address() -> None:
    include = "include /etc/nginx/snippets/candor-portal.conf;"
    for name in ("nginx-portal.conf", "nginx-onion.conf"):
        conf = (DEPLOY / name).read_text("utf-8")
        assert include in conf, name
        assert directive(conf, r"set \$candor_forward_address") == ['""'], name
    assert "ssl_certificate" not in (DEPLOY / "nginx-onion.conf").read_text("utf-8")
    # Limits per site: no key in nginx-candor.conf names the client.
    zones = directive((DEPLOY / "nginx-candor.conf").read_text("utf-8"), "limit_conn_zone")
    assert zones and not any("$" in zone for zone in zones), zones


def test_the_console_is_for_the_private_network_over_tls_only() -> None:
    conf = (DEPLOY / "nginx-console.conf").read_text("utf-8")
    (listen,) = directive(conf, "listen")
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+:443 ssl http2", listen)  # one address, not all
    rules = re.findall(r"^\s*(allow|deny)\s+([^;]+);", conf, re.M)
    assert rules[-1] == ("deny", "all") and len(rules) > 1
    assert "include /etc/nginx/snippets/candor-tls.conf;" in conf


def test_tor_points_at_the_onion_server_block() -> None:
    torrc = (DEPLOY / "torrc-onion-service").read_text("utf-8")
    (target,) = re.findall(r"^HiddenServicePort\s+80\s+(\S+)$", torrc, re.M)
    (listen,) = directive((DEPLOY / "nginx-onion.conf").read_text("utf-8"), "listen")
    assert listen.split()[0] == target


def test_tor_accepts_the_torrc(tmp_path: Path) -> None:
    tor = shutil.which("tor")
    if tor is None:  # not installed in CI on purpose: the package starts a Tor client
        pytest.skip("tor is not installed")
    torrc = rewrite((DEPLOY / "torrc-onion-service").read_text("utf-8"),
                    (r"/var/lib/tor/candor-portal/", f"{tmp_path}/hs/"))
    (tmp_path / "torrc").write_text(f"{torrc}\nDataDirectory {tmp_path}/data\n", "utf-8")
    result = subprocess.run([tor, "--verify-config", "-f", str(tmp_path / "torrc")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- systemd ----------------------------------------------------------------------------------


def _units(folder: Path) -> Path:
    """The units in `folder`, their ExecStart= pointing at a stub that exists."""
    stub = folder / "bin" / "candor"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    units = folder / "units"
    units.mkdir()
    for unit in (*SERVICES, *TIMERS):
        text = unit.read_text("utf-8")
        if unit.suffix == ".service":
            text = rewrite(text, (r"^ExecStart=/opt/candor/venv/bin/candor ",
                                  f"ExecStart={stub} "))
        (units / unit.name).write_text(text, "utf-8")
    return units


def _systemd_analyze(units: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("systemd-analyze"), *args], cwd=units, capture_output=True, text=True,
        env={**os.environ, "SYSTEMD_LOG_TARGET": "console", "SYSTEMD_LOG_LEVEL": "notice"})


def test_systemd_analyze_verifies_every_unit(tmp_path: Path) -> None:
    units = _units(tmp_path)
    result = _systemd_analyze(units, "verify", "--man=no",
                              *sorted(p.name for p in units.iterdir()))
    # Unknown keys and bad values are only warnings: any output at all is a failure.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr)


def test_systemd_rates_every_service_ok(tmp_path: Path) -> None:
    """`systemd-analyze security`: an exposure of at most 1.5 of 10 ("OK"; 1.2 today)."""
    units = _units(tmp_path)
    for unit in SERVICES:
        result = _systemd_analyze(units, "security", "--offline=yes", "--threshold=15",
                                  "--no-pager", unit.name)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_every_unit_has_the_same_sandbox() -> None:
    assert len(SERVICES) == 8
    portal = [kv for kv in unit_settings(DEPLOY / "candor-portal.service") if kv[0] not in PER_UNIT]
    settings = dict(portal)
    for key, value in REQUIRED_SANDBOX.items():
        assert settings.get(key) == value, key
    assert ("SystemCallFilter", "@system-service") in portal
    for unit in SERVICES:
        assert [kv for kv in unit_settings(unit) if kv[0] not in PER_UNIT] == portal, unit.name


def test_every_scheduled_command_has_a_timer_and_the_readme_lists_every_file() -> None:
    readme = (DEPLOY / "README.md").read_text("utf-8")
    (cron,) = re.findall(r"```cron\n(.*?)```", readme, re.S)
    commands = re.findall(r"^[\d*/,]+(?:\s+[\d*/,]+){4}\s+(candor .+?)\s*$", cron, re.M)
    assert len(commands) == 6
    ran = {}
    for unit in SERVICES:
        (start,) = [v for k, v in unit_settings(unit) if k == "ExecStart"]
        ran[start.removeprefix("/opt/candor/venv/bin/")] = unit
    for command in commands:
        assert command in ran, command
        assert ran[command].with_suffix(".timer").is_file(), command
        assert ran[command].with_suffix(".timer") in TIMERS
    assert len(TIMERS) == len(commands)
    # The table names each file, the scheduled units by their stem ("`candor-cleanup`").
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `"))
    listed = set(re.findall(r"`([^`\s]+)`", table))
    unlisted = [p.name for p in DEPLOY.iterdir() if p.name != "README.md"
                and p.name not in listed and p.stem not in listed]
    assert unlisted == []


# --- PostgreSQL -------------------------------------------------------------------------------


def test_the_postgresql_settings_exist_with_valid_values() -> None:
    from sqlalchemy import text

    from tests.databases import _admin_engine, require_postgres

    require_postgres()
    settings = dict(re.findall(r"^(\w+)\s*=\s*(.+?)\s*$",
                               (DEPLOY / "postgresql.conf.example").read_text("utf-8"), re.M))
    assert {"log_statement", "log_min_error_statement", "log_min_duration_statement",
            "log_error_verbosity", "log_connections", "log_disconnections", "log_line_prefix",
            "log_hostname"} <= settings.keys()
    assert not re.search(r"%[hr]", settings["log_line_prefix"])
    engine = _admin_engine()
    with engine.connect() as conn:
        known = {row.name: row for row in conn.execute(text(
            "select name, vartype, enumvals, min_val from pg_settings"))}
    engine.dispose()
    for name, value in settings.items():
        assert name in known, name
        row = known[name]
        if row.vartype == "enum":
            assert value.strip("'") in row.enumvals, (name, value)
        elif row.vartype == "bool":
            assert value in ("on", "off"), (name, value)
        elif row.vartype in ("integer", "real"):
            assert float(value) >= float(row.min_val), (name, value)

