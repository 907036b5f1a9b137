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

#: The CSV export's titles and headings (core.statistics.csv_export.CSV_WORDS) in the page's
#: language (in English, the words themselves, "share_met" and the like included).
CSV_WORDS = {
    "candor dashboard": _l("candor dashboard"),
    "period": _l("period"),
    "category": _l("category"),
    "channel": _l("channel"),
    "cases": _l("cases"),
    "total": _l("total"),
    "cases by category and month": _l("cases by category and month"),
    "cases by channel": _l("cases by channel"),
    "cases by scope decision": _l("cases by scope decision"),
    "scope decision": _l("scope decision"),
    "cases by finding (latest decision)": _l("cases by finding (latest decision)"),
    "finding": _l("finding"),
    "cases by root cause (latest decision)": _l("cases by root cause (latest decision)"),
    "root cause": _l("root cause"),
    "cases by sanction type (a case may have several)":
        _l("cases by sanction type (a case may have several)"),
    "sanction": _l("sanction"),
    "cases by recognition type (a case may have several)":
        _l("cases by recognition type (a case may have several)"),
    "recognition": _l("recognition"),
    "acknowledgement deadline": _l("acknowledgement deadline"),
    "feedback deadline": _l("feedback deadline"),
    "outcome": _l("outcome"),
    "share_met": _l("share_met"),
    "median_days": _l("median_days"),
    "p90_days": _l("p90_days"),
    "corrective actions": _l("corrective actions"),
    "actions": _l("actions"),
    "share_on_time": _l("share_on_time"),
    "reporters' satisfaction": _l("reporters' satisfaction"),
    "answer": _l("answer"),
    "share_satisfied": _l("share_satisfied"),
}


def csv_words() -> dict[str, str]:
    """CSV_WORDS in the current request's language."""
    return {english: str(word) for english, word in CSV_WORDS.items()}


_DOMAIN: tuple[dict[Any, Any], ...] = (
    labels.CHANNEL, labels.SCOPE, labels.FINDING, labels.ROOT_CAUSE, labels.SANCTION,
    labels.RECOGNITION, OUTCOMES, OTHER_ROWS)


def row_label(key: str, category_names: dict[str, str], *, category: bool = False) -> str:
    """The label of a row key: a category's name (`category`: a row of the category grid or
    a category's early warning), else a domain code's word; or the key itself. Which one is
    never guessed from the key: an organisation's category codes may be any word ("other",
    "web", "training"), the same as a root cause's, a channel's or a sanction's."""
    if category:
        return category_names.get(key, key)
    for table in _DOMAIN:
        for code, label in table.items():
            if str(code) == key:
                return str(label)
    return key


def category_names(categories: list[Category], language: str) -> dict[str, str]:
    """Each category's code -> its name in `language` (a console locale code)."""
    return {c.code: labels.category_name(c, language) for c in categories}
