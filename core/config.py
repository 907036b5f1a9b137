"""Typed configuration, loaded from environment variables and the data directory.

Precedence: explicit keyword arguments (tests) > environment variables > `candor.toml` in the
data directory > defaults. Secrets are not configuration: they live in files (see `keyring`).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.clock import DatePrecision
from core.database_url import DatabaseUrlError, checked_database_url
from crypto.kdf import PRODUCTION, KdfProfile

CONFIG_FILE_NAME = "candor.toml"
BLOB_STORES = ("filesystem", "s3")
DEFAULT_DATA_DIR = "instance"


class ConfigError(Exception):
    """The configuration is missing or invalid; the message says what to fix."""


@dataclass(frozen=True)
class Config:
    """Everything the apps and the CLI need to know that is not a secret."""

    data_dir: Path
    database_url: str
    #: Argon2id cost for receipt codes and reviewer passphrases. Only tests pass a cheaper one;
    #: nothing read from the environment or the config file can lower it.
    kdf: KdfProfile = PRODUCTION
    #: Days to acknowledge a new report (docs/PROCESS.md section 2).
    acknowledge_days: int = 7
    #: Months from acknowledgement to feedback (docs/PROCESS.md section 5).
    feedback_months: int = 3
    #: The organisation's IANA time zone ("Asia/Shanghai"): the day that dates, deadlines and
    #: reminders count in. UTC by default.
    timezone: str = "UTC"
    #: Largest submission (all attachments together) the portal accepts, in bytes.
    max_submission_bytes: int = 512 * 1024 * 1024
    #: Most attachments in one submission or message.
    max_files: int = 20
    #: CIDR ranges of the organisation's own network; the portal warns visitors from inside.
    company_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    #: How many reverse proxies sit in front of the portal (0: use the socket address).
    trusted_proxies: int = 0
    #: Submissions per minute for the whole instance (no per-IP limits): a ceiling on case
    #: spam, charged only for posts that passed the form's checks (CSRF, honeypot, fields).
    submissions_per_minute: int = 20
    #: Argon2id derivations at once per app process (0: one per CPU core). Receipt logins and
    #: submissions queue for these in arrival order (core.kdf_slots) instead of a budget.
    kdf_slots: int = 0
    #: Longest wait in that queue before the "busy, try again" page, in seconds.
    kdf_wait_seconds: int = 20
    #: Most requests waiting in that queue per process; more are told "busy" at once. Each
    #: waiter holds a request thread: keep it below `candor serve --threads` (32), so that
    #: requests needing no Argon2id (a reporter's follow-up pages) always find a thread.
    kdf_max_waiting: int = 28
    #: Database connections one app process may hold at once (core.db.pool_settings): at
    #: least `candor serve --threads` (32). Servers x workers x this must stay within the
    #: database's max_connections (or put PgBouncer in front: deploy/README.md).
    database_pool_size: int = 50
    #: Messages a submitter may post to one case per day (per week at week precision: 7 times
    #: this, counted over the stored week).
    messages_per_case_per_day: int = 50
    #: How coarsely the dates of a reporter's actions are stored: "day" or "week".
    submitter_date_precision: DatePrecision = DatePrecision.DAY
    #: Idle expiry of a submitter's follow-up session.
    submitter_session_idle_minutes: int = 30
    #: Reviewer session limits.
    reviewer_session_idle_minutes: int = 15
    reviewer_session_absolute_hours: int = 8
    #: Plain-http cookies for local development only.
    insecure_dev_cookies: bool = False
    #: SMTP for reviewer notifications (no case content is ever sent).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "candor@localhost"
    #: Address of the console, put in notification emails (optional).
    console_url: str | None = None
    #: The name of this instance's access log in its signed checkpoints (C2SP "origin" and
    #: key name: no spaces or "+"), e.g. "whistle.example.com/audit". Set it before the first
    #: checkpoint: changing it later makes older checkpoints name another log.
    audit_origin: str = "candor/audit"
    #: Redis (e.g. "redis://127.0.0.1:6379/0") for the budgets and the reporters' follow-up
    #: sessions, shared by every app server; None keeps them in the database.
    redis_url: str | None = None
    #: Where encrypted attachments are kept: "filesystem" (`<data dir>/blobs`) or "s3" (an
    #: S3-compatible object store, core/blobs_s3.py). Credentials are not configuration: the
    #: file `<data dir>/secrets/s3-credentials` if present, else boto3's standard chain.
    blob_store: str = "filesystem"
    s3_bucket: str | None = None
    #: Prepended to every object key (`<prefix><id[:2]>/<id>`), e.g. "candor/".
    s3_prefix: str = ""
    #: For MinIO, Ceph and other S3-compatible stores (bucket in the path); None: AWS.
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    #: Days after a case is finished (closed, referred or not admissible: `cases.closed_on`)
    #: before `candor retention run` destroys its content (core.cases.retention), unless it
    #: is on legal hold. 0: never destroy (retention off).
    retention_days: int = 730
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.submitter_date_precision is DatePrecision.WEEK
                and self.acknowledge_days < DatePrecision.WEEK.days):
            # Deadlines run from the Monday: a shorter one would be past when Sunday's
            # reports arrive.
            raise ConfigError(
                f"acknowledge_days = {self.acknowledge_days} is too short for "
                "submitter_date_precision = \"week\": deadlines run from the Monday, so "
                "reports sent later in the week would be overdue on arrival (use 7 or more)")
        if self.database_pool_size < 1:
            raise ConfigError("database_pool_size must be at least 1 (and at least the "
                              "threads of a worker, `candor serve --threads`)")
        if self.trusted_proxies and not self.company_networks:
            # The forwarded address serves only the company-network warning: without it, a
            # proxy count is risk with no use (a wrong one lets a client name any address).
            raise ConfigError(
                f"trusted_proxies = {self.trusted_proxies} without company_networks: the "
                "portal reads the forwarded address only to warn visitors from the company "
                "network; set trusted_proxies = 0, or set company_networks too")
        if self.blob_store not in BLOB_STORES:
            raise ConfigError(f"blob_store: expected \"filesystem\" or \"s3\", "
                              f"got {self.blob_store!r}")
        if self.blob_store == "s3" and not self.s3_bucket:
            raise ConfigError("blob_store = \"s3\" needs s3_bucket (the bucket's name)")

    @property
    def secrets_dir(self) -> Path:
        """Folder holding the instance's secret files (mode 0700, files 0600)."""
        return self.data_dir / "secrets"

    @property
    def blob_dir(self) -> Path:
        """Folder of the filesystem blob store (encrypted attachments only)."""
        return self.data_dir / "blobs"

    @property
    def recovery_public_key_path(self) -> Path:
        """Public half of the organisation recovery key (not secret)."""
        return self.data_dir / "recovery.pub"


