"""Operators manage report categories: add, edit, reorder, deactivate, reactivate, route.

Positions are what an operator sees: 1 is the top of the submission form. They count every
category, active or not, so a reactivated category returns to the place it had. The stored
`Category.position` is only a sort key; every use case here renumbers it densely (0, 1, ...)
under a row lock, in display order.

Codes never change once created: cases, filters and links refer to them. Each change writes
its audit event in the caller's transaction; the detail holds the code, positions and the
names of changed fields, never the text itself (like the other admin events).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.audit.log import Actor, AuditAction, record_event
from core.categories.intake_routes import set_intake
from core.categories.lookup import (
    CODE_PATTERN,
    KEYWORD_SEPARATORS,
    get_category,
    join_keywords,
    split_keywords,
)
from core.categories.tokens import telling_words
from core.errors import Conflict, InvalidInput
from core.models import Category, Reviewer, Role
from core.services import Services
from core.staff.accounts import get_reviewer
from core.staff.keys import may_hold_case_keys

MAX_NAME = 120
MAX_DESCRIPTION = 1000
#: An operator's keyword terms for a category: how many characters in all (as stored, terms
#: joined by ", "), how many terms and how long one term may be.
MAX_KEYWORDS_TEXT = 2000
MAX_KEYWORDS = 100
MAX_KEYWORD = 60

#: Bidirectional embeddings, overrides and isolates: they can make text display as something
#: other than what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Control characters (tabs and newlines too), surrogates, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})

#: Text fields of a category, in the order they are reported, with their labels in messages.
FIELD_LABELS = {"name_en": "English name", "name_zh": "Chinese name",
                "description_en": "English description", "description_zh": "Chinese description",
                "keywords": "keywords"}
#: The names and descriptions (the keywords are checked by ``checked_keywords``).
TEXT_FIELDS = ("name_en", "name_zh", "description_en", "description_zh")
#: Every field ``edit_category`` can change, in the order changes are reported.
EDITABLE_FIELDS = (*TEXT_FIELDS, "keywords")


@dataclass(frozen=True)
class CategoryEdit:
    """An edited category and the fields that actually changed (empty: nothing did)."""

    category: Category
    changed: tuple[str, ...]


def _checked_code(code: str) -> str:
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidInput("A category code is 1-32 characters: lowercase a-z, 0-9 and "
                           f"underscore (got {code!r}).", field="code")
    return code


def _refuse_controls(field: str, value: str, *, invisible_too: bool = False) -> None:
    """InvalidInput if `value` holds a control or bidirectional formatting character; with
    `invisible_too`, any formatting character (zero-width spaces, joiners, marks, BOM)."""
    for char in value:
        kind = unicodedata.category(char)
        if char in _BIDI_CONTROLS or kind in _REFUSED_CATEGORIES or (
                invisible_too and kind == "Cf"):
            raise InvalidInput(f"The {FIELD_LABELS[field]} must not contain control "
                               f"characters (found U+{ord(char):04X}); write it on one line.",
                               field=field)


def _checked_text(field: str, value: str, *, required: bool, limit: int) -> str:
    """Surrounding whitespace removed; refused if it holds a control character, is longer than
    `limit` characters, or is empty when `required`."""
    label = FIELD_LABELS[field]
    # Invisible characters too: "a\u200bb" would show as "ab" beside a category named "ab".
    _refuse_controls(field, value, invisible_too=True)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"The {label} must not be empty.", field=field)
    if len(value) > limit:
        raise InvalidInput(f"The {label} is {len(value)} characters long; the limit is "
                           f"{limit}.", field=field)
    return value


def checked_keywords(value: str) -> str:
    """An operator's keyword terms as stored: "term, term, ..." ("" for none).

    Terms are separated by commas (also the Chinese ，and 、) or semicolons (also ；);
    surrounding spaces are removed, empty terms and repeats (ignoring case and full-width
    forms) dropped. Refused, with the reason: control and invisible formatting characters,
    separators and nothing else, more than ``MAX_KEYWORDS`` terms, a term longer than
    ``MAX_KEYWORD`` characters, a term made only of words that say nothing about a category
    ("the", "问题", core.categories.tokens.telling_words: it would count for nothing or draw
    every kind of report), or more than ``MAX_KEYWORDS_TEXT`` characters in all.
    """
    _refuse_controls("keywords", value, invisible_too=True)
    terms = split_keywords(value)
    if value.strip() and not terms:
        raise InvalidInput("The keywords hold only separators; write terms between the commas, "
                           "or '' to clear them.", field="keywords")
    if len(terms) > MAX_KEYWORDS:
        raise InvalidInput(f"There are {len(terms)} keywords; the limit is {MAX_KEYWORDS} per "
                           "category.", field="keywords")
    for term in terms:
        if len(term) > MAX_KEYWORD:
            raise InvalidInput(f"The keyword {term[:20]!r}... is {len(term)} characters long; "
                               f"the limit is {MAX_KEYWORD}. Separate keywords with commas "
                               f"({' '.join(KEYWORD_SEPARATORS)}).", field="keywords")
        if not telling_words(term):
            raise InvalidInput(f"The keyword {term!r} gives suggestions nothing to go on: it "
                               "holds no word they can use (only common words such as "
                               "\"the\" or \"问题\", single letters, or no letters a-z or "
                               "Chinese characters). Leave it out or write a more specific "
                               "word.", field="keywords")
    stored = join_keywords(terms)
    if len(stored) > MAX_KEYWORDS_TEXT:
        raise InvalidInput(f"The keywords take {len(stored)} characters; the limit is "
                           f"{MAX_KEYWORDS_TEXT}.", field="keywords")
    return stored


def _checked_texts(values: dict[str, str | None], *, names_required: bool) -> dict[str, str]:
    """The given (not None) text fields, checked. Names may never be empty; with
    `names_required`, both must be given."""
    checked: dict[str, str] = {}
    for field in TEXT_FIELDS:
        value = values.get(field)
        is_name = field.startswith("name_")
        if value is None:
            if is_name and names_required:
                raise InvalidInput(f"The {FIELD_LABELS[field]} is required: every category "
                                   "has an English and a Chinese name.", field=field)
            continue
        checked[field] = _checked_text(field, value, required=is_name,
                                       limit=MAX_NAME if is_name else MAX_DESCRIPTION)
    return checked


def _refuse_same_names(categories: list[Category], texts: dict[str, str],
                       code: str) -> None:
    """InvalidInput if a new name is another category's name in the same language (ignoring
    case and full-width forms): reporters choose by name, and two alike cannot be told apart."""
    for field in ("name_en", "name_zh"):
        if field not in texts:
            continue
        wanted = unicodedata.normalize("NFKC", texts[field]).casefold()
        for other in categories:
            if other.code != code and unicodedata.normalize(
                    "NFKC", getattr(other, field)).casefold() == wanted:
                raise InvalidInput(f"The {FIELD_LABELS[field]} {texts[field]!r} is already "
                                   f"the name of category {other.code!r}; choose another so "
                                   "that reporters can tell them apart.", field=field)


def _ordered_locked(session: Session) -> list[Category]:
    """Every category in display order, with the table locked against other changes so
    that concurrent additions and reorderings queue instead of interleaving.

    On PostgreSQL, SHARE ROW EXCLUSIVE: row locks (FOR UPDATE) would not cover a row another
    transaction is inserting, so two additions could both take position 1. It still lets
    submissions read categories and reference them. SQLite writers are serialised already
    (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE"))
    return list(session.execute(
        select(Category).order_by(Category.position, Category.id)
        .execution_options(populate_existing=True)
    ).scalars())


def _locked_with(session: Session, code: str) -> tuple[list[Category], Category]:
    """Every category in display order (locked) and the one with that code, or NotFound."""
    get_category(session, code)
    ordered = _ordered_locked(session)
    return ordered, next(c for c in ordered if c.code == code)


def _renumber(categories: list[Category]) -> None:
    for index, category in enumerate(categories):
        if category.position != index:
            category.position = index


def _checked_position(position: int, highest: int) -> int:
    """The 0-based index of a 1-based position between 1 and `highest`."""
    if not 1 <= position <= highest:
        raise InvalidInput(f"Position {position} is out of range: choose 1 to {highest}.",
                           field="position")
    return position - 1


def add_category(
    session: Session,
    services: Services,
    *,
    code: str,
    name_en: str,
    name_zh: str,
    description_en: str = "",
    description_zh: str = "",
    keywords: str = "",
    position: int | None = None,
    actor: Actor | None = None,
) -> Category:
    """Add an active category at `position` (1 = top; default: the end of the list), with
    the operator's `keywords` for category suggestions (``checked_keywords``)."""
    code = _checked_code(code)
    texts = _checked_texts({"name_en": name_en, "name_zh": name_zh,
                            "description_en": description_en,
                            "description_zh": description_zh}, names_required=True)
    texts["keywords"] = checked_keywords(keywords)
    ordered = _ordered_locked(session)
    if any(c.code == code for c in ordered):
        raise Conflict(f"a category {code!r} already exists")
    _refuse_same_names(ordered, texts, code)
    index = len(ordered) if position is None else _checked_position(position, len(ordered) + 1)
    category = Category(code=code, active=True, position=index, **texts)
    ordered.insert(index, category)
    _renumber(ordered)
    session.add(category)
    session.flush()
    record_event(session, services.clock, AuditAction.CATEGORY_ADDED, actor or Actor.system(),
                 detail={"category": code, "position": index + 1})
    return category


def edit_category(
    session: Session,
    services: Services,
    code: str,
    *,
    name_en: str | None = None,
    name_zh: str | None = None,
    description_en: str | None = None,
    description_zh: str | None = None,
    keywords: str | None = None,
    actor: Actor | None = None,
) -> CategoryEdit:
    """Change any of a category's names, descriptions and keywords (None: leave as is; ""
    clears a description or the keywords). Writes an event only if something actually
    changed."""
    given = {"name_en": name_en, "name_zh": name_zh, "description_en": description_en,
             "description_zh": description_zh}
    if all(value is None for value in (*given.values(), keywords)):
        raise InvalidInput("Nothing to change: give a new name, description or keywords.")
    texts = _checked_texts(given, names_required=False)
    if keywords is not None:
        texts["keywords"] = checked_keywords(keywords)
    category = get_category(session, code)
    _refuse_same_names(_ordered_locked(session), texts, category.code)
    changed = tuple(f for f in EDITABLE_FIELDS
                    if f in texts and getattr(category, f) != texts[f])
    for field in changed:
        setattr(category, field, texts[field])
    if changed:
        session.flush()
        record_event(session, services.clock, AuditAction.CATEGORY_EDITED,
                     actor or Actor.system(),
                     detail={"category": category.code, "fields": ",".join(changed)})
    return CategoryEdit(category=category, changed=changed)


def move_category(
    session: Session,
    services: Services,
    code: str,
    position: int,
    *,
    actor: Actor | None = None,
) -> Category:
    """Move a category to `position` (1 = top of the form); the others keep their order.
    Writes an event only if the position changes."""
    ordered, category = _locked_with(session, code)
    index = _checked_position(position, len(ordered))
    old_index = ordered.index(category)
    ordered.remove(category)
    ordered.insert(index, category)
    _renumber(ordered)
    session.flush()
    if index != old_index:
        record_event(session, services.clock, AuditAction.CATEGORY_MOVED,
                     actor or Actor.system(),
                     detail={"category": code, "from": old_index + 1, "to": index + 1})
    return category


def set_category_active(
    session: Session,
    services: Services,
    code: str,
    active: bool,
    *,
    actor: Actor | None = None,
) -> Category:
    """Deactivate (hide from the submission form) or reactivate a category. Existing cases
    keep it. The last active category cannot be deactivated: the form needs one."""
    ordered, category = _locked_with(session, code)
    if category.active == active:
        raise Conflict(f"category {code!r} is already {'active' if active else 'deactivated'}")
    if not active and not any(c.active for c in ordered if c is not category):
        raise InvalidInput(f"{code!r} is the last active category and the submission form "
                           "needs one: activate or add another category first.")
    category.active = active
    session.flush()
    action = AuditAction.CATEGORY_ACTIVATED if active else AuditAction.CATEGORY_DEACTIVATED
    record_event(session, services.clock, action, actor or Actor.system(),
                 detail={"category": code})
    return category


def route_intake(
    session: Session,
    services: Services,
    code: str,
    usernames: list[str],
    *,
    actor: Actor | None = None,
) -> Category:
    """Make these case handlers (by username; none: nobody) the intake of a category, at once:
    the operator's command (the console's routing waits for a second admin,
    core.staff.approvals). Each must have completed enrolment. New reports are granted to
    them."""
    category = get_category(session, code)
    chosen: list[Reviewer] = []
    for username in dict.fromkeys(u.strip().lower() for u in usernames):
        reviewer = get_reviewer(session, username)
        if reviewer.role is Role.REVIEWER and reviewer.active and not may_hold_case_keys(
                reviewer):
            raise InvalidInput(f"{reviewer.username} cannot receive reports yet: they log in, "
                               "set up TOTP and choose their own passphrase first.",
                               field="reviewers")
        chosen.append(reviewer)
    set_intake(session, services.keyring, category.code, chosen)
    record_event(session, services.clock, AuditAction.CATEGORY_CHANGED, actor or Actor.system(),
                 detail={"category": category.code, "intake": len(chosen)})
    return category
