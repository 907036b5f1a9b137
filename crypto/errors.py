"""Exception hierarchy for :mod:`crypto`.

Everything this package raises because of *data* (a wrong key, a tampered ciphertext, a
mistyped receipt, a malformed key text) derives from :class:`CryptoError`, so callers can
catch one root. Programming errors (a key of the wrong length, a non-bytes argument) raise
the ordinary ``ValueError``/``TypeError`` instead: they are bugs, not attacks.

Messages never contain secret material or user input (receipt codes must never be logged).
"""

from __future__ import annotations

__all__ = [
    "ChainError",
    "CryptoError",
    "DecryptionError",
    "KeyFormatError",
    "MalformedReceipt",
    "MistypedReceipt",
    "ReceiptError",
    "SignatureError",
    "StreamError",
]


class CryptoError(Exception):
    """Root of every error raised by the crypto package."""


class DecryptionError(CryptoError):
    """Wrong key, wrong context, tampered ciphertext or wrong passphrase."""


class StreamError(DecryptionError):
    """An encrypted stream is truncated, reordered, has trailing data or a bad header."""


class SignatureError(CryptoError):
    """A signature does not verify (or the key or signature is malformed)."""


class ReceiptError(CryptoError):
    """A receipt code was not accepted."""


class MalformedReceipt(ReceiptError):
    """The receipt has the wrong length or contains characters that are not digits."""


class MistypedReceipt(ReceiptError):
    """The receipt has the right shape but its check digit is wrong (most likely a typo)."""


class KeyFormatError(CryptoError):
    """Malformed exported key text or wrapped key blob."""


class ChainError(CryptoError):
    """A recomputed audit hash chain does not match the expected head."""
