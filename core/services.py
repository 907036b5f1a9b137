"""The collaborators every use case needs, bundled and passed explicitly (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from core.blobs import BlobStore, FileSystemBlobStore
from core.clock import Clock
from core.config import Config
from core.kdf_slots import KdfSlots, default_slots
from core.keyring import Keyring, load_keyring


@dataclass
class Services:
    """Configuration, secrets, blob store and clock for one process."""

    config: Config
    keyring: Keyring
    blobs: BlobStore
    clock: Clock = field(default_factory=Clock)
    #: The fair queue for Argon2id derivations of this process (core.kdf_slots).
    kdf_slots: KdfSlots = field(default_factory=lambda: KdfSlots(default_slots(), 20.0))


def build_services(config: Config, keyring: Keyring | None = None) -> Services:
    """Services for a configured data directory (loads the secrets files unless given)."""
    return Services(
        config=config,
        keyring=keyring if keyring is not None else load_keyring(config),
        blobs=build_blob_store(config),
        clock=Clock(precision=config.submitter_date_precision,
                    zone=ZoneInfo(config.timezone)),
        kdf_slots=KdfSlots(config.kdf_slots or default_slots(), float(config.kdf_wait_seconds)),
    )


def build_blob_store(config: Config) -> BlobStore:
    """The blob store `config.blob_store` names: the filesystem under the data directory, or
    an S3-compatible object store (boto3 is imported only then)."""
    if config.blob_store == "s3":
        from core.blobs_s3 import s3_blob_store

        return s3_blob_store(config)
    return FileSystemBlobStore(config.blob_dir)
