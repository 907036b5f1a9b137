"""Damm check digit (internal to receipt codes, public for tests and tooling).

Damm's quasigroup catches every single-digit substitution and every transposition of two
adjacent digits, the two most common typing errors, with one decimal digit and no letters.
"""

from __future__ import annotations

__all__ = ["damm_check_digit", "damm_valid"]

# The order-10 weakly totally anti-symmetric quasigroup from Damm's 2004 thesis.
_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def _interim(digits: str) -> int:
    interim = 0
    for ch in digits:
        if not ("0" <= ch <= "9"):
            raise ValueError("Damm input must be ASCII digits")
        interim = _TABLE[interim][ord(ch) - 48]
    return interim


def damm_check_digit(digits: str) -> str:
    """Return the Damm check digit (one ASCII digit) for the ASCII digit string *digits*."""
    return str(_interim(digits))


def damm_valid(digits: str) -> bool:
    """Return True if *digits* (payload followed by its check digit) passes the Damm check."""
    return _interim(digits) == 0