def default_database_url(data_dir: Path) -> str:
    """SQLite in the data directory: the embedded default."""
    return f"sqlite:///{(data_dir / 'candor.sqlite3').resolve()}"


def _parse_networks(values: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if isinstance(values, str):
        values = [v for v in values.replace(",", " ").split() if v]
    networks = []
    for value in values or ():
        try:
            networks.append(ipaddress.ip_network(str(value), strict=False))
        except ValueError as exc:
            raise ConfigError(f"company_networks: {value!r} is not a CIDR range") from exc
    return tuple(networks)


def _parse_precision(value: Any) -> DatePrecision:
    try:
        return DatePrecision(str(value).strip().lower())
    except ValueError as exc:
        choices = " or ".join(repr(p.value) for p in DatePrecision)
        raise ConfigError(f"submitter_date_precision: expected {choices}, got {value!r} "
                          "(nothing coarser than a week: deadlines run from the stored date)"
                          ) from exc


def _checked_timezone(value: Any) -> str:
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"timezone: {value!r} is not an IANA time zone such as "
                          "\"Asia/Shanghai\" or \"UTC\"") from exc
    return name


def _checked_endpoint(value: Any) -> str | None:
    url = str(value).strip()
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"s3_endpoint_url: {value!r} must start with http:// or https://, "
                          "such as \"https://minio.internal:9000\"")
    return url or None


