"""The collaborators every use case needs, bundled and passed explicitly (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from core.blobs import BlobStore, FileSystemBlobStore
from core.clock import Clock
from core.config import Config
from core.keyring import Keyring, load_keyring


@dataclass
class Services:
    """Configuration, secrets, blob store and clock for one process."""

    config: Config
    keyring: Keyring
    blobs: BlobStore
    clock: Clock = field(default_factory=Clock)


def build_services(config: Config, keyring: Keyring | None = None) -> Services:
    """Services for a configured data directory (loads the secrets files unless given)."""
    return Services(
        config=config,
        keyring=keyring if keyring is not None else load_keyring(config),
        blobs=FileSystemBlobStore(config.blob_dir),
        clock=Clock(precision=config.submitter_date_precision,
                    zone=ZoneInfo(config.timezone)),
    )
