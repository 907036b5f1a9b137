"""Instance secrets: files under `<data_dir>/secrets`, mode 0600, never in the database.

| file               | what                                                        |
|--------------------|-------------------------------------------------------------|
| pepper             | 32 bytes keying receipt lookup ids (BLAKE2b key)            |
| receipt_salt       | 16-byte Argon2id salt for receipt codes                      |
| audit_signing_key  | Ed25519 seed signing audit checkpoints                      |
| totp_key           | 32 bytes encrypting reviewers' TOTP secrets; the account key |
|                    | that tags public keys is derived from it (`account_key`)     |
| cookie_key         | Flask secret key (signs cookies and CSRF tokens)            |

The public half of the optional organisation recovery key is `<data_dir>/recovery.pub`; it is
not secret, and its private half never touches the server.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from core.config import Config
from crypto.kdf import SALT_BYTES
from crypto.key_tags import derive_subkey
from crypto.keys import KEY_BYTES, new_key
from crypto.signing import generate_signing_key, signing_key_from_seed

_SECRET_SIZES = {
    "pepper": KEY_BYTES,
    "receipt_salt": SALT_BYTES,
    "audit_signing_key": 32,
    "totp_key": KEY_BYTES,
    "cookie_key": KEY_BYTES,
}


class KeyringError(Exception):
    """A secrets file is missing, malformed, exposed, or would be overwritten."""


@dataclass(frozen=True)
class Keyring:
    """The instance secrets, loaded once per process."""

    pepper: bytes
    receipt_salt: bytes
    audit_signing_seed: bytes
    totp_key: bytes
    cookie_key: bytes
    recovery_public_key: bytes | None = None

    @property
    def audit_verify_key(self) -> bytes:
        """Public key auditors use to verify checkpoints."""
        return signing_key_from_seed(self.audit_signing_seed).verify_key

    @property
    def account_key(self) -> bytes:
        """Key of the tags that authenticate public keys and reporter exclusions
        (crypto.key_tags): derived from the totp_key file, which a database writer cannot read."""
        return derive_subkey(self.totp_key, b"candor-accounts")

    @classmethod
    def generate(cls, recovery_public_key: bytes | None = None) -> Keyring:
        """Fresh random secrets (used by `candor init` and by tests)."""
        return cls(
            pepper=new_key(),
            receipt_salt=os.urandom(SALT_BYTES),
            audit_signing_seed=generate_signing_key().seed,
            totp_key=new_key(),
            cookie_key=new_key(),
            recovery_public_key=recovery_public_key,
        )


def _write_secret(path: Path, data: bytes) -> None:
    # O_EXCL: never overwrite an existing secret, even in a race.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_keyring(config: Config, keyring: Keyring) -> None:
    """Store `keyring` as files under the data directory; refuse to overwrite any."""
    secrets_dir = config.secrets_dir
    existing = [n for n in _SECRET_SIZES if (secrets_dir / n).exists()]
    if existing or config.recovery_public_key_path.exists():
        raise KeyringError(
            f"secrets already exist in {secrets_dir} ({', '.join(existing) or 'recovery.pub'}); "
            "refusing to overwrite them"
        )
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(secrets_dir, 0o700)
    values = {
        "pepper": keyring.pepper,
        "receipt_salt": keyring.receipt_salt,
        "audit_signing_key": keyring.audit_signing_seed,
        "totp_key": keyring.totp_key,
        "cookie_key": keyring.cookie_key,
    }
    for name, data in values.items():
        _write_secret(secrets_dir / name, data)
    if keyring.recovery_public_key is not None:
        config.recovery_public_key_path.write_text(keyring.recovery_public_key.hex() + "\n")


def _read_secret(path: Path, size: int) -> bytes:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise KeyringError(f"missing secrets file {path}; run `candor init` first") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(f"{path} is readable by others; run `chmod 600 {path}`")
    data = path.read_bytes()
    if len(data) != size:
        raise KeyringError(f"{path} has {len(data)} bytes, expected {size}")
    return data


def load_keyring(config: Config) -> Keyring:
    """Read the secrets files, checking their size and that only the owner can read them."""
    values = {name: _read_secret(config.secrets_dir / name, size)
              for name, size in _SECRET_SIZES.items()}
    recovery: bytes | None = None
    if config.recovery_public_key_path.exists():
        text = config.recovery_public_key_path.read_text().strip()
        try:
            recovery = bytes.fromhex(text)
        except ValueError as exc:
            raise KeyringError(f"{config.recovery_public_key_path} is not hex") from exc
        if len(recovery) != KEY_BYTES:
            raise KeyringError(f"{config.recovery_public_key_path} is not a 32-byte public key")
    return Keyring(
        pepper=values["pepper"],
        receipt_salt=values["receipt_salt"],
        audit_signing_seed=values["audit_signing_key"],
        totp_key=values["totp_key"],
        cookie_key=values["cookie_key"],
        recovery_public_key=recovery,
    )
