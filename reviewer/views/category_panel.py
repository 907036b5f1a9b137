"""The case page's category panel: the category suggested from the report's text (with the
words that weighed most) and the form to change or confirm the category. The POST route that
saves it is reviewer.views.handling.category."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from core.cases.category_examples import category_words, is_confirmed, learned_model
from core.cases.views import CaseView
from core.categories.lookup import active_categories
from core.categories.suggestions import Suggestion, seeded_by_description, suggest
from core.models import Case, CaseStatus
from reviewer.casework_forms import CategoryForm
from reviewer.console import console
from reviewer.labels import category_name
from reviewer.session import current
from web import current_language
from web.database import db
from web.forms import as_choices


@dataclass(frozen=True)
class ShownSuggestion:
    """A suggested category with its name in the page's language, why, how many confirmed
    cases the model learned from (0: none), and whether the category has no keyword rules
    (one the organisation added without keywords: known by its names and descriptions)."""

    code: str
    name: str
    words: str
    learned_from: int
    from_description: bool = False
    #: The suggestion is the case's category already: said, so that the handler knows the
    #: suggester was asked (outside tester: nothing showed), with no button to use it.
    agrees: bool = False


def category_suggestion(case: Case, view: CaseView) -> ShownSuggestion | None:
    """A category suggested from the report's text, until a handler confirms the category.

    The model (core.cases.category_examples) is the keyword rules and the operator's keywords
    (for a category an operator added without keywords: its names and descriptions) plus the
    categories confirmed on the cases this handler is on the team of, trained in memory for
    this page and not stored; reading those examples is audited. Shown when it is active;
    `agrees` when it is the case's category already."""
    if case.status is CaseStatus.CLOSED or is_confirmed(db(), case.id):
        return None  # the page offers no category form, or the suggestion has done its job
    active = {c.code: c for c in active_categories(db())}
    words = {code: category_words(c) for code, c in active.items()}
    learned = learned_model(db(), console().services, current().unlocked, list(words.values()))
    suggestion: Suggestion | None = suggest(view.report.words(), learned.model)
    if suggestion is None or suggestion.category not in active:
        return None
    return ShownSuggestion(
        suggestion.category, category_name(active[suggestion.category], current_language()),
        ", ".join(reason.word for reason in suggestion.why), learned.examples,
        from_description=seeded_by_description(words[suggestion.category]),
        agrees=case.category is not None and suggestion.category == case.category.code)


def category_form(current_code: str | None = None, *,
                  formdata: Any = None) -> CategoryForm:
    """The category form with the active categories (by name in the page's language).

    A case whose category was deactivated since gets an empty first choice, selected: the
    browser would otherwise preselect the first active category, and one click on "Save"
    would move the case there without anyone choosing it."""
    language = current_language()
    choices = [(c.code, category_name(c, language)) for c in active_categories(db())]
    if current_code is not None and current_code not in dict(choices):
        choices.insert(0, ("", str(_("Choose an active category"))))
        current_code = ""
    form = CategoryForm(formdata=formdata, prefix="cat", category=current_code)
    form.category.choices = as_choices(choices)
    return form
