"""Instance secrets on disk and configuration loading."""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path

import pytest

from core.config import ConfigError, load_config
from core.keyring import Keyring, KeyringError, load_keyring, write_keyring
from crypto.kdf import PRODUCTION, KdfProfile
from crypto.keys import generate_keypair

SECRET_FILES = ("pepper", "receipt_salt", "audit_signing_key", "totp_key", "cookie_key")


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def cfg(data_dir):
    return load_config({}, data_dir=data_dir)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- keyring ----------------------------------------------------------------------------------


def test_write_and_load_round_trip(cfg):
    recovery = generate_keypair()
    keyring = Keyring.generate(recovery_public_key=recovery.public_key)
    write_keyring(cfg, keyring)
    assert mode(cfg.secrets_dir) == 0o700
    for name in SECRET_FILES:
        assert mode(cfg.secrets_dir / name) == 0o600, name
    assert load_keyring(cfg) == keyring
    assert cfg.recovery_public_key_path.read_text().strip() == recovery.public_key.hex()


def test_write_tightens_an_existing_secrets_dir(cfg):
    cfg.secrets_dir.mkdir(mode=0o755)
    os.chmod(cfg.secrets_dir, 0o755)
    write_keyring(cfg, Keyring.generate())
    assert mode(cfg.secrets_dir) == 0o700


def test_files_are_0600_even_with_a_lax_umask(cfg):
    old = os.umask(0)
    try:
        write_keyring(cfg, Keyring.generate())
    finally:
        os.umask(old)
    for name in SECRET_FILES:
        assert mode(cfg.secrets_dir / name) == 0o600


def test_without_recovery_key(cfg):
    keyring = Keyring.generate()
    write_keyring(cfg, keyring)
    assert not cfg.recovery_public_key_path.exists()
    assert load_keyring(cfg).recovery_public_key is None


def test_generated_keyrings_differ():
    a, b = Keyring.generate(), Keyring.generate()
    assert a.pepper != b.pepper and a.receipt_salt != b.receipt_salt
    assert a.audit_signing_seed != b.audit_signing_seed and a.totp_key != b.totp_key
    assert len(a.audit_verify_key) == 32 and a.audit_verify_key != a.audit_signing_seed


def test_refuses_to_overwrite(cfg):
    first = Keyring.generate()
    write_keyring(cfg, first)
    with pytest.raises(KeyringError):
        write_keyring(cfg, Keyring.generate())
    assert load_keyring(cfg) == first


@pytest.mark.parametrize("existing", [*SECRET_FILES, "recovery.pub"])
def test_refuses_even_when_one_file_exists(cfg, existing):
    """A partial earlier init is not completed silently: nothing is written."""
    if existing == "recovery.pub":
        target = cfg.recovery_public_key_path
    else:
        cfg.secrets_dir.mkdir(mode=0o700)
        target = cfg.secrets_dir / existing
    target.write_bytes(b"precious")
    with pytest.raises(KeyringError):
        write_keyring(cfg, Keyring.generate(recovery_public_key=generate_keypair().public_key))
    assert target.read_bytes() == b"precious"
    written = [n for n in SECRET_FILES if (cfg.secrets_dir / n).exists() and n != existing]
    assert written == []


@pytest.mark.parametrize("name", SECRET_FILES)
@pytest.mark.parametrize("bad_mode", [0o640, 0o604, 0o660, 0o644, 0o620, 0o602])
def test_load_rejects_files_others_can_access(cfg, name, bad_mode):
    write_keyring(cfg, Keyring.generate())
    os.chmod(cfg.secrets_dir / name, bad_mode)
    with pytest.raises(KeyringError, match=name):
        load_keyring(cfg)


@pytest.mark.parametrize("name", SECRET_FILES)
def test_load_rejects_wrong_sizes(cfg, name):
    write_keyring(cfg, Keyring.generate())
    path = cfg.secrets_dir / name
    original = path.read_bytes()
    for data in (original[:-1], original + b"\n", b""):
        path.write_bytes(data)
        with pytest.raises(KeyringError, match=name):
            load_keyring(cfg)