def _checked_redis_url(value: Any) -> str | None:
    url = "" if value is None else str(value).strip()
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        # Not repeated in the message: the URL may hold a password.
        raise ConfigError("redis_url must start with redis://, rediss:// or unix://, such as "
                          "\"redis://127.0.0.1:6379/0\"")
    return url or None


def _checked_origin(value: Any) -> str:
    origin = str(value).strip()
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise ConfigError(f"audit_origin: {value!r} must be one word without spaces or '+', "
                          "such as \"whistle.example.com/audit\"")
    return origin


#: The whole-number settings and the largest value each may take. Above these a setting is
#: a typo, and an unbounded one would overflow dates and durations later (a deadline or a
#: destruction day past the year 9999: a server error on a case page, not at startup).
_INT_SETTINGS: dict[str, int] = {
    "acknowledge_days": 366,
    "feedback_months": 120,
    "max_submission_bytes": 1 << 40,
    "max_files": 10_000,
    "trusted_proxies": 10,
    "submissions_per_minute": 1_000_000,
    "kdf_slots": 1024,
    "kdf_wait_seconds": 3600,
    "kdf_max_waiting": 100_000,
    "database_pool_size": 10_000,
    "messages_per_case_per_day": 100_000,
    "submitter_session_idle_minutes": 7 * 24 * 60,
    "reviewer_session_idle_minutes": 7 * 24 * 60,
    "reviewer_session_absolute_hours": 31 * 24,
    "smtp_port": 65_535,
    "retention_days": 100 * 366,
}
_STR_SETTINGS = ("smtp_host", "smtp_sender", "console_url", "timezone", "audit_origin",
                 "blob_store", "s3_bucket", "s3_prefix", "s3_endpoint_url", "s3_region")
#: Settings that were dropped, with what replaces them (said instead of "unknown setting").
_REMOVED_SETTINGS = {
    "receipt_logins_per_minute": (
        "receipt logins now queue for the Argon2id slots (kdf_slots, kdf_wait_seconds) "
        "instead of sharing a per-minute budget that guessers could spend; remove it"),
}
_OTHER_SETTINGS = ("company_networks", "insecure_dev_cookies", "submitter_date_precision",
                   "redis_url")
ENV_PREFIX = "CANDOR_"
#: `CANDOR_*` variables that are not `CANDOR_<SETTING>` yet are read, so never refused as
#: typos: the data directory and database URL (read here), and the test suite's own (its
#: PostgreSQL and Redis servers, tests/databases.py and tests/redis_support.py; the load
#: tests' duration and positive control, tests/load/). The test suite's have to be here: the
#: `candor` commands the tests run inherit the environment they were started with.
NON_SETTING_VARIABLES = frozenset({
    "CANDOR_DATA_DIR", "CANDOR_DATABASE_URL",
    "CANDOR_TEST_POSTGRES_URL", "CANDOR_TEST_REDIS_URL",
    "CANDOR_LOAD_SECONDS", "CANDOR_QUEUE_BOUND_CONTROL",
})


def _check_environment(env: Mapping[str, str]) -> None:
    """Refuse a `CANDOR_*` variable that names no setting, as candor.toml refuses an unknown
    key: a typo (CANDOR_SMTP_HOTS) silently ignored leaves the default in force unnoticed."""
    settings = (*_INT_SETTINGS, *_STR_SETTINGS, *_OTHER_SETTINGS)
    known = sorted({ENV_PREFIX + name.upper() for name in settings} | NON_SETTING_VARIABLES)
    unknown = sorted(name for name in env if name.startswith(ENV_PREFIX) and name not in known)
    if not unknown:
        return
    for name in unknown:
        removed = name.removeprefix(ENV_PREFIX).lower()
        if removed in _REMOVED_SETTINGS:
            raise ConfigError(f"{name}: {removed} is no longer a setting: "
                              f"{_REMOVED_SETTINGS[removed]}")
    described = []
    # Matched without the prefix: shared by all, it would make every name look close.
    suffixes = [name.removeprefix(ENV_PREFIX) for name in known]
    for name in unknown:
        close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), suffixes, n=3)
        *others, last = [ENV_PREFIX + match for match in close] or [""]
        choices = f"{', '.join(others)} or {last}" if others else last
        described.append(f"{name} (did you mean {choices}?)" if choices else name)
    variables = "variable" if len(unknown) == 1 else "variables"
    raise ConfigError(f"unknown environment {variables} {', '.join(described)}: a CANDOR_ "
                      "variable sets the candor.toml setting of the same name (README, "
                      "Configuration); correct or unset it")


