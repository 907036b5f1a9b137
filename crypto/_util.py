"""Small argument checks shared by the crypto modules (internal)."""

from __future__ import annotations


def require_bytes(name: str, value: object, length: int | None = None) -> bytes:
    """Return *value* if it is ``bytes`` (of *length*, when given); raise otherwise.

    Wrong types or lengths are programming errors, so they raise ``TypeError``/``ValueError``
    rather than a :class:`~crypto.errors.CryptoError`.
    """
    if not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must be exactly {length} bytes, got {len(value)}")
    return value