@pytest.mark.parametrize("name", SECRET_FILES)
def test_load_reports_missing_files(cfg, name):
    write_keyring(cfg, Keyring.generate())
    (cfg.secrets_dir / name).unlink()
    with pytest.raises(KeyringError, match=name):
        load_keyring(cfg)


def test_load_without_init(cfg):
    with pytest.raises(KeyringError):
        load_keyring(cfg)


@pytest.mark.parametrize("text", ["zz" * 32, "ab" * 31, "ab" * 33, "not hex at all"])
def test_load_rejects_a_bad_recovery_public_key(cfg, text):
    write_keyring(cfg, Keyring.generate())
    cfg.recovery_public_key_path.write_text(text + "\n")
    with pytest.raises(KeyringError):
        load_keyring(cfg)


# --- configuration ----------------------------------------------------------------------------


def test_data_dir_and_database_from_environ(tmp_path):
    cfg = load_config(
        {
            "CANDOR_DATA_DIR": str(tmp_path / "d"),
            "CANDOR_DATABASE_URL": "postgresql+psycopg://u@db/candor",
        }
    )
    assert cfg.data_dir == tmp_path / "d"
    assert cfg.database_url == "postgresql+psycopg://u@db/candor"
    assert cfg.secrets_dir == tmp_path / "d" / "secrets"
    assert cfg.blob_dir == tmp_path / "d" / "blobs"


def test_defaults_to_sqlite_in_the_data_dir(tmp_path, monkeypatch):
    cfg = load_config({"CANDOR_DATA_DIR": str(tmp_path / "d")})
    assert cfg.database_url == f"sqlite:///{tmp_path / 'd' / 'candor.sqlite3'}"
    monkeypatch.chdir(tmp_path)
    cfg = load_config({})
    assert cfg.data_dir == tmp_path / "instance"
    assert cfg.data_dir.is_absolute()
    assert cfg.database_url == f"sqlite:///{tmp_path / 'instance' / 'candor.sqlite3'}"


def test_reads_the_given_environ_not_the_process_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CANDOR_DATA_DIR", str(tmp_path / "from-process"))
    monkeypatch.setenv("CANDOR_MAX_FILES", "3")
    cfg = load_config({"CANDOR_DATA_DIR": str(tmp_path / "given")})
    assert cfg.data_dir == tmp_path / "given"
    assert cfg.max_files == 20
    assert load_config().data_dir == tmp_path / "from-process"


def test_defaults(data_dir):
    cfg = load_config({}, data_dir=data_dir)
    assert cfg.kdf == PRODUCTION
    assert PRODUCTION.time_cost >= 3 and PRODUCTION.memory_kib >= 64 * 1024
    assert cfg.acknowledge_days == 7 and cfg.feedback_months == 3
    assert cfg.company_networks == ()
    assert cfg.insecure_dev_cookies is False


def test_parses_candor_toml(data_dir):
    (data_dir / "candor.toml").write_text(
        "max_files = 5\n"
        "messages_per_case_per_day = 3\n"
        'company_networks = ["10.0.0.0/8", "2001:db8::/32"]\n'
        'smtp_host = "mail.example.org"\n'
        "insecure_dev_cookies = true\n"
        'database_url = "sqlite:////srv/candor.db"\n',
        encoding="utf-8",
    )
    cfg = load_config({"CANDOR_DATA_DIR": str(data_dir)})
    assert cfg.max_files == 5
    assert cfg.messages_per_case_per_day == 3
    assert cfg.company_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    assert cfg.smtp_host == "mail.example.org"
    assert cfg.insecure_dev_cookies is True
    assert cfg.database_url == "sqlite:////srv/candor.db"


def test_environment_overrides_the_file_and_arguments_override_both(data_dir):
    (data_dir / "candor.toml").write_text("max_files = 5\nsmtp_port = 2525\n")
    env = {"CANDOR_DATA_DIR": str(data_dir), "CANDOR_MAX_FILES": "7"}
    cfg = load_config(env)
    assert cfg.max_files == 7 and cfg.smtp_port == 2525
    assert load_config(env, max_files=9).max_files == 9


def test_database_url_from_environment_beats_the_file(data_dir):
    (data_dir / "candor.toml").write_text('database_url = "sqlite:////from/file.db"\n')
    cfg = load_config(
        {
            "CANDOR_DATA_DIR": str(data_dir),
            "CANDOR_DATABASE_URL": "postgresql+psycopg://db/from-env",
        }
    )
    assert cfg.database_url == "postgresql+psycopg://db/from-env"


