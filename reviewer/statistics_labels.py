"""The statistics page's words for the row keys of core.statistics.figures (enum values come
from reviewer.labels; these are the rows that are not a domain code)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from core.models import Category, Satisfaction
from core.statistics import figures as f
from reviewer import labels

OUTCOMES = {
    f.ON_TIME: _l("On time"),
    f.LATE: _l("Late"),
    f.OVERDUE: _l("Open and overdue"),
    f.NOT_DUE: _l("Open, not yet due"),
    f.NOT_OWED: _l("Not owed (case ended without it)"),
    f.DONE_ON_TIME: _l("Done on time"),
    f.DONE_LATE: _l("Done late"),
    f.OPEN_OVERDUE: _l("Open and overdue"),
    f.OPEN_NOT_DUE: _l("Open, not yet due"),
}

OTHER_ROWS = {
    f.NO_CATEGORY: _l("No category"),
    f.PENDING: _l("No scope decision yet"),
    f.NO_DECISION: _l("No decision yet"),
    f.UNSPECIFIED: _l("Not given"),
    f.NO_ANSWER: _l("No answer"),
    Satisfaction.SATISFIED.value: _l("Satisfied"),
    Satisfaction.NOT_SATISFIED.value: _l("Not satisfied"),
}

_DOMAIN: tuple[dict[Any, Any], ...] = (
    labels.CHANNEL, labels.SCOPE, labels.FINDING, labels.ROOT_CAUSE, labels.SANCTION,
    labels.RECOGNITION, OUTCOMES, OTHER_ROWS)


def row_label(key: str, category_names: dict[str, str]) -> str:
    """The label of a row key: a category's name, a domain code's word, or the key itself."""
    if key in category_names:
        return category_names[key]
    for table in _DOMAIN:
        for code, label in table.items():
            if str(code) == key:
                return str(label)
    return key


def category_names(categories: list[Category], language: str) -> dict[str, str]:
    """Each category's code -> its name in `language` (a console locale code)."""
    return {c.code: labels.category_name(c, language) for c in categories}
