"""Receipt codes: the submitter's only credential.

A receipt is 27 random decimal digits (about 89.7 bits from :mod:`secrets`) followed by one
Damm check digit, shown in groups of four. Digits suit a phone keypad and both Chinese and
English readers; the check digit lets the portal say "mistyped" without a database query.

Receipts are never stored: one Argon2id stretch yields both the database lookup id (keyed
with the server-side pepper, so a stolen database cannot be brute-forced offline) and the
key that opens the submitter's grant.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from crypto._util import require_bytes
from crypto.damm import damm_check_digit, damm_valid
from crypto.errors import MalformedReceipt, MistypedReceipt
from crypto.kdf import KdfProfile, derive_key

__all__ = [
    "RECEIPT_DIGITS",
    "ReceiptSecrets",
    "derive_receipt_secrets",
    "format_receipt",
    "generate_receipt",
    "normalise_receipt",
]

RECEIPT_DIGITS = 28
_RANDOM_DIGITS = RECEIPT_DIGITS - 1
_GROUP = 4

# Separators people type or paste that are not Unicode whitespace or dash punctuation: soft
# hyphen, minus sign, zero-width characters, BOM; and the group separators of a Chinese
# input method or of someone copying by hand: comma, full stop, slash, and the ideographic
# comma and full stop (NFKC has already folded the full-width forms to ASCII).
_EXTRA_SEPARATORS = frozenset("\u00ad\u2212\u200b\u200c\u200d\u2060\ufeff,./\u3001\u3002")

_PERSON_LOOKUP = b"candor-lookup"
_PERSON_GRANT = b"candor-grant"


def generate_receipt() -> str:
    """Return a new receipt in canonical form: 28 ASCII digits, the last a Damm check digit."""
    payload = str(secrets.randbelow(10**_RANDOM_DIGITS)).zfill(_RANDOM_DIGITS)
    return payload + damm_check_digit(payload)


def format_receipt(code: str) -> str:
    """Return *code* for display: groups of four digits separated by single spaces."""
    return " ".join(code[i : i + _GROUP] for i in range(0, len(code), _GROUP))


def _is_separator(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Pd" or ch in _EXTRA_SEPARATORS


def normalise_receipt(text: str) -> str:
    """Return the canonical 28-digit form of a receipt as typed or pasted by a person.

    NFKC folds full-width digits; whitespace, dash-like characters and the group separators
    in ``_EXTRA_SEPARATORS`` are dropped (the check digit still catches any typo). Raises
    :class:`MalformedReceipt` if anything else remains or the length is wrong, and
    :class:`MistypedReceipt` if only the check digit fails.
    """
    if not isinstance(text, str):
        raise MalformedReceipt("receipt must be text")
    # Cap the work done on hostile input before normalising it.
    if len(text) > 16 * RECEIPT_DIGITS:
        raise MalformedReceipt("receipt is too long")
    kept = [ch for ch in unicodedata.normalize("NFKC", text) if not _is_separator(ch)]
    # Check against ASCII explicitly: str.isdigit() accepts superscripts and other scripts.
    if not all("0" <= ch <= "9" for ch in kept):
        raise MalformedReceipt("receipt may contain only digits")
    if len(kept) != RECEIPT_DIGITS:
        raise MalformedReceipt(f"receipt must have {RECEIPT_DIGITS} digits")
    code = "".join(kept)
    if not damm_valid(code):
        raise MistypedReceipt("receipt check digit does not match")
    return code


@dataclass(frozen=True, repr=False)
class ReceiptSecrets:
    """What a receipt unlocks: the indexed lookup id and the key to the submitter's grant."""

    lookup_id: bytes
    receipt_key: bytes

    def __repr__(self) -> str:
        # Keep secrets out of logs and tracebacks.
        return "ReceiptSecrets(<redacted>)"


def derive_receipt_secrets(
    receipt: str, *, instance_salt: bytes, pepper: bytes, profile: KdfProfile
) -> ReceiptSecrets:
    """Derive the lookup id and receipt key from a receipt with a single Argon2id call.

    The receipt is normalised first (so it may raise :class:`~crypto.errors.ReceiptError`).
    ``lookup_id`` is keyed with *pepper*, which lives outside the database; ``receipt_key``
    is not, because it only ever opens ciphertext that is itself in the database.
    """
    require_bytes("instance_salt", instance_salt)
    require_bytes("pepper", pepper)
    if not 16 <= len(pepper) <= 64:  # BLAKE2b keys are at most 64 bytes
        raise ValueError("pepper must be 16 to 64 bytes")
    code = normalise_receipt(receipt)
    stretched = derive_key(code.encode("ascii"), instance_salt, profile)
    lookup_id = hashlib.blake2b(
        stretched, digest_size=32, key=pepper, person=_PERSON_LOOKUP
    ).digest()
    receipt_key = hashlib.blake2b(stretched, digest_size=32, person=_PERSON_GRANT).digest()
    return ReceiptSecrets(lookup_id=lookup_id, receipt_key=receipt_key)
