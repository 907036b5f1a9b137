"""Cookie tokens for server-side sessions whose state is sealed under a cookie-only secret.

A token is `<session id>.<secret>` (both URL-safe base64). The database keys the row by
SHA-256(session id) and stores the state encrypted under the secret, so neither the database
alone nor the cookie alone opens anything (docs/CRYPTO.md, "Reviewer sessions").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass, field

from crypto.keys import KEY_BYTES


@dataclass(frozen=True)
class SessionToken:
    """The two halves of a session cookie."""

    session_id: bytes = field(repr=False)
    secret: bytes = field(repr=False)

    @property
    def id_hash(self) -> bytes:
        """What the database stores to find the session."""
        return hashlib.sha256(self.session_id).digest()

    def encode(self) -> str:
        """The cookie value."""
        return f"{_b64(self.session_id)}.{_b64(self.secret)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_session_token() -> SessionToken:
    """A fresh random session id and secret."""
    return SessionToken(session_id=secrets.token_bytes(32), secret=secrets.token_bytes(KEY_BYTES))


def parse_session_token(value: str | None) -> SessionToken | None:
    """The token in a cookie value, or None if it is missing or malformed."""
    if not value or value.count(".") != 1 or len(value) > 200:
        return None
    id_text, secret_text = value.split(".")
    try:
        session_id, secret = _unb64(id_text), _unb64(secret_text)
    except (binascii.Error, ValueError):
        return None
    if len(session_id) != 32 or len(secret) != KEY_BYTES:
        return None
    return SessionToken(session_id=session_id, secret=secret)
