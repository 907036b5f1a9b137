"""The collaborators every use case needs, bundled and passed explicitly (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

from redis import Redis

from core.blobs import BlobStore, FileSystemBlobStore
from core.clock import Clock
from core.config import Config
from core.intake.session_store import (
    DatabaseSubmitterSessions,
    RedisSubmitterSessions,
    SubmitterSessionStore,
)
from core.kdf_slots import KdfSlots, default_slots
from core.keyring import Keyring, load_keyring
from core.operations.throttle import DatabaseThrottle, RedisThrottle, Throttle


@dataclass
class Services:
    """Configuration, secrets, blob store and clock for one process; the budgets and the
    reporters' sessions it shares with the others (Redis when `redis_url` is set, else the
    database), built from the configuration on first use."""

    config: Config
    keyring: Keyring
    blobs: BlobStore
    clock: Clock = field(default_factory=Clock)
    #: The fair queue for Argon2id derivations of this process (core.kdf_slots).
    kdf_slots: KdfSlots = field(default_factory=lambda: KdfSlots(default_slots(), 20.0))

    @cached_property
    def redis(self) -> Redis | None:
        """The client of `redis_url` (connects on first command), or None without one."""
        if not self.config.redis_url:
            return None
        # Timeouts: a Redis that stops answering fails the request instead of hanging it.
        return Redis.from_url(self.config.redis_url, socket_timeout=5,
                              socket_connect_timeout=5)

    @cached_property
    def throttle(self) -> Throttle:
        """Fixed-window budgets (core.operations.throttle)."""
        if self.redis is not None:
            return RedisThrottle(self.redis, self.keyring.cookie_key)
        return DatabaseThrottle(self.keyring.cookie_key)

    @cached_property
    def submitter_sessions(self) -> SubmitterSessionStore:
        """Reporters' follow-up sessions (core.intake.reporter_sessions)."""
        if self.redis is not None:
            return RedisSubmitterSessions(self.redis)
        return DatabaseSubmitterSessions()


def build_services(config: Config, keyring: Keyring | None = None) -> Services:
    """Services for a configured data directory (loads the secrets files unless given)."""
    return Services(
        config=config,
        keyring=keyring if keyring is not None else load_keyring(config),
        blobs=build_blob_store(config),
        clock=Clock(precision=config.submitter_date_precision,
                    zone=ZoneInfo(config.timezone)),
        kdf_slots=KdfSlots(config.kdf_slots or default_slots(), float(config.kdf_wait_seconds),
                           config.kdf_max_waiting),
    )


def build_blob_store(config: Config) -> BlobStore:
    """The blob store `config.blob_store` names: the filesystem under the data directory, or
    an S3-compatible object store (boto3 is imported only then)."""
    if config.blob_store == "s3":
        from core.blobs_s3 import s3_blob_store

        return s3_blob_store(config)
    return FileSystemBlobStore(config.blob_dir)
