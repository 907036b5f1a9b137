"""Length-hiding padding buckets for small records (internal; used by :mod:`crypto.records`)."""

from __future__ import annotations

import nacl.exceptions
from nacl.bindings import sodium_pad, sodium_unpad

__all__ = ["MIN_BUCKET", "pad", "padded_length", "unpad"]

MIN_BUCKET = 256


def padded_length(n: int) -> int:
    """Return the padded size of an *n*-byte plaintext (always ``> n``).

    Scheme: at least one marker byte is needed (ISO/IEC 7816-4 via ``sodium_pad``), so let
    ``m = n + 1``. If ``m <= 256`` the result is 256: every short record (a message, a name,
    a file name) looks the same. Otherwise ``m`` is rounded up to a multiple of
    ``2 ** (m.bit_length() - 4)``, i.e. keeping only the top 4 significant bits, like Padmé
    with a fixed precision. The overhead is at most 1/8 (12.5 %) of the size plus one byte,
    and there are only 8 buckets per power of two, so a padded length reveals the order of
    magnitude and about 3 more bits.
    The function is monotone, so a longer plaintext never gets a shorter bucket.
    """
    if n < 0:
        raise ValueError("length must be non-negative")
    m = n + 1
    if m <= MIN_BUCKET:
        return MIN_BUCKET
    block = 1 << (m.bit_length() - 4)
    return -(-m // block) * block


def pad(data: bytes) -> bytes:
    """Pad *data* to :func:`padded_length` with ISO/IEC 7816-4 padding."""
    # With blocksize == target > len(data), sodium_pad pads to exactly the target.
    return bytes(sodium_pad(data, padded_length(len(data))))


def unpad(padded: bytes) -> bytes | None:
    """Strip padding added by :func:`pad`; return None if it is not canonical."""
    if len(padded) < MIN_BUCKET:
        return None
    try:
        data = bytes(sodium_unpad(padded, len(padded)))
    except nacl.exceptions.CryptoError:
        return None
    # Insist on the exact bucket so there is only one valid encoding per plaintext.
    if padded_length(len(data)) != len(padded):
        return None
    return data