def test_company_networks_from_the_environment(data_dir):
    cfg = load_config(
        {
            "CANDOR_DATA_DIR": str(data_dir),
            "CANDOR_COMPANY_NETWORKS": "10.1.0.0/16, 192.168.5.7 fd00::/8",
        }
    )
    assert cfg.company_networks == (
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("192.168.5.7/32"),
        ipaddress.ip_network("fd00::/8"),
    )
    cfg = load_config({"CANDOR_DATA_DIR": str(data_dir), "CANDOR_COMPANY_NETWORKS": ""})
    assert cfg.company_networks == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("", False),
    ],
)
def test_insecure_dev_cookies_from_environment(data_dir, value, expected):
    env = {"CANDOR_DATA_DIR": str(data_dir), "CANDOR_INSECURE_DEV_COOKIES": value}
    assert load_config(env).insecure_dev_cookies is expected


@pytest.mark.parametrize(
    "env",
    [
        {"CANDOR_MAX_FILES": "many"},
        {"CANDOR_MAX_FILES": "-1"},
        {"CANDOR_MESSAGES_PER_CASE_PER_DAY": "2.5"},
        {"CANDOR_TRUSTED_PROXIES": "-2"},
        {"CANDOR_COMPANY_NETWORKS": "10.0.0.0/8, intranet"},
        {"CANDOR_COMPANY_NETWORKS": "10.0.0.0/33"},
    ],
)
def test_rejects_bad_environment_values(data_dir, env):
    with pytest.raises(ConfigError):
        load_config({"CANDOR_DATA_DIR": str(data_dir), **env})


@pytest.mark.parametrize(
    "toml",
    [
        'max_files = "lots"\n',
        "max_files = -3\n",
        "unknown_setting = 1\n",
        'company_networks = ["999.0.0.0/8"]\n',
        "this is not toml\n",
        'kdf = "cheap"\n',
        "[kdf]\ntime_cost = 1\nmemory_kib = 8\nparallelism = 1\n",
    ],
)
def test_rejects_bad_file_values(data_dir, toml):
    (data_dir / "candor.toml").write_text(toml)
    with pytest.raises(ConfigError):
        load_config({"CANDOR_DATA_DIR": str(data_dir)})


def test_rejects_a_non_utf8_file(data_dir):
    (data_dir / "candor.toml").write_bytes(b'smtp_host = "\xff\xfe"\n')
    with pytest.raises(ConfigError):
        load_config({"CANDOR_DATA_DIR": str(data_dir)})


@pytest.mark.parametrize(
    "variable",
    ["CANDOR_KDF", "CANDOR_KDF_PROFILE", "CANDOR_KDF_TIME_COST", "CANDOR_KDF_MEMORY_KIB"],
)
def test_environment_cannot_lower_the_kdf(data_dir, variable):
    try:
        cfg = load_config({"CANDOR_DATA_DIR": str(data_dir), variable: "1"})
    except ConfigError:
        return  # refusing outright is fine
    assert cfg.kdf == PRODUCTION


def test_only_code_can_choose_a_cheaper_kdf(data_dir):
    cheap = KdfProfile(time_cost=1, memory_kib=8, parallelism=1)
    assert load_config({}, data_dir=data_dir, kdf=cheap).kdf == cheap
    with pytest.raises(ConfigError):
        load_config({}, data_dir=data_dir, kdf="cheap")


def test_trusted_proxies_without_company_networks_is_refused(tmp_path: Path) -> None:
    # The forwarded address is read only for the company-network warning: a proxy count
    # without it would only be a way for a wrong count to trust a client's own header.
    with pytest.raises(ConfigError, match="trusted_proxies = 1 without company_networks"):
        load_config({"CANDOR_TRUSTED_PROXIES": "1"}, data_dir=tmp_path)
    config = load_config({"CANDOR_TRUSTED_PROXIES": "1",
                          "CANDOR_COMPANY_NETWORKS": "10.0.0.0/8"}, data_dir=tmp_path)
    assert config.trusted_proxies == 1
