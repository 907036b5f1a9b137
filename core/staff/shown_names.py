"""The names reporters see of staff: a display name, or the username of an account without one.

Reporters choose whom to leave out of their report by these names on the form, so two
active accounts must never look alike there (outside testers: one admin could rename a
handler to another's name, then to look-alikes of it: Cyrillic "А" for Latin "A", full-width
letters, a dotless "ı", an invisible character at the end).

- clean_display_name keeps one line of visible characters: every kind of space becomes one
  plain space; control, format (bidi overrides, zero-width), private-use and unassigned
  characters, and characters that show as blank (Hangul fillers, the braille blank,
  variation selectors, the combining grapheme joiner), are refused rather than dropped, so
  that what is saved is what was typed.
- check_shown_name_free compares skeletons (a name has two: a capital I read as i and as l):
  the name decomposed (NFKD), without combining marks, with letters that look like Latin
  ones (Cyrillic, Greek, a few Latin variants, digits 0 and 1) mapped to them, "rn" read as
  "m", case ignored and only letters and digits kept. Two names with the same skeleton would
  look alike to a reporter. This is the idea of Unicode's confusable skeletons (UTS #39) for
  the scripts staff names here use; it does not claim to cover every script.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.log import locked_head
from core.errors import InvalidInput
from core.models import Reviewer

MAX_DISPLAY_NAME = 120

#: Characters that are letters or symbols to Unicode but show as nothing.
_BLANK = frozenset({0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x2800, 0x3164, 0xFFA0})
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})

#: Letters drawn like Latin ones, by what they look like (before case is folded).
_LOOKS_LATIN = str.maketrans({
    # Cyrillic
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "d",
    "а": "a", "в": "b", "г": "r", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    "ь": "b",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "α": "a", "γ": "y",
    "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w",
    # Latin variants, and digits drawn like letters
    "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŀ": "l", "ɑ": "a",
    "ɡ": "g", "ʏ": "y", "ſ": "s", "ℓ": "l", "1": "l", "|": "l", "0": "o",
})
#: A capital I is drawn like a small L in many fonts, but "IVY" is also "ivy": both readings.
_CAPITAL_I_AS_L = str.maketrans({"I": "l"})


def clean_display_name(name: str | None) -> str | None:
    """The name reporters see: one line of visible characters, spaces of every kind made
    one plain space, at most MAX_DISPLAY_NAME characters; None or blank: none. InvalidInput
    (field display_name) for an invisible or control character, or a name too long."""
    if name is None:
        return None
    spaced = " ".join(unicodedata.normalize("NFC", name).split())
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES or ord(ch) in _BLANK
           or (0xFE00 <= ord(ch) <= 0xFE0F) or (0xE0100 <= ord(ch) <= 0xE01EF)
           for ch in spaced):
        raise InvalidInput("A display name may contain only visible characters and spaces.",
                           field="display_name")
    if len(spaced) > MAX_DISPLAY_NAME:
        raise InvalidInput(f"A display name is at most {MAX_DISPLAY_NAME} characters.",
                           field="display_name")
    return spaced or None


def skeletons(shown: str) -> frozenset[str]:
    """What a name looks like, for telling whether two names look alike (module docstring):
    two names look alike when they share a skeleton. Two, because a capital I reads both as
    an i (ignoring case) and as a small L (in the fonts most pages use)."""
    decomposed = unicodedata.normalize("NFKD", shown)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Me"))
    return frozenset(_skeleton(reading) for reading in (bare, bare.translate(_CAPITAL_I_AS_L)))


def _skeleton(bare: str) -> str:
    latin = bare.translate(_LOOKS_LATIN).casefold().translate(_LOOKS_LATIN)
    return "".join(ch for ch in latin if ch.isalnum()).replace("rn", "m")


def check_shown_name_free(session: Session, shown: str, *,
                          reviewer_id: int | None = None) -> None:
    """Refuse a name reporters would see (a display name, or the username of an account
    without one) that looks like the name another active account is shown under (the same
    skeleton): InvalidInput, field display_name.

    The audit head is locked first (core.audit.log.locked_head, which every audited change
    takes anyway): two transactions choosing names run one after the other, and the second
    sees the first's name (outside tester: two renames approved at the same moment both
    passed on PostgreSQL)."""
    locked_head(session)
    wanted = skeletons(shown)
    for other_id, username, display in session.execute(
            select(Reviewer.id, Reviewer.username, Reviewer.display_name)
            .where(Reviewer.active.is_(True))):
        if other_id != reviewer_id and wanted & skeletons(display or username):
            raise InvalidInput("Another account is shown to reporters under this name: "
                               "choose one that tells them apart.", field="display_name")
