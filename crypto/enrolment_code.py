"""Enrolment codes: twelve digits that bind an account's new key pair to the person who made it.

When an account made, or reset, in the console completes enrolment, its owner's screen shows a
code derived from the public key they have just made. The second admin who approves the
account types the code the owner reads out to them, outside the console: a key pair enrolled by
someone else (the admin who saw the one-time passphrase, say) gives a code the owner never saw.

Digits only, with a Damm check digit, because they are read aloud, in Chinese as in English,
and typed by someone else: a wrong digit or two swapped digits are caught as a typing error.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from crypto._util import require_bytes
from crypto.damm import damm_check_digit, damm_valid

__all__ = ["CODE_DIGITS", "enrolment_code", "normalise_code", "codes_match"]

#: Digits in a code, the check digit included (11 digits of the key: about 36 bits).
CODE_DIGITS = 12

_PERSON = b"candor-enrol-v1"  # BLAKE2b personalisation: this digest serves nothing else


def enrolment_code(account_id: int, public_key: bytes) -> str:
    """The code for `public_key` enrolled by account `account_id`, in groups of four digits
    ("1234 5678 9012"). The account id is hashed in so that a key copied to another account
    gives another code."""
    require_bytes("public_key", public_key, 32)
    if account_id < 0:
        raise ValueError("an account id is not negative")
    digest = hashlib.blake2b(account_id.to_bytes(8, "big") + public_key, digest_size=16,
                             person=_PERSON).digest()
    payload = str(int.from_bytes(digest, "big") % 10 ** (CODE_DIGITS - 1)).zfill(CODE_DIGITS - 1)
    digits = payload + damm_check_digit(payload)
    return " ".join(digits[i:i + 4] for i in range(0, CODE_DIGITS, 4))


def normalise_code(typed: str) -> str | None:
    """The twelve ASCII digits of a typed code, or None when it is not one: spaces and
    hyphens are ignored and full-width digits (from a Chinese input method) read as digits;
    a code whose check digit fails is None (a typing error)."""
    text = unicodedata.normalize("NFKC", typed)
    digits = "".join(ch for ch in text if ch not in " -\t")
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits if damm_valid(digits) else None


def codes_match(expected: str, typed: str) -> bool:
    """Whether `typed` is the code `expected` (as enrolment_code writes it), compared in
    constant time."""
    wanted = normalise_code(expected)
    given = normalise_code(typed)
    if wanted is None or given is None:
        return False
    return hmac.compare_digest(wanted, given)
