"""The periodic review report (定期检视): the figures of a period as one self-contained HTML
document and as PDF, in the console's languages, for `candor report` and the statistics page.

It shows what the dashboard shows, drawn from the same figures and suppressed the same way
(core.statistics.review), plus the previous period's total and the early warnings of each
complete month. Charts are inlined as data: URLs, so the HTML opens anywhere and the PDF
renderer fetches nothing (reviewer.pdf).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from functools import partial

from flask import Flask, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from core.categories.lookup import list_categories
from core.statistics.periods import Period
from core.statistics.review import Review, review_figures
from reviewer.pdf import FONT_STACK, html_to_pdf
from reviewer.statistics_charts import chart_svg, drawn_charts
from reviewer.statistics_labels import category_names, row_label
from web import current_language, html_lang
from web.database import commit, db

#: The languages a report can be made in: what `--language` accepts -> the console's locale.
LANGUAGES = {"en": "en", "zh": "zh_CN"}


@dataclass(frozen=True)
class RenderedReview:
    """One review report: the HTML document, its PDF (None when not asked for), and a file
    name stem."""

    html: str
    pdf: bytes | None
    stem: str


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def review_title(period: Period) -> str:
    """The report's title in the current language."""
    title: str = _("Review of the reporting process, %(period)s", period=period.label)
    return title


def review_html(review: Review, names: dict[str, str]) -> str:
    """The report as a complete HTML document in the current request's language.
    `names` maps category codes to their names in that language."""
    details = review.figures.details
    charts: dict[str, str] = {}
    for name in drawn_charts(details):
        assert details is not None  # drawn_charts(None) is empty
        charts[name] = _data_uri(chart_svg(details, name, names))
    return render_template(
        "reviewer/review_report.html", review=review, figures=review.figures,
        charts=charts, title=review_title(review.figures.period), font_stack=FONT_STACK,
        lang=html_lang(), label=partial(row_label, category_names=names))


def render_review(period: Period, today: date, *, pdf: bool = True) -> RenderedReview:
    """The report of `period` as of `today`, in the current request's language, from the
    request's database session; with its PDF when `pdf` (PdfUnavailable where WeasyPrint
    cannot run: the HTML alone needs no Pango)."""
    review = review_figures(db(), period, today)
    # Keep the month counts just refreshed, and release the recount's locks before the slow
    # PDF layout (a request's success would commit them anyway; the command line would not).
    commit()
    html = review_html(review, category_names(list_categories(db()), current_language()))
    short = {locale: code for code, locale in LANGUAGES.items()}.get(current_language(), "en")
    stem = f"candor-review-{period.label}-{short}"  # as --language names it: en or zh
    return RenderedReview(html=html, stem=stem,
                          pdf=html_to_pdf(html, title=review_title(period)) if pdf else None)


def render_review_offline(app: Flask, period: Period, today: date, language: str, *,
                          pdf: bool = True) -> RenderedReview:
    """`render_review` outside a request (the command line), with `app`'s database, in
    `language` (a LANGUAGES key). KeyError for another language."""
    locale = LANGUAGES[language]
    with app.test_request_context("/"), force_locale(locale):
        return render_review(period, today, pdf=pdf)