def load_config(environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
    """Build the configuration from `environ` (default: the process environment).

    Reads `CANDOR_DATA_DIR` (default `./instance`), `CANDOR_DATABASE_URL` (default SQLite in the
    data directory), the optional `candor.toml` in the data directory, and `CANDOR_<SETTING>`
    variables for any setting named in that file. Any other `CANDOR_*` variable is refused
    (ConfigError naming it and the close matches), except NON_SETTING_VARIABLES.
    """
    env = os.environ if environ is None else environ
    _check_environment(env)
    data_dir = Path(
        overrides.pop("data_dir", None) or env.get("CANDOR_DATA_DIR") or DEFAULT_DATA_DIR
    )
    data_dir = data_dir.expanduser().absolute()
    values: dict[str, Any] = {}
    config_file = data_dir / CONFIG_FILE_NAME
    if config_file.is_file():
        try:
            values.update(tomllib.loads(config_file.read_text("utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file}: not valid TOML ({exc})") from exc
    for name in (*_INT_SETTINGS, *_STR_SETTINGS, *_OTHER_SETTINGS):
        env_value = env.get(f"CANDOR_{name.upper()}")
        if env_value is not None:
            values[name] = env_value
    if env.get("CANDOR_DATABASE_URL"):
        values["database_url"] = env["CANDOR_DATABASE_URL"]
    values.update(overrides)
    unknown = set(values) - {*_INT_SETTINGS, *_STR_SETTINGS, *_OTHER_SETTINGS, "database_url",
                             "kdf", "extra"}
    if unknown & _REMOVED_SETTINGS.keys():
        name = sorted(unknown & _REMOVED_SETTINGS.keys())[0]
        raise ConfigError(f"{name} is no longer a setting: {_REMOVED_SETTINGS[name]}")
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    if "kdf" in values and not isinstance(values["kdf"], KdfProfile):
        raise ConfigError("kdf cannot be set from the environment or the config file")
    for name in _INT_SETTINGS:
        if name in values:
            try:
                values[name] = int(values[name])
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{name}: expected a whole number, got {values[name]!r}") from exc
            if values[name] < 0:
                raise ConfigError(f"{name}: must not be negative")
            if values[name] > _INT_SETTINGS[name]:
                raise ConfigError(f"{name}: at most {_INT_SETTINGS[name]}, got {values[name]}")
    if "company_networks" in values:
        values["company_networks"] = _parse_networks(values["company_networks"])
    if "insecure_dev_cookies" in values:
        raw = values["insecure_dev_cookies"]
        values["insecure_dev_cookies"] = raw if isinstance(raw, bool) else str(raw).lower() in (
            "1", "true", "yes", "on")
    if "submitter_date_precision" in values:
        values["submitter_date_precision"] = _parse_precision(values["submitter_date_precision"])
    if "timezone" in values:
        values["timezone"] = _checked_timezone(values["timezone"])
    if "audit_origin" in values:
        values["audit_origin"] = _checked_origin(values["audit_origin"])
    if "redis_url" in values:
        values["redis_url"] = _checked_redis_url(values["redis_url"])
    if "blob_store" in values:
        values["blob_store"] = str(values["blob_store"]).strip().lower()
    for name in ("s3_bucket", "s3_region"):
        if name in values:
            values[name] = str(values[name]).strip() or None
    if "s3_prefix" in values:
        values["s3_prefix"] = str(values["s3_prefix"]).strip()
    if "s3_endpoint_url" in values:
        values["s3_endpoint_url"] = _checked_endpoint(values["s3_endpoint_url"])
    database_url = values.pop("database_url", None) or default_database_url(data_dir)
    try:
        database_url = checked_database_url(str(database_url))
    except DatabaseUrlError as exc:
        raise ConfigError(str(exc)) from exc
    return Config(data_dir=data_dir, database_url=database_url, **values)
